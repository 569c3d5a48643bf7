"""Ladder policies are data: YAML files in `scheduling/ladders/` plus any in `LADDERS_DIR`.

A file that does not describe a usable ladder is refused with the file, the step and the reason,
at start-up and by `collectbot ladders check`.
"""
from __future__ import annotations

from datetime import time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Literal

import yaml
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from scheduling.step_texts import TEMPLATES

BUILT_IN = Path(__file__).parent / "ladders"
STAGES = ("pre_due", "due_today", "first_reminder", "repeat_reminder", "broken_promise", "final_warning",
          "legal_handover", "thank_you")
TONES = ("warm", "neutral", "firm", "formal")
STEP_NAME_COLUMN = 64
"""`ladder_step.name` holds 64 characters; follow-up steps are named after the step they follow."""
NUDGE_NAME_PREFIX = TEMPLATES["nudge"].removesuffix("{step}")
ESCALATION_NAME_PREFIX = TEMPLATES["escalation"].removesuffix("{step}")
DERIVED_NAME_PREFIXES = (NUDGE_NAME_PREFIX, ESCALATION_NAME_PREFIX)
"""The names `scheduling/follow_ups.py` gives a nudge and an escalation: prefix + step name."""
MAX_STEP_NAME = STEP_NAME_COLUMN - max(len(prefix) for prefix in DERIVED_NAME_PREFIXES)


class Action(StrEnum):
    CALL = "call"
    LETTER = "letter"
    CLAIM = "claim"
    LEGAL = "legal"
    CHECK_IN = "check-in"


