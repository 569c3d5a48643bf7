"""Slack adapter."""
from bot.platforms.slack.platform import SlackPlatform, build_platform

__all__ = ["SlackPlatform", "build_platform"]
