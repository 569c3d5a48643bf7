"""The gettext catalogs (bot/i18n) are complete and in step with the code: CI fails when a text the
bot writes has no translation in a language, when a translation lost or invented a placeholder, when
an entry is fuzzy or empty, or when the .pot no longer matches what the code says."""
from __future__ import annotations

import io
import string
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from bot.i18n import LANGUAGES, _, ngettext, speaking
from handlers.reports import dso_days_text
from bot.i18n.catalogs import DOMAIN, LOCALE_DIR, compile_in_memory, po_path, translations

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = [language for language in LANGUAGES if language != "en"]


def catalog(language: str) -> Catalog:
    with po_path(language).open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)


def fields(text: str) -> set[str]:
    """The `{placeholders}` of a text, with their conversion and format spec (`{amount!r}`)."""
    return {f"{name}!{conversion}:{spec}" for _literal, name, spec, conversion in string.Formatter().parse(text)
            if name is not None}


def ids(message: Message) -> tuple[str, ...]:
    return message.id if isinstance(message.id, tuple) else (message.id,)


def strings(message: Message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_text_the_bot_writes_has_a_translation_without_fuzzy_or_empty_entries(language: str) -> None:
    found = catalog(language)
    untranslated = [m.id for m in found if m.id and not all(strings(m))]
    fuzzy = [m.id for m in found if m.id and m.fuzzy]
    assert not untranslated, f"{language}: {len(untranslated)} untranslated, e.g. {untranslated[:5]}"
    assert not fuzzy, f"{language}: fuzzy entries {fuzzy[:5]}"
    assert not found.fuzzy, f"{language}: the catalog header is marked fuzzy"


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_exactly_the_placeholders_of_the_english(language: str) -> None:
    wrong = []
    for message in catalog(language):
        if not message.id:
            continue
        expected = set().union(*(fields(text) for text in ids(message)))
        for text in filter(None, strings(message)):  # an empty one is the test above's failure
            got = fields(text)
            # a plural form may leave out {n} where the language says "one" in words; nothing else may go
            if got - expected or (expected - got) - {"n!None:"}:
                wrong.append((message.id, text))
    assert not wrong, f"{language}: placeholders differ in {wrong[:3]}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_each_catalog_has_its_languages_plural_rule(language: str) -> None:
    plurals = {"ru": 3, "bg": 2, "nb": 2}
    assert catalog(language).num_plurals == plurals[language]
    compiled = translations(language)
    assert compiled.ngettext("{n} day", "{n} days", 5) != "{n} days", f"{language} speaks its own plural"


def test_the_template_is_up_to_date_with_the_code(tmp_path: Path) -> None:
    """`make messages` extracts the same ids the committed .pot holds (the .pot is not stale)."""
    fresh = tmp_path / "fresh.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run([str(pybabel), "extract", "-F", str(LOCALE_DIR.parent / "babel.cfg"),
                    "--no-wrap", "-o", str(fresh), "."], cwd=ROOT, check=True, capture_output=True)
    with fresh.open("rb") as handle:
        extracted = {m.id for m in read_po(handle) if m.id}
    with (LOCALE_DIR / f"{DOMAIN}.pot").open("rb") as handle:
        committed = {m.id for m in read_po(handle) if m.id}
    assert extracted == committed, (f"run `make messages`: new {sorted(map(str, extracted - committed))[:5]}, "
                                    f"gone {sorted(map(str, committed - extracted))[:5]}")
    for language in TRANSLATED:
        assert {m.id for m in catalog(language) if m.id} == committed, f"{language}.po is not updated from the .pot"


def test_russian_and_bulgarian_count_days_their_own_way() -> None:
    with speaking("ru"):
        assert [ngettext("{n} day", "{n} days", n) for n in (1, 2, 5, 21, 22, 25, 11)] == [
            "1 день", "2 дня", "5 дней", "21 день", "22 дня", "25 дней", "11 дней"]
    with speaking("bg"):
        assert [ngettext("{n} day", "{n} days", n) for n in (1, 2, 5)] == ["1 ден", "2 дни", "5 дни"]
    with speaking("nb"):
        assert [ngettext("{n} day", "{n} days", n) for n in (1, 2)] == ["1 dag", "2 dager"]


def test_a_catalog_not_compiled_yet_is_compiled_in_memory_from_its_po() -> None:
    """A fresh clone before `make install` has no .mo: the bot still speaks every language."""
    buffer = compile_in_memory(po_path("ru"))
    assert isinstance(buffer, io.BytesIO) and buffer.getbuffer().nbytes > 1000
    with speaking("ru"):
        assert _("What I can do") == "Что я умею"
    with speaking("xx"):
        assert _("What I can do") == "What I can do"


@pytest.mark.parametrize(("language", "locale", "days", "expected"), [
    ("ru", "ru_RU", "21.0", "21,0 дня"), ("ru", "ru_RU", "1.0", "1,0 дня"), ("ru", "ru_RU", "25.4", "25,4 дня"),
    ("en", "en_GB", "1.0", "1.0 days"), ("nb", "nb_NO", "21.0", "21,0 dager"), ("bg", "bg_BG", "1.0", "1,0 дни"),
])
def test_a_dso_written_with_decimals_takes_the_plural_form_of_a_fraction(language: str, locale: str, days: str,
                                                                          expected: str) -> None:
    """"21,0 день" read as if 21 were a whole count; a number with a decimal is never singular."""
    with speaking(language):
        assert dso_days_text(Decimal(days), True, locale) == expected
