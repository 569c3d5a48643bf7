"""A Babel extraction method for the ladder policies (scheduling/ladders/*.yaml): their
descriptions, step names and instructions are text the bot shows a person (pings, /ladders,
/show), so they are in the catalogs; the YAML keeps the English source."""
from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import yaml

TRANSLATED_KEYS = ("description", "name", "instruction")


def extract_ladders(fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel calls this for each ladder file (see babel.cfg): (line, function, message, comments)."""
    lines = fileobj.read().decode("utf-8").splitlines()
    policy = yaml.safe_load("\n".join(lines)) or {}
    texts: list[tuple[str, str]] = [("description", policy.get("description") or "")]
    for step in policy.get("steps") or []:
        texts.extend((key, step.get(key) or "") for key in ("name", "instruction"))
    for key, text in texts:
        if not text:
            continue
        line = next((number for number, raw in enumerate(lines, start=1) if text in raw), 0)
        yield line, "_", text, [f"ladder {policy.get('name')}: {key}"]
