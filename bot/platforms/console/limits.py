"""The local console has no rate limit worth the name."""
from scheduling.notifier import RateLimits

CONSOLE_LIMITS = RateLimits(per_second=1000.0, per_chat_interval=0.0)
