"""Operators can ask whether the installation is ready (`collectbot doctor`) and take a consistent
backup of a running SQLite bot (`collectbot backup`)."""
from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import Engine
from typer.testing import CliRunner

from bot.app.backup import BackupError, backup_sqlite, postgres_commands
from bot.app.cli import app
from bot.floor.config import Settings
from bot.store.database import alembic_config, create_database_engine, upgrade_schema
from bot.app.doctor import Finding, Verdict, examine, healthy
from tests.slack_standin import SlackStandIn
from tests.support import ChatDriver, on_sqlite_only
from tests.telegram_standin import TelegramStandIn


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramStandIn]:
    standin = TelegramStandIn()
    await standin.start()
    yield standin
    await standin.stop()


@pytest.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    standin = SlackStandIn()
    await standin.start()
    yield standin
    await standin.stop()


@pytest.fixture
def migrated(engine: Engine) -> Engine:
    upgrade_schema(engine)
    return engine


def on_telegram(settings: Settings, standin: TelegramStandIn, **extra: object) -> Settings:
    return settings.model_copy(update={"telegram_bot_token": standin.token, "telegram_api_base_url": standin.base_url,
                                       "telegram_file_base_url": standin.file_base_url, **extra})


def on_slack(settings: Settings, standin: SlackStandIn, **extra: object) -> Settings:
    return settings.model_copy(update={"slack_bot_token": "xoxb-test-token", "slack_api_url": standin.api_url,
                                       "slack_signing_secret": standin.signing_secret, **extra})


def finding(findings: list[Finding], topic: str) -> Finding:
    [found] = [f for f in findings if f.topic == topic]
    return found


async def test_doctor_finds_a_ready_installation_ready(migrated: Engine, settings: Settings, database_url: tuple[str, str | None],
                                                       telegram: TelegramStandIn, slack: SlackStandIn) -> None:
    both = on_slack(on_telegram(settings, telegram), slack)
    findings = await examine(both, schema=database_url[1])
    assert healthy(findings), [f.lines() for f in findings]
    assert "schema is current" in finding(findings, "Migrations").says
    assert "@CollectTestBot" in finding(findings, "Telegram token").says
    assert "collectbot in workspace Test" in finding(findings, "Slack token").says
    assert "long polling" in finding(findings, "Telegram updates").says
    assert [call.method for call in telegram.calls] == ["getMe"], "the doctor changes nothing on Telegram"


async def test_doctor_says_which_token_was_refused_and_where_to_get_a_new_one(migrated: Engine, settings: Settings,
                                                                            database_url: tuple[str, str | None],
                                                                            telegram: TelegramStandIn, slack: SlackStandIn) -> None:
    wrong = on_slack(on_telegram(settings, telegram, telegram_bot_token="123456:WRONG"), slack, slack_bot_token="bad-token")
    findings = await examine(wrong, schema=database_url[1])
    assert not healthy(findings)
    refused = finding(findings, "Telegram token")
    assert refused.verdict == Verdict.PROBLEM and "refused TELEGRAM_BOT_TOKEN" in refused.says and "@BotFather" in refused.todo
    refused = finding(findings, "Slack token")
    assert refused.verdict == Verdict.PROBLEM and "not_authed" in refused.says and "xoxb-" in refused.todo


async def test_doctor_checks_the_socket_mode_token_too(migrated: Engine, settings: Settings, database_url: tuple[str, str | None],
                                                      slack: SlackStandIn) -> None:
    findings = await examine(on_slack(settings, slack, slack_app_token="xapp-1-test"), schema=database_url[1])
    assert finding(findings, "Slack Socket Mode").verdict == Verdict.OK
    assert [call.method for call in slack.calls] == ["auth.test", "apps.connections.open"]


async def test_doctor_reports_an_unreachable_platform_in_plain_words(migrated: Engine, settings: Settings,
                                                                    database_url: tuple[str, str | None]) -> None:
    nowhere = settings.model_copy(update={"telegram_bot_token": "1:X", "telegram_api_base_url": "http://127.0.0.1:9/bot"})
    findings = await examine(nowhere, schema=database_url[1])
    unreachable = finding(findings, "Telegram token")
    assert unreachable.verdict == Verdict.PROBLEM and "could not reach the Bot API at 127.0.0.1:9" in unreachable.says


