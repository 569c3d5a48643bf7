"""How fast Slack may be written to: about one message a second per channel."""
from scheduling.notifier import RateLimits

SLACK_LIMITS = RateLimits(per_second=20.0, per_chat_interval=1.0)