class Responsible(StrEnum):
    OWNER = "owner"
    COLLECTOR = "collector"
    MANAGER = "manager"
    LAWYER = "lawyer"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class When(Strict):
    """Exactly one of: days from the due date, days after the previous step (both with a local
    time of day), or a plain duration after the previous step. Days are business days unless the
    ladder counts calendar days (`day_count: calendar`); `days:` and `business_days:` are the same
    key, `after_previous_days:` and `after_previous_business_days:` too."""

    business_days: int | None = Field(default=None, ge=-60, le=365, validation_alias=AliasChoices("business_days", "days"))
    after_previous_business_days: int | None = Field(
        default=None, ge=0, le=365, validation_alias=AliasChoices("after_previous_business_days", "after_previous_days"))
    after_previous: timedelta | None = None
    at: time | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> "When":
        kinds = [k for k in ("business_days", "after_previous_business_days", "after_previous") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("give exactly one of business_days, after_previous_business_days or after_previous "
                             f"(got {', '.join(kinds) or 'none'})")
        if kinds[0] == "after_previous":
            if self.at is not None:
                raise ValueError("after_previous is a duration (e.g. PT2H); it takes no 'at' time")
            if self.after_previous is not None and self.after_previous < timedelta(0):
                raise ValueError("after_previous must not be negative")
        elif self.at is None:
            raise ValueError(f"{kinds[0]} needs a local time of day: at: \"10:00\"")
        return self

    @property
    def is_duration(self) -> bool:
        return self.after_previous is not None

    def describe(self) -> str:
        if self.business_days is not None:
            days = self.business_days
            plural, side = "s" if abs(days) != 1 else "", "before" if days < 0 else "after"
            rel = "on the due date" if days == 0 else f"{abs(days)} business day{plural} {side} due"
            return f"{rel} at {self.at:%H:%M}"
        if self.after_previous_business_days is not None:
            days = self.after_previous_business_days
            return f"{days} business day{'s' if days != 1 else ''} after the previous step at {self.at:%H:%M}"
        return f"{self.after_previous} after the previous step"


class StepPolicy(Strict):
    name: str = Field(min_length=1, max_length=64)
    when: When
    action: Action
    responsible: Responsible
    stage: Literal["pre_due", "due_today", "first_reminder", "repeat_reminder", "broken_promise", "final_warning",
                   "legal_handover", "thank_you"]
    tone: Literal["warm", "neutral", "firm", "formal"]
    instruction: str = Field(min_length=1, max_length=500)
    ack_within: timedelta = timedelta(hours=4)
    deadline_business_days: int | None = Field(
        default=None, ge=1, le=90, validation_alias=AliasChoices("deadline_business_days", "deadline_days"))
    """Counted in the ladder's days (business or calendar), like every other day here."""
    gate: bool = False
    """The following steps wait until this one is confirmed done (a formal claim, an official
    letter); they are planned from the day it was confirmed, and never before its deadline."""

    @field_validator("name")
    @classmethod
    def _fits_with_derived_names(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a step needs a name")
        if len(value) > MAX_STEP_NAME:
            raise ValueError(
                f"the name is {len(value)} characters long; at most {MAX_STEP_NAME} fit, so that its follow-ups "
                f"(“{DERIVED_NAME_PREFIXES[0]}{value[:10]}…”) fit in the {STEP_NAME_COLUMN}-character column"
            )
        return value

    @field_validator("ack_within")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("ack_within must be a positive duration such as PT4H")
        return value


class LadderPolicy(Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")
    description: str
    working_hours: Literal["respect", "ignore"] = "respect"
    promise_grace_business_days: int = Field(default=1, ge=0, le=30)
    day_count: Literal["business", "calendar"] = "business"
    """How the ladder's days count: the customer's business days, or plain calendar days."""
    late_entry: str | None = None
    """The step an invoice that enters the bot already overdue starts at (a first contact, never
    the claim or the lawyers). Default: the first step at the first_reminder stage, else step 1."""
    steps: list[StepPolicy] = Field(min_length=1, max_length=50)

    @property
    def ignores_working_hours(self) -> bool:
        return self.working_hours == "ignore"

    @property
    def counts_calendar_days(self) -> bool:
        return self.day_count == "calendar"

    @property
    def late_entry_index(self) -> int:
        """0-based index of the step a late entry starts at."""
        if self.late_entry is not None:
            return next(index for index, step in enumerate(self.steps) if step.name == self.late_entry)
        return next((index for index, step in enumerate(self.steps) if step.stage == "first_reminder"), 0)

    @model_validator(mode="after")
    def _late_entry_is_a_first_contact(self) -> "LadderPolicy":
        names = [step.name for step in self.steps]
        if self.late_entry is not None and self.late_entry not in names:
            raise ValueError(f"late_entry names no step: {self.late_entry!r} (steps: {', '.join(names)})")
        entry = self.steps[self.late_entry_index]
        if entry.action in (Action.CLAIM, Action.LEGAL) or entry.stage in ("final_warning", "legal_handover"):
            raise ValueError(f"late_entry must be a first contact, not {entry.name!r} ({entry.action.value}, {entry.stage})")
        if any(step.gate for step in self.steps[self.late_entry_index:self.late_entry_index + 1]):
            raise ValueError("late_entry cannot be a gate step")
        return self


class PolicyError(ValueError):
    """Every problem found, one line each: `file: step N (name): reason`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def describe_error(path: Path, raw: object, error: ValidationError) -> list[str]:
    lines = []
    steps = raw.get("steps") if isinstance(raw, dict) else None
    for problem in error.errors():
        loc = list(problem["loc"])
        where = ""
        if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
            index = loc[1]
            name = steps[index].get("name") if isinstance(steps, list) and index < len(steps) and isinstance(steps[index], dict) else None
            where = f"step {index + 1}" + (f" ({name})" if name else "") + ": "
            loc = loc[2:]
        field = ".".join(str(part) for part in loc)
        message = problem["msg"].removeprefix("Value error, ")
        lines.append(f"{path}: {where}{field + ': ' if field else ''}{message}")
    return lines


def load_file(path: Path) -> LadderPolicy:
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as error:
        raise PolicyError([f"{path}: not valid YAML: {error}"]) from None
    if not isinstance(raw, dict):
        raise PolicyError([f"{path}: a ladder file holds a mapping with name, description and steps"])
    raw.setdefault("name", path.stem)
    try:
        policy = LadderPolicy.model_validate(raw)
    except ValidationError as error:
        raise PolicyError(describe_error(path, raw, error)) from None
    if policy.name != path.stem:
        raise PolicyError([f"{path}: the ladder is named {policy.name!r} but the file is {path.name}; make them match"])
    return policy


def load_policies(extra_dir: Path | None = None) -> dict[str, LadderPolicy]:
    """Built-in ladders, then those in `extra_dir` (a same-named file there replaces a built-in).
    Raises PolicyError listing every bad file."""
    files = {path.stem: path for path in sorted(BUILT_IN.glob("*.yaml"))}
    if extra_dir is not None:
        if not extra_dir.is_dir():
            raise PolicyError([f"{extra_dir}: LADDERS_DIR is not a directory"])
        files.update({path.stem: path for path in sorted(extra_dir.glob("*.y*ml"))})
    policies: dict[str, LadderPolicy] = {}
    problems: list[str] = []
    for path in files.values():
        try:
            policy = load_file(path)
            policies[policy.name] = policy
        except PolicyError as error:
            problems.extend(error.problems)
    if problems:
        raise PolicyError(problems)
    return policies
