"""Loading the compiled catalogs (`.mo`); a catalog not compiled yet (a fresh clone before
`make install`) is compiled in memory from its `.po`, with a warning."""
from __future__ import annotations

import gettext
import io
import logging
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DOMAIN = "collectbot"
LOCALE_DIR = Path(__file__).parent / "locale"
log = logging.getLogger(__name__)


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.mo"


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalog for `language`; English (the source) and a language without a catalog get the
    source text back."""
    if language == "en":
        return gettext.NullTranslations()
    mo, po = mo_path(language), po_path(language)
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as handle:
            return gettext.GNUTranslations(handle)
    if po.exists():
        log.warning("%s is not compiled (or older than its .po): compiling it in memory; run `make install` "
                    "or `pybabel compile -d bot/i18n/locale -D %s`", mo, DOMAIN)
        return gettext.GNUTranslations(compile_in_memory(po))
    log.warning("no catalog for language %r: speaking English", language)
    return gettext.NullTranslations()


def compile_in_memory(po: Path) -> io.BytesIO:
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=po.parent.parent.name, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return buffer
