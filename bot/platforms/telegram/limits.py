"""How fast Telegram may be written to: about 30 messages a second overall, one a second per chat."""
from scheduling.notifier import RateLimits

TELEGRAM_LIMITS = RateLimits(per_second=30.0, per_chat_interval=1.0)
