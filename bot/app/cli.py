"""The `collectbot` command line."""
from __future__ import annotations

import asyncio
import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from pydantic import ValidationError
from rich.console import Console

from bot.floor.config import Settings, shown_url
from bot.floor.logs import configure_logging

if TYPE_CHECKING:
    from bot.app.runtime import Runtime

app = typer.Typer(help="collectbot: chase unpaid invoices on time, politely, step by step.", no_args_is_help=True)
err = Console(stderr=True, soft_wrap=True)


def load_settings() -> Settings:
    """The settings, with logging set up at LOG_LEVEL (secrets hidden), or a clear refusal."""
    try:
        settings = Settings()
    except ValidationError as error:
        for problem in error.errors():
            err.print(f"[red]Setting {'.'.join(str(p) for p in problem['loc']).upper()}: {problem['msg']}[/red]")
        err.print("Fix it in the environment or in .env (see .env.example).")
        raise typer.Exit(2) from None
    configure_logging(settings.log_level, settings.secrets)
    return settings


def build_runtime(settings: Settings) -> "Runtime":
    """The runtime, or a clear refusal when a ladder file is malformed."""
    from bot.app.runtime import Runtime
    from phrasebook.book import PhrasebookError
    from scheduling.policies import PolicyError

    try:
        return Runtime.build(settings)
    except (PolicyError, PhrasebookError) as error:
        what = "ladders" if isinstance(error, PolicyError) else "phrasebook"
        err.print(f"[red]Refusing to start: a {'ladder' if what == 'ladders' else 'phrasebook'} file is malformed.[/red]")
        for problem in error.problems:
            err.print(f"[red]  {problem}[/red]", highlight=False)
        err.print(f"Fix the file (check with `collectbot {what} check`).")
        raise typer.Exit(2) from None


def default_identity() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name on some containers
        return "admin"


@app.command()
def run(
    as_: str = typer.Option(None, "--as", help="Your name in the console chat (default: your login name)."),
    with_console: bool = typer.Option(False, "--console", help="Also open the console chat beside Telegram/Slack."),
) -> None:
    """Run the bot: Telegram and Slack when their tokens are set, otherwise the console chat."""
    settings = load_settings()
    if not settings.telegram_bot_token and not settings.slack_bot_token:
        err.print("No TELEGRAM_BOT_TOKEN or SLACK_BOT_TOKEN set: starting the console chat "
                  f"on {shown_url(settings.database_url)}.")
        console(as_=as_)
        return
    from bot.app.runtime import platforms_from_settings

    runtime = build_runtime(settings)
    platforms = platforms_from_settings(runtime)
    session = None
    if with_console:
        from bot.platforms.console.chat import ConsoleChat, run_console
        from bot.platforms.console.platform import ConsolePlatform

        chat = ConsoleChat(runtime.core, as_ or default_identity())
        platforms.append(ConsolePlatform(chat))
        session = run_console(chat, sys.stdin.readline, interactive=sys.stdin.isatty())
    err.print(f"Running {', '.join(p.name for p in platforms)} on {shown_url(settings.database_url)}. Stop with Ctrl+C.")
    try:
        asyncio.run(runtime.serve(platforms, until=session))
    except KeyboardInterrupt:
        err.print("Stopped.")