async def test_doctor_probes_the_webhook_and_relays_telegrams_last_delivery_error(
        migrated: Engine, settings: Settings, database_url: tuple[str, str | None], telegram: TelegramStandIn) -> None:
    proxy = web.Application()

    async def refuse_unsigned(request: web.Request) -> web.Response:
        return web.Response(status=403)

    proxy.router.add_post("/telegram", refuse_unsigned)
    runner = web.AppRunner(proxy)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        hooked = on_telegram(settings, telegram, telegram_webhook_url=f"http://127.0.0.1:{port}/telegram")
        telegram.webhook_url = hooked.telegram_webhook_url
        findings = await examine(hooked, schema=database_url[1])
        [probe] = [f for f in findings if f.topic == "Telegram webhook"]
        assert probe.verdict == Verdict.OK and "answers (HTTP 403" in probe.says
        telegram.webhook_error = "Connection refused"
        findings = await examine(hooked, schema=database_url[1])
        failed = [f for f in findings if f.topic == "Telegram webhook" and f.verdict == Verdict.PROBLEM]
        assert failed and "last attempt to deliver" in failed[0].says and "Connection refused" in failed[0].says
    finally:
        await runner.cleanup()
    findings = await examine(hooked, schema=database_url[1])
    assert any(f.topic == "Telegram webhook" and "not reachable from here" in f.says for f in findings)


async def test_doctor_refuses_a_webhook_telegram_cannot_call(migrated: Engine, settings: Settings,
                                                            database_url: tuple[str, str | None]) -> None:
    from bot.app.doctor import check_telegram_webhook

    class Bot:
        async def get_webhook_info(self) -> object:
            raise OSError("offline")

    plain_http = settings.model_copy(update={"telegram_webhook_url": "http://bot.example.com:3000/telegram"})
    findings = await check_telegram_webhook(plain_http, Bot())
    assert findings[0].verdict == Verdict.PROBLEM and "only to HTTPS on ports 443, 80, 88 or 8443" in findings[0].says


async def test_doctor_tells_to_migrate_a_database_that_is_behind(engine: Engine, settings: Settings,
                                                                database_url: tuple[str, str | None]) -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), "0001")
    findings = await examine(settings, schema=database_url[1])
    behind = finding(findings, "Migrations")
    assert behind.verdict == Verdict.WARNING and "behind: at 0001" in behind.says and "collectbot migrate" in behind.todo


async def test_doctor_says_a_newer_version_migrated_the_database(migrated: Engine, settings: Settings,
                                                                database_url: tuple[str, str | None]) -> None:
    import sqlalchemy as sa

    with migrated.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    findings = await examine(settings, schema=database_url[1])
    newer = finding(findings, "Migrations")
    assert newer.verdict == Verdict.PROBLEM and "9999" in newer.says and "newer version" in newer.says


async def test_doctor_reports_an_unreachable_database_and_a_bad_ladder(tmp_path: Path) -> None:
    ladders = tmp_path / "ladders"
    ladders.mkdir()
    (ladders / "broken.yaml").write_text("name: broken\nsteps: [\n", encoding="utf-8")
    settings = Settings(_env_file=None, database_url="postgresql://nobody@127.0.0.1:9/none", ladders_dir=ladders)  # type: ignore[call-arg]
    findings = await examine(settings)
    database = finding(findings, "Database")
    assert database.verdict == Verdict.PROBLEM and "cannot connect to postgresql://nobody@127.0.0.1:9/none: connection failed" in database.says
    ladder = finding(findings, "Ladders")
    assert ladder.verdict == Verdict.PROBLEM and "broken.yaml" in ladder.says


def test_doctor_does_not_create_a_missing_sqlite_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    result = CliRunner().invoke(app, ["doctor"])
    assert "there is no SQLite file at" in result.output and "collectbot migrate" in result.output
    assert not (tmp_path / "none.db").exists()


def test_doctor_exits_non_zero_on_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'ok.db'}")
    monkeypatch.setenv("DEFAULT_LADDER", "gentle")
    upgrade_schema(create_database_engine(f"sqlite:///{tmp_path / 'ok.db'}"))
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 1, result.output
    assert "✘ Ladders: DEFAULT_LADDER='gentle' is not one of" in result.output


# -- backup ----------------------------------------------------------------------------------------

def sqlite_file(database_url: tuple[str, str | None]) -> Path:
    """collectbot backup copies SQLite; PostgreSQL uses pg_dump (tested below)."""
    return Path(database_url[0].removeprefix("sqlite:///"))


