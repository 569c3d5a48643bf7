"""`/import path/to.csv` on the console: the file is read from the path and handed over as if attached."""
from __future__ import annotations

from pathlib import Path

from handlers.grammar import IncomingFile, InputError, parse_command
from handlers.importing import IMPORT_PATH_EXAMPLE, MAX_UPLOAD_BYTES, too_big
from bot.floor.reply import Reply, error_reply
from bot.i18n import _


def import_with_path(text: str, folder: Path) -> tuple[str, IncomingFile] | Reply | None:
    """For `/import <path>` typed on the console: the command to run with the file read from the path
    (relative to `folder`, the directory the console runs in), or an error reply saying what is wrong
    with the path; None for any other line (including `/import confirm=…` from its button)."""
    try:
        command = parse_command(text)
    except InputError:
        return None
    if command is None or command.verb != "import" or not command.words:
        return None
    typed = " ".join(command.words)
    path = (folder / Path(typed).expanduser()) if not Path(typed).expanduser().is_absolute() else Path(typed).expanduser()
    if not path.exists():
        return error_reply(_("There is no file at {path} (relative paths start in {folder}). Give the path of a CSV file "
                             "after /import.", path=typed, folder=folder), IMPORT_PATH_EXAMPLE)
    if not path.is_file():
        return error_reply(_("{path} is a folder, not a file. Give the path of a CSV file after /import.", path=typed),
                           IMPORT_PATH_EXAMPLE)
    size = path.stat().st_size
    if size > MAX_UPLOAD_BYTES:
        return error_reply(too_big(path.name, size), IMPORT_PATH_EXAMPLE)
    try:
        content = path.read_bytes()
    except OSError as error:
        return error_reply(_("I can't read {path}: {error}.", path=typed, error=error.strerror or error), IMPORT_PATH_EXAMPLE)
    options = " ".join(f'{key}="{value}"' if " " in value else f"{key}={value}" for key, value in command.options.items())
    return f"/import {options}".strip(), IncomingFile(path.name, content, "text/csv")
