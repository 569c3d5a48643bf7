"""Telegram adapter."""
from bot.platforms.telegram.platform import TelegramPlatform, build_platform

__all__ = ["TelegramPlatform", "build_platform"]