@on_sqlite_only
def test_backup_copies_a_running_database_with_everything_in_it(team: ChatDriver, database_url: tuple[str, str | None],
                                                               tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = sqlite_file(database_url)
    team.say("bob", "/add INV-1 100 EUR 2026-12-01 Acme")
    monkeypatch.setenv("DATABASE_URL", database_url[0])
    result = CliRunner().invoke(app, ["backup", "--to", str(tmp_path / "copy.db")])
    assert result.exit_code == 0, result.output
    assert "1 invoices, integrity ok" in result.output and f"copy {tmp_path / 'copy.db'} over {source}" in result.output
    with sqlite3.connect(tmp_path / "copy.db") as copy:
        assert copy.execute("SELECT number FROM invoice").fetchall() == [("INV-1",)]
        assert copy.execute("SELECT count(*) FROM ladder_step").fetchone()[0] > 0


@on_sqlite_only
def test_backup_is_consistent_while_the_bot_keeps_writing(team: ChatDriver, database_url: tuple[str, str | None],
                                                         tmp_path: Path) -> None:
    source = sqlite_file(database_url)
    stop = threading.Event()
    added: list[int] = []

    def keep_adding() -> None:
        while not stop.is_set() and len(added) < 400:
            reply = team.say("bob", f"/add W-{len(added)} 100 EUR 2026-12-01 Acme")
            assert "Added invoice" in reply, reply
            added.append(1)

    writer = threading.Thread(target=keep_adding)
    writer.start()
    try:
        while len(added) < 20:
            threading.Event().wait(0.01)
        result = backup_sqlite(source, tmp_path / "during.db")
    finally:
        stop.set()
        writer.join()
    assert result.integrity == "ok" and 20 <= result.invoices <= len(added)
    with sqlite3.connect(tmp_path / "during.db") as copy:
        orphans = copy.execute("SELECT count(*) FROM ladder_step s LEFT JOIN invoice i ON i.id = s.invoice_id "
                               "WHERE i.id IS NULL").fetchone()[0]
        planned = copy.execute("SELECT count(DISTINCT invoice_id) FROM ladder_step").fetchone()[0]
    assert orphans == 0 and planned == result.invoices, "every invoice in the copy came with its steps: one snapshot"


def test_backup_refuses_to_overwrite_or_to_copy_nothing(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="there is no database file at"):
        backup_sqlite(tmp_path / "missing.db", tmp_path / "copy.db")
    (tmp_path / "real.db").write_bytes(b"")
    (tmp_path / "copy.db").write_bytes(b"keep me")
    with pytest.raises(BackupError, match="already exists"):
        backup_sqlite(tmp_path / "real.db", tmp_path / "copy.db")
    assert (tmp_path / "copy.db").read_bytes() == b"keep me"


def test_backup_of_postgresql_names_the_pg_dump_and_pg_restore_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:secret@db.internal:5432/collectbot")
    result = CliRunner().invoke(app, ["backup"])
    assert result.exit_code == 2
    assert "pg_dump --format=custom" in result.output and "pg_restore --clean" in result.output
    assert "secret" not in result.output, "the password stays in PGPASSWORD or ~/.pgpass, not on a command line"
    assert postgres_commands("postgresql+psycopg://u@h/db")[0].endswith("'postgresql://u@h/db'")


def test_a_container_waits_for_its_database_and_gives_up_in_plain_words(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")
    result = CliRunner().invoke(app, ["wait-for-db", "--timeout", "1.5"])
    assert result.exit_code == 1
    assert "did not answer within 2 s" in result.output and "Connection refused" in result.output


def test_wait_for_db_returns_at_once_when_the_database_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    result = CliRunner().invoke(app, ["wait-for-db", "--timeout", "5"])
    assert result.exit_code == 0 and "answers" in result.output


async def test_commands_run_in_a_pool_of_the_configured_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import threading

    from bot.platforms.console.chat import ConsoleChat
    from bot.platforms.console.platform import ConsolePlatform
    from bot.app.runtime import Runtime

    monkeypatch.setenv("COLLECTBOT_WORKER_THREADS", "3")
    runtime = Runtime.build(Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'pool.db'}"))  # type: ignore[call-arg]
    names: set[str] = set()

    async def busy_commands() -> None:
        def work() -> None:
            names.add(threading.current_thread().name)
            threading.Event().wait(0.05)

        await asyncio.gather(*(asyncio.to_thread(work) for _ in range(12)))

    await runtime.serve([ConsolePlatform(ConsoleChat(runtime.core, "alice", io.StringIO()))], until=busy_commands())
    assert len(names) == 3 and all(name.startswith("collectbot-worker") for name in names)


def test_a_worker_pool_larger_than_the_database_pool_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from bot.floor.tuning import Tuning

    monkeypatch.setenv("COLLECTBOT_WORKER_THREADS", "500")
    with pytest.raises(ValidationError, match="less than or equal to 32"):
        Tuning()
