"""The names and instructions of the steps added while a ladder runs — a promise's follow-up, a
dispute, an instalment's reminder and check, a nudge, an escalation.

A step keeps each of them twice: in `name`/`instruction` as English text (logs, exports and the
code that reads an instalment's number keep working) and in `texts` as a *stored text* — a template
key and its values — which `shown` renders in the reader's language and locale where it is shown.

A stored text is `{"key": …, "values": {…}}`; a value is a literal (an invoice number, a reason, a
handle: never translated), a nested stored text, `{"text": …}` (a ladder step's own name, looked up
in the catalogs), `{"date": iso}` or `{"money": amount, "currency": code}` (written in the reader's
locale). A step without `texts` (a ladder's own step, from its YAML) is looked up as it is.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bot.floor.dates import show_date
from bot.floor.money import format_money
from bot.i18n import N_, _, locale_for, speaking
from bot.store.models import LadderStep

if TYPE_CHECKING:
    from scheduling.planning import PlannedStep

StoredText = dict[str, Any]

TEMPLATES: dict[str, str] = {
    "promise_follow_up": N_("Promise follow-up"),
    "dispute_to_resolve": N_("Dispute to resolve"),
    "dispute_still_open": N_("Dispute still open"),
    "instalment_reminder": N_("Instalment {sequence} reminder"),
    "instalment_check": N_("Instalment {sequence} check"),
    "nudge": N_("No answer yet: {step}"),
    "escalation": N_("Escalated: {step}"),
    "promise_not_kept": N_("The promise to pay by {date} was not kept: call and ask for payment or a new firm date."),
    "letter_not_kept": N_("The official letter to pay by {date} was not kept: call and ask for payment or a new firm date."),
    "dispute_instruction": N_("The customer disputes {invoice}: “{reason}”. First learn why: call them, ask what is wrong "
                              "and what would settle it; then /resolve {invoice} (with a new amount if it changes)."),
    "instalment_reminder_instruction": N_("Friendly reminder of {label}."),
    "instalment_check_instruction": N_("Check that {label} arrived. If it did not, the main ladder resumes after this step."),
    "instalment_label": N_("instalment {number} of {count} ({amount}, due {date})"),
    "nudge_instruction": N_("You were reminded of “{step}” for {invoice} and have not answered. "
                            "Press what happened (done, paid, promised…) so the ladder can go on."),
    "escalation_instruction": N_("@{handle} has not answered “{step}” for {invoice} after a reminder. "
                                 "Check with them, or take the step yourself."),
}
ENGLISH = locale_for("en")


def text(key: str, /, **values: Any) -> StoredText:
    assert key in TEMPLATES, key
    return {"key": key, "values": values}


def day(value: date) -> dict[str, str]:
    return {"date": value.isoformat()}


def money(amount: Decimal, currency: str) -> dict[str, str]:
    return {"money": str(amount), "currency": currency}


def shown(stored: StoredText | str | None, locale: str) -> str:
    """A stored text (or a plain step name, looked up in the catalogs) in the current speaker's
    language, its dates and amounts in `locale`."""
    if not stored:
        return ""
    if isinstance(stored, str):
        return _(stored)
    return _value(stored, locale)


def _value(value: Any, locale: str) -> str:
    if not isinstance(value, Mapping):
        return str(value)
    if "key" in value:
        template = TEMPLATES.get(value["key"])
        values = {name: _value(inner, locale) for name, inner in value.get("values", {}).items()}
        return _(template, **values) if template else ""
    if "text" in value:
        return _(value["text"])
    if "date" in value:
        return show_date(date.fromisoformat(value["date"]), locale)
    if "money" in value:
        return format_money(Decimal(value["money"]), value["currency"], locale)
    return ""


def english(stored: StoredText) -> str:
    """What `name` and `instruction` keep."""
    with speaking("en"):
        return shown(stored, ENGLISH)


def name_of(step: "LadderStep | PlannedStep") -> StoredText:
    """The step's name as a value of another stored text (a nudge's, a history entry's); a step
    as planned from its ladder has only its policy's name."""
    return (getattr(step, "texts", None) or {}).get("name") or {"text": step.name}


def step_name(step: "LadderStep | PlannedStep", locale: str) -> str:
    return shown(name_of(step), locale)


def step_instruction(step: LadderStep, locale: str) -> str:
    """What to do; a step with no instruction of its own says its name."""
    stored = (step.texts or {}).get("instruction")
    if stored:
        return shown(stored, locale)
    return shown(step.instruction, locale) if step.instruction else step_name(step, locale)
