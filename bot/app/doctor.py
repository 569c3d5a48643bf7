"""`collectbot doctor`: is this installation ready to run, and if not, what to do.

Each check looks at one thing for real — the settings, the database and its migrations, the ladder
and phrase files, the platform tokens (Telegram's getMe, Slack's auth.test), the webhook — and
answers in plain words with what to do about a problem. Nothing is changed: the doctor does not
migrate, register webhooks or send messages.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlparse

import aiohttp
import sqlalchemy as sa

from bot.floor.config import Settings, reveal, shown_url
from bot.store.database import create_database_engine
from bot.store.schema_version import applied_revisions, head_revisions, known_revisions

NETWORK_TIMEOUT = 10.0
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
TELEGRAM_WEBHOOK_PORTS = frozenset({443, 80, 88, 8443})


class Verdict(StrEnum):
    OK = "ok"
    WARNING = "warning"
    PROBLEM = "problem"


@dataclass(frozen=True)
class Finding:
    topic: str
    verdict: Verdict
    says: str
    todo: str = ""

    def lines(self) -> list[str]:
        mark = {Verdict.OK: "✔", Verdict.WARNING: "!", Verdict.PROBLEM: "✘"}[self.verdict]
        return [f"{mark} {self.topic}: {self.says}"] + ([f"    → {self.todo}"] if self.todo else [])


def ok(topic: str, says: str) -> Finding:
    return Finding(topic, Verdict.OK, says)


def warning(topic: str, says: str, todo: str) -> Finding:
    return Finding(topic, Verdict.WARNING, says, todo)


def problem(topic: str, says: str, todo: str) -> Finding:
    return Finding(topic, Verdict.PROBLEM, says, todo)


def where(url: object) -> str:
    """The database URL without its password, for messages."""
    return shown_url(url)  # type: ignore[arg-type]


# -- configuration -------------------------------------------------------------------------------

def check_configuration(settings: Settings) -> list[Finding]:
    findings = []
    platforms = [name for name, token in (("Telegram", settings.telegram_bot_token), ("Slack", settings.slack_bot_token)) if token]
    if platforms:
        findings.append(ok("Settings", f"read; platforms configured: {', '.join(platforms)}"))
    else:
        findings.append(warning("Settings", "read; neither TELEGRAM_BOT_TOKEN nor SLACK_BOT_TOKEN is set, so "
                                "`collectbot run` opens the console chat only",
                                "set TELEGRAM_BOT_TOKEN and/or SLACK_BOT_TOKEN in the environment or .env (see .env.example)"))
    if settings.slack_bot_token and not settings.slack_app_token and not settings.slack_signing_secret:
        findings.append(problem("Slack mode", "SLACK_BOT_TOKEN is set but neither SLACK_APP_TOKEN (Socket Mode) nor "
                                "SLACK_SIGNING_SECRET (HTTP) is", "for Socket Mode set SLACK_APP_TOKEN=xapp-…; for HTTP set "
                                "SLACK_SIGNING_SECRET from the app's Basic Information page"))
    if settings.slack_app_token and not (reveal(settings.slack_app_token) or "").startswith("xapp-"):
        findings.append(problem("Slack mode", "SLACK_APP_TOKEN does not start with xapp-: it is not an app-level token",
                                "create one under Basic Information → App-Level Tokens with connections:write"))
    return findings


# -- database ------------------------------------------------------------------------------------

def check_database(settings: Settings, schema: str | None = None) -> list[Finding]:
    from bot.app.backup import sqlite_path

    url = reveal(settings.database_url) or ""
    file = sqlite_path(url) if url.startswith("sqlite") else None
    if file is not None and not file.exists():
        return [warning("Database", f"there is no SQLite file at {file} yet",
                        "run `collectbot migrate` (or start the bot) to create it, or fix DATABASE_URL if it should exist")]
    engine = create_database_engine(url, schema=schema)
    try:
        try:
            with engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError as error:
            return [problem("Database", f"cannot connect to {where(settings.database_url)}: {first_line(error)}",
                            "check DATABASE_URL, that the database server runs and accepts this user; "
                            "for SQLite, that the folder exists and is writable")]
        reached = ok("Database", f"reachable at {where(settings.database_url)} ({engine.dialect.name})")
        return [reached, migration_finding(applied_revisions(engine), head_revisions())]
    finally:
        engine.dispose()


def migration_finding(applied: frozenset[str] | None, heads: frozenset[str]) -> Finding:
    newest = ", ".join(sorted(heads))
    if applied == heads:
        return ok("Migrations", f"the schema is current (revision {newest})")
    if not applied:
        return warning("Migrations", "the database is empty (no collectbot schema yet)",
                       "run `collectbot migrate` (the bot also migrates on start)")
    unknown = sorted(applied - known_revisions())
    if unknown:
        return problem("Migrations", f"the database is at revision {', '.join(unknown)}, which this collectbot does not "
                       "know: a newer version migrated it", "run the same (or a newer) collectbot version as the "
                       "database, or restore the backup taken before the upgrade")
    return warning("Migrations", f"the schema is behind: at {', '.join(sorted(applied))}, newest is {newest}",
                   "run `collectbot migrate` (take a backup first: `collectbot backup`)")


def first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


# -- ladders and phrasebook ----------------------------------------------------------------------

def check_ladders(settings: Settings) -> list[Finding]:
    from scheduling.policies import PolicyError, load_policies

    try:
        policies = load_policies(settings.ladders_dir)
    except PolicyError as error:
        return [problem("Ladders", f"{len(error.problems)} problem(s): " + "; ".join(error.problems[:5]),
                        "fix the files named above (`collectbot ladders check` lists every problem)")]
    if settings.default_ladder not in policies:
        return [problem("Ladders", f"DEFAULT_LADDER={settings.default_ladder!r} is not one of {', '.join(sorted(policies))}",
                        "set DEFAULT_LADDER to one of them, or add that ladder file to LADDERS_DIR")]
    return [ok("Ladders", f"{len(policies)} valid: {', '.join(sorted(policies))}")]


def check_phrasebook(settings: Settings) -> list[Finding]:
    from phrasebook.book import REQUIRED_LANGUAGES, PhrasebookError, load_phrasebook

    try:
        book = load_phrasebook(settings.phrasebook_dir, required=REQUIRED_LANGUAGES)
    except PhrasebookError as error:
        return [problem("Phrasebook", f"{len(error.problems)} problem(s): " + "; ".join(error.problems[:5]),
                        "fix the files named above (`collectbot phrasebook check` lists every problem)")]
    variants = sum(len(found) for found in book.entries.values())
    return [ok("Phrasebook", f"{variants} variants in {', '.join(book.languages)}, every one renders")]


# -- Telegram ------------------------------------------------------------------------------------

async def check_telegram(settings: Settings) -> list[Finding]:
    if not settings.telegram_bot_token:
        return []
    from telegram import Bot
    from telegram.error import InvalidToken, TelegramError

    bot = Bot(reveal(settings.telegram_bot_token) or "", base_url=settings.telegram_api_base_url,
              base_file_url=settings.telegram_file_base_url)
    try:
        me = await asyncio.wait_for(bot.get_me(), NETWORK_TIMEOUT)
    except InvalidToken:
        return [problem("Telegram token", "Telegram refused TELEGRAM_BOT_TOKEN (unauthorized)",
                        "copy the token again from @BotFather (/mybots → your bot → API Token), or /revoke and use the new one")]
    except (TelegramError, TimeoutError, OSError) as error:
        return [problem("Telegram token", f"could not reach the Bot API at {api_host(settings.telegram_api_base_url)}: "
                        f"{type(error).__name__}: {error}", "check the network, a proxy, or TELEGRAM_API_BASE_URL")]
    findings = [ok("Telegram token", f"accepted: the bot is @{me.username} ({me.first_name})")]
    if settings.telegram_webhook_url:
        findings += await check_telegram_webhook(settings, bot)
    else:
        findings.append(ok("Telegram updates", "long polling (no TELEGRAM_WEBHOOK_URL): nothing to expose"))
    return findings


def api_host(base_url: str) -> str:
    return urlparse(base_url).netloc or base_url


async def check_telegram_webhook(settings: Settings, bot: object) -> list[Finding]:
    from telegram.error import TelegramError

    url = settings.telegram_webhook_url or ""
    parsed = urlparse(url)
    findings: list[Finding] = []
    official = api_host(settings.telegram_api_base_url) == "api.telegram.org"
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    if official and (parsed.scheme != "https" or port not in TELEGRAM_WEBHOOK_PORTS):
        findings.append(problem("Telegram webhook", f"{url} cannot receive updates: Telegram delivers only to HTTPS on "
                                "ports 443, 80, 88 or 8443", "serve the bot behind a TLS proxy at such an address "
                                "(TELEGRAM_WEBHOOK_PORT is the local port the proxy forwards to)"))
    try:
        info = await asyncio.wait_for(bot.get_webhook_info(), NETWORK_TIMEOUT)  # type: ignore[attr-defined]
    except (TelegramError, TimeoutError, OSError) as error:
        findings.append(warning("Telegram webhook", f"could not ask Telegram about the webhook: {error}",
                                "try again; check the network"))
    else:
        if info.last_error_message:
            findings.append(problem("Telegram webhook", f"Telegram's last attempt to deliver to {info.url or url} failed: "
                                    f"{info.last_error_message} ({info.pending_update_count} update(s) waiting)",
                                    "check that the URL is public, its TLS certificate valid, and the proxy forwards "
                                    f"to {settings.telegram_webhook_listen}:{settings.telegram_webhook_port}"))
        elif info.url and info.url != url:
            findings.append(warning("Telegram webhook", f"Telegram delivers to {info.url}, not to TELEGRAM_WEBHOOK_URL={url}",
                                    "start the bot: it registers TELEGRAM_WEBHOOK_URL on start"))
    findings.append(await probe_url("Telegram webhook", url,
                                    "the bot listens there while it runs; if it runs, check DNS, the TLS proxy "
                                    f"and that it forwards to {settings.telegram_webhook_listen}:{settings.telegram_webhook_port}"))
    return findings


async def probe_url(topic: str, url: str, todo: str) -> Finding:
    """Any HTTP answer (a 401/403 to our unsigned probe included) means the address is reachable."""
    try:
        timeout = aiohttp.ClientTimeout(total=NETWORK_TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout) as http, http.post(url, json={}) as response:
            return ok(topic, f"{url} answers (HTTP {response.status} to an unsigned probe)")
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        return warning(topic, f"{url} is not reachable from here: {type(error).__name__}: {error or 'timed out'}", todo)


# -- Slack ---------------------------------------------------------------------------------------

async def check_slack(settings: Settings) -> list[Finding]:
    if not settings.slack_bot_token:
        return []
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(token=reveal(settings.slack_bot_token), base_url=settings.slack_api_url, timeout=int(NETWORK_TIMEOUT))
    try:
        auth = await client.auth_test()
    except SlackApiError as error:
        return [problem("Slack token", f"Slack refused SLACK_BOT_TOKEN: {error.response.get('error')}",
                        "copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions; reinstall the app if it was revoked")]
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        return [problem("Slack token", f"could not reach Slack at {api_host(settings.slack_api_url)}: {type(error).__name__}: {error}",
                        "check the network, a proxy, or SLACK_API_URL")]
    findings = [ok("Slack token", f"accepted: the bot is {auth.get('user')} in workspace {auth.get('team')}")]
    if settings.slack_app_token:
        try:
            await AsyncWebClient(base_url=settings.slack_api_url, timeout=int(NETWORK_TIMEOUT)).apps_connections_open(
                app_token=reveal(settings.slack_app_token) or "")
            findings.append(ok("Slack Socket Mode", "SLACK_APP_TOKEN opens a Socket Mode connection"))
        except SlackApiError as error:
            findings.append(problem("Slack Socket Mode", f"Slack refused SLACK_APP_TOKEN: {error.response.get('error')}",
                                    "create an app-level token with connections:write and enable Socket Mode in the app"))
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            findings.append(problem("Slack Socket Mode", f"could not reach Slack: {error}", "check the network"))
    elif settings.slack_signing_secret:
        findings.append(ok("Slack HTTP", f"requests are verified with SLACK_SIGNING_SECRET; the bot listens on "
                           f"{settings.slack_http_host}:{settings.slack_http_port}/slack/events — the app's request URLs must "
                           "point there through your TLS proxy"))
    return findings


# -- all together ------------------------------------------------------------------------------

Check = Callable[[], Awaitable[list[Finding]]]


async def examine(settings: Settings, schema: str | None = None) -> list[Finding]:
    """Every check, in the order a person would fix things."""
    findings = check_configuration(settings)
    for local in (lambda: check_database(settings, schema), lambda: check_ladders(settings), lambda: check_phrasebook(settings)):
        findings += await asyncio.to_thread(local)
    findings += await check_telegram(settings)
    findings += await check_slack(settings)
    return findings


def healthy(findings: list[Finding]) -> bool:
    return all(finding.verdict != Verdict.PROBLEM for finding in findings)


def wait_for_database(database_url: str, timeout: float, pause: float = 1.0) -> str | None:
    """Try to connect until the database answers or `timeout` seconds pass (a container starting
    beside its database); None when it answered, else the last error in plain words."""
    import time

    engine = create_database_engine(database_url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                with engine.connect() as connection:
                    connection.execute(sa.text("SELECT 1"))
                return None
            except sa.exc.SQLAlchemyError as error:
                if time.monotonic() + pause > deadline:
                    return first_line(error)
                time.sleep(pause)
    finally:
        engine.dispose()