@app.command()
def console(
    as_: str = typer.Option(None, "--as", help="Your name in the console chat (default: your login name)."),
) -> None:
    """Chat with the bot in this terminal (or pipe commands in, one per line)."""
    from bot.platforms.console.chat import ConsoleChat, run_console
    from bot.platforms.console.platform import ConsolePlatform
    runtime = build_runtime(load_settings())
    chat = ConsoleChat(runtime.core, as_ or default_identity())
    session = run_console(chat, sys.stdin.readline, interactive=sys.stdin.isatty())
    asyncio.run(runtime.serve([ConsolePlatform(chat)], until=session))


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (the bot also does this on start)."""
    settings = load_settings()
    build_runtime(settings)
    err.print(f"Database at {shown_url(settings.database_url)} is up to date.")


@app.command("import")
def import_file(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="The CSV file."),
    as_: str = typer.Option(None, "--as", help="Who imports (default: your login name); the default owner."),
    commit: bool = typer.Option(False, "--commit", help="Store the good rows (without it: a dry run only)."),
) -> None:
    """Import invoices from a CSV file: checks every row, then (with --commit) stores all good rows at once.

    Runs as the team member named by --as, with the same permissions as /import in the chat
    (a lawyer, for one, is refused)."""
    from rich.progress import Progress

    from bot.platforms.console.chat import console_sender
    from bot.floor.errors import NotAllowed, UsageError
    from handlers.grammar import IncomingFile
    from handlers.importing import import_at

    runtime = build_runtime(load_settings())
    upload = IncomingFile(path.name, path.read_bytes(), "text/csv")
    with Progress(console=err, transient=True) as progress:
        tasks: dict[str, int] = {}

        def report(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(phase.capitalize(), total=total or None)
            progress.update(tasks[phase], completed=done, total=total or None)

        try:
            checked, stored = runtime.core.within(console_sender(as_ or default_identity()),
                                                  lambda ctx: import_at(ctx, upload, commit, report), as_command="/import")
        except (UsageError, NotAllowed) as error:
            err.print(f"[red]{getattr(error, 'problem', error)}[/red]")
            raise typer.Exit(1) from None
    for line, reason in checked.errors:
        typer.echo(f"{path.name}:{line}: {reason}")
    typer.echo(f"{checked.total} rows: {len(checked.new)} new, {checked.unchanged} unchanged, {len(checked.errors)} with problems.")
    typer.echo(f"Imported {stored} invoices." if commit else "Dry run: nothing stored. Add --commit to import the good rows.")


ladders_app = typer.Typer(help="Ladder policies: the steps, their timing and who does them.", no_args_is_help=True)
app.add_typer(ladders_app, name="ladders")


@ladders_app.command("check")
def ladders_check() -> None:
    """Validate the built-in ladders and those in LADDERS_DIR; list them, or every problem."""
    from scheduling.policies import PolicyError, load_policies

    settings = load_settings()
    try:
        policies = load_policies(settings.ladders_dir)
    except PolicyError as error:
        for problem in error.problems:
            err.print(f"[red]{problem}[/red]", highlight=False)
        raise typer.Exit(1) from None
    for policy in sorted(policies.values(), key=lambda p: p.name):
        typer.echo(f"{policy.name}: {len(policy.steps)} steps, working hours {policy.working_hours} — {policy.description}")
    typer.echo(f"{len(policies)} ladders OK.")


phrasebook_app = typer.Typer(help="The phrasebook: drafts by stage, tone, channel and language.", no_args_is_help=True)
app.add_typer(phrasebook_app, name="phrasebook")


@phrasebook_app.command("check")
def phrasebook_check(
    lint: bool = typer.Option(True, "--lint/--no-lint", help="Also render every variant with adversarial facts."),
) -> None:
    """Validate the phrase files (syntax, variables, duplicates, full coverage in every language) and
    lint every rendered variant (glued sentences, doubled punctuation, placeholders, final warnings
    without a date, hidden partial payments, companies greeted as people, defaults, style guides)."""
    from phrasebook.book import REQUIRED_LANGUAGES, PhrasebookError, load_phrasebook
    from phrasebook.linter import lint as lint_book

    settings = load_settings()
    try:
        book = load_phrasebook(settings.phrasebook_dir, required=REQUIRED_LANGUAGES)
    except PhrasebookError as error:
        for problem in error.problems:
            err.print(f"[red]{problem}[/red]", highlight=False)
        err.print(f"{len(error.problems)} problem(s).")
        raise typer.Exit(1) from None
    for language, counts in sorted(book.counts().items()):
        typer.echo(f"{language}: {counts['stages']} stages × {counts['tones']} tones × {counts['channels']} channels, "
                   f"{counts['variants']} variants")
    if lint:
        problems = lint_book(book)
        for problem in problems:
            err.print(f"[red]{problem}[/red]", highlight=False)
        if problems:
            err.print(f"{len(problems)} problem(s) found by the linter.")
            raise typer.Exit(1)
        typer.echo("Linter: every variant rendered with adversarial facts reads cleanly.")
    typer.echo("Phrasebook OK.")


# -- operations: doctor and backup (bot/app/doctor.py, bot/app/backup.py) ---------------------------------

@app.command()
def doctor() -> None:
    """Check settings, database and migrations, ladders, phrasebook, platform tokens and webhook;
    say what is wrong and what to do. Changes nothing."""
    from bot.app.doctor import examine, healthy

    findings = asyncio.run(examine(load_settings()))
    for finding in findings:
        for line in finding.lines():
            typer.echo(line)
    if not healthy(findings):
        typer.echo("Some checks failed: see → for what to do.")
        raise typer.Exit(1)
    typer.echo("All checks passed.")


@app.command()
def backup(
    to: Path = typer.Option(None, "--to", help="The copy to write (default: next to the database, with the time in its name)."),
) -> None:
    """Copy the SQLite database while the bot runs (SQLite's online backup API), then verify the copy.
    For PostgreSQL, prints the pg_dump / pg_restore commands to use."""
    from datetime import datetime, timezone

    from bot.app.backup import BackupError, backup_sqlite, default_destination, postgres_commands, sqlite_path
    from bot.floor.config import reveal

    settings = load_settings()
    try:
        source = sqlite_path(reveal(settings.database_url) or "")
        if source is None:
            typer.echo("PostgreSQL is backed up with its own tools (install the PostgreSQL client programs):")
            for line in postgres_commands(reveal(settings.database_url) or ""):
                typer.echo(f"  {line}")
            raise typer.Exit(2)
        result = backup_sqlite(source, to or default_destination(source, datetime.now(timezone.utc)))
    except BackupError as error:
        err.print(f"[red]Backup failed: {error}[/red]", highlight=False)
        raise typer.Exit(1) from None
    typer.echo(f"Backed up {source} to {result.path}: {result.bytes:,} bytes, {result.invoices:,} invoices, "
               f"integrity {result.integrity}.")
    typer.echo(f"Restore: stop the bot, then copy {result.path} over {source} (and delete {source}-wal and {source}-shm).")


@app.command("wait-for-db")
def wait_for_db(timeout: float = typer.Option(60.0, help="Seconds to keep trying.")) -> None:
    """Wait until the database accepts connections (containers start before their database)."""
    from bot.floor.config import reveal
    from bot.app.doctor import wait_for_database, where

    settings = load_settings()
    problem = wait_for_database(reveal(settings.database_url) or "", timeout)
    if problem is not None:
        err.print(f"[red]The database at {where(settings.database_url)} did not answer within {timeout:.0f} s: {problem}[/red]",
                  highlight=False)
        err.print("Check DATABASE_URL and that the database server is running.")
        raise typer.Exit(1)
    typer.echo(f"The database at {where(settings.database_url)} answers.")


if __name__ == "__main__":
    app()
