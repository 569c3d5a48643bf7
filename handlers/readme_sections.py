"""Tables the README holds between two markers, generated from the catalogue (tests fail when they drift)."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def replace_section(path: Path, start: str, end: str, section: str) -> bool:
    """Put `section` (markers included) where the markers stand; True when the file changed."""
    text = path.read_text(encoding="utf-8")
    head, tail = text.index(start), text.index(end) + len(end)
    updated = text[:head] + section + text[tail:]
    if updated != text:
        path.write_text(updated, encoding="utf-8")
    return updated != text


def generate(argv: list[str], table: Callable[[], str], write: Callable[[Path], bool]) -> int:
    """`python -m …` prints the table; `python -m … README.md` writes it into the README."""
    if not argv:
        print(table())
        return 0
    changed = write(Path(argv[0]))
    print(f"{argv[0]}: {'updated' if changed else 'already up to date'}")
    return 0
