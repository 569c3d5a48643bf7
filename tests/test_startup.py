"""Start-up does only what it must: an unchanged phrasebook is not parsed again and an up-to-date
schema does not wake Alembic; neither shortcut may hide a change."""
from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from bot.store.database import alembic_config, upgrade_schema
from bot.store.schema_version import applied_revisions, head_revisions, known_revisions, schema_is_current
from phrasebook.book import PhrasebookError, load_phrasebook

GOOD_STAGE = Path(__file__).parents[1] / "phrasebook" / "phrases" / "en" / "thank_you.yaml"


@pytest.fixture
def cache_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("COLLECTBOT_CACHE_DIR", str(folder))
    return folder


def test_the_revisions_read_from_the_files_are_alembics(engine: Engine) -> None:
    script = ScriptDirectory.from_config(alembic_config(engine))
    assert head_revisions() == frozenset(script.get_heads())
    assert known_revisions() == frozenset(revision.revision for revision in script.walk_revisions())


def test_a_fresh_database_is_not_current_until_migrated(engine: Engine) -> None:
    assert applied_revisions(engine) is None and not schema_is_current(engine)
    upgrade_schema(engine)
    assert schema_is_current(engine)


def test_a_database_behind_the_newest_migration_is_upgraded(engine: Engine) -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), "0001")
    assert not schema_is_current(engine)
    upgrade_schema(engine)
    assert applied_revisions(engine) == head_revisions()


def test_a_second_load_of_unchanged_phrase_files_comes_from_the_cache(cache_folder: Path, tmp_path: Path) -> None:
    extra = tmp_path / "phrases"
    (extra / "en").mkdir(parents=True)
    (extra / "en" / "thank_you.yaml").write_text(GOOD_STAGE.read_text(encoding="utf-8"), encoding="utf-8")
    first = load_phrasebook(extra, rehearse=False)
    cached = sorted((cache_folder / "phrasebook").glob("*.json"))
    assert len(cached) >= 24, "one checked result per phrase file"
    (extra / "en" / "thank_you.yaml").touch()  # a new mtime: the in-process cache misses, the file cache hits
    again = load_phrasebook(extra, rehearse=False)
    assert again is not first and again.entries == first.entries
    assert sorted((cache_folder / "phrasebook").glob("*.json")) == cached


def test_an_edited_phrase_file_is_checked_again_not_taken_from_the_cache(cache_folder: Path, tmp_path: Path) -> None:
    extra = tmp_path / "phrases"
    (extra / "en").mkdir(parents=True)
    path = extra / "en" / "thank_you.yaml"
    text = GOOD_STAGE.read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    load_phrasebook(extra, rehearse=False)
    path.write_text(text.replace("{{ invoice_number }}", "{{ invoice }}", 1), encoding="utf-8")
    with pytest.raises(PhrasebookError) as refused:
        load_phrasebook(extra, rehearse=False)
    assert any("unknown variable(s) invoice" in problem for problem in refused.value.problems)


def test_an_unwritable_cache_folder_only_costs_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("COLLECTBOT_CACHE_DIR", str(blocker))
    assert load_phrasebook(rehearse=False).variants("en", "thank_you", "warm", "call")
