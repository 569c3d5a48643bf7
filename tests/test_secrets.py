"""No secret in any output: tokens, signing and webhook secrets and the database password are
SecretStr settings, and a real `collectbot run` at LOG_LEVEL=DEBUG talking to the Telegram and
Slack stand-ins prints none of them (findings 6, 18)."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa

from bot.floor.config import Settings, shown_url
from bot.store.database import create_database_engine
from bot.floor.logs import Redactor
from tests.conftest import POSTGRES_URL
from tests.slack_standin import SlackStandIn
from tests.telegram_standin import TelegramStandIn, User
from tests.test_telegram import free_port

TELEGRAM_TOKEN = "7654321:AAH-telegram-token-Zq9"
WEBHOOK_SECRET = "webhook-secret-4f2b9c"
SLACK_TOKEN = "xoxb-slack-token-88c1d2"
SIGNING_SECRET = "signing-secret-e7a4b0"
DB_PASSWORD = "db-password-31d9aa"
SECRETS = (TELEGRAM_TOKEN, TELEGRAM_TOKEN.split(":")[1], WEBHOOK_SECRET, SLACK_TOKEN, SIGNING_SECRET, DB_PASSWORD)
STRANGER = User(999, "Mallory", "mallory")


def test_settings_keep_every_secret_out_of_their_printout() -> None:
    settings = Settings(_env_file=None, telegram_bot_token=TELEGRAM_TOKEN, telegram_webhook_secret=WEBHOOK_SECRET,  # type: ignore[call-arg]
                        slack_bot_token=SLACK_TOKEN, slack_signing_secret=SIGNING_SECRET, slack_app_token="xapp-1-A0-app-token",
                        database_url=f"postgresql://collect:{DB_PASSWORD}@db.internal:5432/collect")
    printed = f"{settings!r} {settings} {settings.model_dump()} {shown_url(settings.database_url)}"
    for secret in (*SECRETS, "xapp-1-A0-app-token"):
        assert secret not in printed
    assert shown_url(settings.database_url) == "postgresql://collect:***@db.internal:5432/collect"
    assert set(settings.secrets) >= {TELEGRAM_TOKEN, WEBHOOK_SECRET, SLACK_TOKEN, SIGNING_SECRET, DB_PASSWORD}


def test_a_bad_log_level_is_refused_with_the_levels(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "bot.app.cli", "migrate"], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "LOG_LEVEL": "LOUD", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}, timeout=60)
    assert result.returncode == 2
    assert "LOG_LEVEL" in result.stderr and "DEBUG, INFO, WARNING" in result.stderr


def test_token_shapes_are_hidden_even_when_nobody_said_they_were_secret() -> None:
    redactor = Redactor()
    line = ("HTTP Request: POST http://127.0.0.1:80/bot123456:TEST-TOKEN/getUpdates; Authorization: Bearer xoxb-1-2-abc; "
            "{'url': 'https://x/tg', 'secret_token': 'abc123xyz'} postgresql://u:pw1234@h/db xapp-1-A-2-x")
    cleaned = redactor.redact(line)
    for secret in ("TEST-TOKEN", "xoxb-1-2-abc", "abc123xyz", "pw1234", "xapp-1-A-2-x"):
        assert secret not in cleaned
    assert "getUpdates" in cleaned and "https://x/tg" in cleaned, "the rest of the line stays readable"


@pytest.fixture
def postgres_url_with_password(postgres_available: None) -> Iterator[str]:
    """The local PostgreSQL (trust auth accepts any password) in a schema of its own."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_database_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"postgresql://postgres:{DB_PASSWORD}@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


async def test_at_debug_level_no_token_secret_or_password_is_printed(tmp_path: Path, postgres_url_with_password: str) -> None:
    telegram = TelegramStandIn(token=TELEGRAM_TOKEN)
    slack = SlackStandIn(signing_secret=SIGNING_SECRET)
    await telegram.start()
    await slack.start()
    hook_port, slack_port = free_port(), free_port()
    env = {**os.environ, "LOG_LEVEL": "DEBUG", "DATABASE_URL": postgres_url_with_password,
           "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_API_BASE_URL": telegram.base_url,
           "TELEGRAM_FILE_BASE_URL": telegram.file_base_url, "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{hook_port}/telegram",
           "TELEGRAM_WEBHOOK_PORT": str(hook_port), "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
           "SLACK_BOT_TOKEN": SLACK_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": slack.api_url,
           "SLACK_HTTP_PORT": str(slack_port), "SLACK_APP_TOKEN": ""}
    log_path = tmp_path / "output.log"
    try:
        migrate = subprocess.run([sys.executable, "-m", "bot.app.cli", "migrate"], cwd=tmp_path, env=env, capture_output=True,
                                 text=True, timeout=120)
        assert migrate.returncode == 0, migrate.stderr
        with log_path.open("wb") as log:
            process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.app.cli", "run", cwd=tmp_path, env=env,
                                                           stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
            try:
                await telegram.wait_for(lambda: telegram.calls_of("setWebhook"), timeout=60)
                await slack.wait_for(lambda: slack.calls_of("auth.test"), timeout=30)
                update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": STRANGER.id, "type": "private"},
                                                      "from": STRANGER.as_json(), "text": "/start",
                                                      "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}
                body = slack.form(slack.slash_command("U0MALLORY", "help"))
                async with aiohttp.ClientSession() as http:
                    async with http.post(f"http://127.0.0.1:{hook_port}/telegram", json=update,
                                         headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}) as answered:
                        assert answered.status == 200
                    for _ in range(50):
                        try:
                            async with http.post(f"http://127.0.0.1:{slack_port}/slack/events", data=body.encode(),
                                                 headers=slack.signed_headers(body)) as slacked:
                                assert slacked.status == 200
                                break
                        except aiohttp.ClientConnectionError:
                            await asyncio.sleep(0.2)
                await telegram.wait_for(lambda: telegram.sent_to(STRANGER.id), timeout=30)
                await slack.wait_for(lambda: slack.responses, timeout=30)
            finally:
                process.send_signal(signal.SIGINT)
                try:
                    await asyncio.wait_for(process.wait(), timeout=30)
                except TimeoutError:
                    process.kill()
                    await process.wait()
    finally:
        await telegram.stop()
        await slack.stop()
    output = migrate.stdout + migrate.stderr + log_path.read_text(errors="replace")
    assert " DEBUG " in output and "setWebhook" in output and "getMe" in output, "DEBUG lines of the libraries were printed"
    assert "postgresql://postgres:***@127.0.0.1:5432/test" in output, "the database is named, without its password"
    leaks = [secret for secret in SECRETS if secret in output]
    assert leaks == [], [line for line in output.splitlines() if any(secret in line for secret in leaks)][:20]
