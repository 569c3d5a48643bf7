"""The container files hang together: compose starts PostgreSQL and the bot, the bot waits for a
healthy database and migrates before it runs, and every command the image calls exists. (Images
cannot be pulled here, so this checks the files, not a running container.)"""
from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import yaml
from typer.main import get_command

from bot.app.cli import app
from bot.floor.config import Settings
from bot.app.metrics import MetricsSettings

ROOT = Path(__file__).parents[1]


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_compose_runs_the_bot_after_postgresql_is_healthy() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    db, bot = compose["services"]["db"], compose["services"]["bot"]
    assert db["image"].startswith("postgres:") and "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert bot["build"] == "."
    url = bot["environment"]["DATABASE_URL"]
    assert url.startswith("postgresql://") and "@db:5432/" in url
    assert {"db-data"} == set(compose["volumes"])
    assert any(volume.startswith("db-data:") for volume in db["volumes"])


def test_compose_settings_are_ones_collectbot_reads() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    known = {name.upper() for name in Settings.model_fields} | {f"METRICS_{name.upper()}" for name in MetricsSettings.model_fields}
    assert set(compose["services"]["bot"]["environment"]) <= known


def test_the_image_waits_for_the_database_migrates_and_runs_with_existing_commands() -> None:
    instructions = dockerfile_instructions()
    [command] = [argument for name, argument in instructions if name == "CMD"]
    shell = yaml.safe_load(command)[-1]
    steps = [shlex.split(step) for step in re.split(r"&&", shell)]
    assert [step[1] if step[0] == "collectbot" else step[2] for step in steps] == ["wait-for-db", "migrate", "run"]
    commands = get_command(app).commands  # type: ignore[attr-defined]
    assert {"wait-for-db", "migrate", "run", "doctor", "backup"} <= set(commands)


def test_the_image_copies_every_package_and_checks_health_on_the_metrics_port() -> None:
    instructions = dockerfile_instructions()
    copied = {argument.split()[0] for name, argument in instructions if name == "COPY" and "--from" not in argument}
    packages = {"bot", "handlers", "scheduling", "phrasebook"}
    assert packages <= copied and all((ROOT / name).is_dir() for name in packages)
    environment = " ".join(argument for name, argument in instructions if name == "ENV")
    port = re.search(r"METRICS_PORT=(\d+)", environment)
    assert port is not None
    [health] = [argument for name, argument in instructions if name == "HEALTHCHECK"]
    assert f"127.0.0.1:{port.group(1)}/healthz" in health
    assert port.group(1) in " ".join(argument for name, argument in instructions if name == "EXPOSE")


def test_the_build_context_leaves_out_secrets_and_local_databases() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".env", ".venv", ".git", "*.db"} <= set(ignored)


def test_the_package_declares_its_license_the_way_current_setuptools_reads_it() -> None:
    """An SPDX expression (a table is deprecated and warns on every install), with a setuptools
    new enough to read it (77)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "MIT"
    assert not any(c.startswith("License ::") for c in project["project"].get("classifiers", ())), "one or the other"
    [setuptools] = [r for r in project["build-system"]["requires"] if r.startswith("setuptools")]
    assert setuptools == "setuptools>=77"
