"""A `Reply` as JSON and back, for pings stored as rendered (files are not part of pings)."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from bot.floor.reply import BulletList, Button, DraftText, Facts, Paragraph, Reply, Table

BLOCK_TYPES = {cls.__name__: cls for cls in (Paragraph, Facts, Table, BulletList, DraftText)}


def reply_to_json(reply: Reply) -> dict[str, Any]:
    assert not reply.files, "pings carry no files"
    return {
        "title": reply.title, "is_error": reply.is_error, "example": reply.example, "private": reply.private,
        "step_ids": list(reply.step_ids), "language": reply.language, "repeat": reply.repeat,
        "repeated_step_ids": list(reply.repeated_step_ids),
        "blocks": [{"type": type(block).__name__, **asdict(block)} for block in reply.blocks],
        "buttons": [asdict(button) for button in reply.buttons],
    }


def _tuples(value: Any) -> Any:
    return tuple(_tuples(item) for item in value) if isinstance(value, list) else value


def reply_from_json(data: dict[str, Any]) -> Reply:
    blocks = []
    for raw in data["blocks"]:
        fields = {key: _tuples(value) for key, value in raw.items() if key != "type"}
        blocks.append(BLOCK_TYPES[raw["type"]](**fields))
    return Reply(title=data["title"], blocks=blocks, buttons=[Button(**button) for button in data["buttons"]],
                 is_error=data["is_error"], example=data["example"], private=data["private"],
                 step_ids=tuple(data["step_ids"]), language=data.get("language", "en"), repeat=data.get("repeat", False),
                 repeated_step_ids=tuple(data.get("repeated_step_ids", ())))
