"""Telegram's own table: buttons whose action does not fit Telegram's 64 bytes of button data."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from bot.store.db_types import UTCDateTime


class ChatButton(SQLModel, table=True):
    """A button whose action cannot travel in the platform's own button data (Telegram allows 64
    bytes, and a question to ask does not fit), kept under a short key so that it still works after
    a restart. The key is derived from the content: the same button is stored once."""

    key: str = Field(primary_key=True, max_length=24)
    platform: str = Field(max_length=16)
    action: str
    asks: str | None = None
    input: str | None = Field(default=None, max_length=8)
    created_at: datetime = Field(sa_type=UTCDateTime)
