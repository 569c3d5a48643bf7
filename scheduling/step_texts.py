"""The names and instructions of the steps added while a ladder runs — a promise's follow-up, a
dispute, an instalment's reminder and check, a nudge, an escalation.

They are stored in English, exactly as the templates here with their values filled in (the
database holds no reader's language), and come out in the reader's language where they are shown:
`shown_step_text` recognises a stored text by its template and renders that template through the
catalogs with the same values. A text no template matches (a ladder's own step, from its YAML) is
looked up as it is. Rows stored before this module existed read the same way.
"""
from __future__ import annotations

import functools
import re

from bot.i18n import N_, _

PROMISE_FOLLOW_UP = N_("Promise follow-up")
DISPUTE_TO_RESOLVE = N_("Dispute to resolve")
DISPUTE_STILL_OPEN = N_("Dispute still open")
INSTALMENT_REMINDER = N_("Instalment {sequence} reminder")
INSTALMENT_CHECK = N_("Instalment {sequence} check")
NUDGE_NAME = N_("No answer yet: {step}")
ESCALATION_NAME = N_("Escalated: {step}")

PROMISE_NOT_KEPT = N_("The promise to pay by {date} was not kept: call and ask for payment or a new firm date.")
LETTER_NOT_KEPT = N_("The official letter to pay by {date} was not kept: call and ask for payment or a new firm date.")
DISPUTE_INSTRUCTION = N_("The customer disputes {invoice}: “{reason}”. First learn why: call them, ask what is wrong "
                         "and what would settle it; then /resolve {invoice} (with a new amount if it changes).")
INSTALMENT_REMINDER_INSTRUCTION = N_("Friendly reminder of {label}.")
INSTALMENT_CHECK_INSTRUCTION = N_("Check that {label} arrived. If it did not, the main ladder resumes after this step.")
INSTALMENT_LABEL = N_("instalment {number} of {count} ({amount}, due {date})")
NUDGE_INSTRUCTION = N_("You were reminded of “{step}” for {invoice} and have not answered. "
                       "Press what happened (done, paid, promised…) so the ladder can go on.")
ESCALATION_INSTRUCTION = N_("@{handle} has not answered “{step}” for {invoice} after a reminder. "
                            "Check with them, or take the step yourself.")

TEMPLATES = (INSTALMENT_REMINDER, INSTALMENT_CHECK, NUDGE_NAME, ESCALATION_NAME, PROMISE_NOT_KEPT, LETTER_NOT_KEPT,
             DISPUTE_INSTRUCTION, INSTALMENT_REMINDER_INSTRUCTION, INSTALMENT_CHECK_INSTRUCTION, INSTALMENT_LABEL,
             NUDGE_INSTRUCTION, ESCALATION_INSTRUCTION)
"""The stored texts with values in them; the fixed names are looked up as they are."""
NESTED = frozenset(("step", "label"))
"""Values that are stored texts themselves (the step a nudge follows, an instalment's label)."""


def stored_text(template: str, /, **values: object) -> str:
    """What the database keeps: the English template with its values."""
    return template.format(**values)


@functools.cache
def _pattern(template: str) -> re.Pattern[str]:
    pieces: list[str] = []
    seen: set[str] = set()
    for index, piece in enumerate(re.split(r"\{(\w+)\}", template)):
        if index % 2 == 0:
            pieces.append(re.escape(piece))
        elif piece in seen:
            pieces.append(f"(?P={piece})")
        else:
            seen.add(piece)
            pieces.append(f"(?P<{piece}>.+?)")
    return re.compile("".join(pieces) + r"\Z", re.DOTALL)


def shown_step_text(text: str | None) -> str:
    """A stored step name or instruction in the current speaker's language."""
    if not text:
        return text or ""
    for template in TEMPLATES:
        if match := _pattern(template).match(text):
            values = {key: shown_step_text(value) if key in NESTED else value for key, value in match.groupdict().items()}
            return _(template, **values)
    return _(text)
