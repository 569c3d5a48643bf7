"""A step added at run time (a promise follow-up, a dispute, an instalment's reminder and check, a
nudge, an escalation) keeps its name and instruction as stored texts — a template key and its values
(`ladder_step.texts`) — rendered in the reader's language where shown. Existing rows are read back
from their English text by the templates they were written from (as of this revision); a text none
matches stays as it is, looked up in the catalogs as before.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""
import re
from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from alembic import op


revision: str = '0014'
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEMPLATES = {
    "promise_follow_up": "Promise follow-up",
    "dispute_to_resolve": "Dispute to resolve",
    "dispute_still_open": "Dispute still open",
    "instalment_reminder": "Instalment {sequence} reminder",
    "instalment_check": "Instalment {sequence} check",
    "nudge": "No answer yet: {step}",
    "escalation": "Escalated: {step}",
    "promise_not_kept": "The promise to pay by {date} was not kept: call and ask for payment or a new firm date.",
    "letter_not_kept": "The official letter to pay by {date} was not kept: call and ask for payment or a new firm date.",
    "dispute_instruction": "The customer disputes {invoice}: “{reason}”. First learn why: call them, ask what is wrong "
                           "and what would settle it; then /resolve {invoice} (with a new amount if it changes).",
    "instalment_reminder_instruction": "Friendly reminder of {label}.",
    "instalment_check_instruction": "Check that {label} arrived. If it did not, the main ladder resumes after this step.",
    "instalment_label": "instalment {number} of {count} ({amount}, due {date})",
    "nudge_instruction": "You were reminded of “{step}” for {invoice} and have not answered. "
                         "Press what happened (done, paid, promised…) so the ladder can go on.",
    "escalation_instruction": "@{handle} has not answered “{step}” for {invoice} after a reminder. "
                              "Check with them, or take the step yourself.",
}
"""Frozen here: the English the rows were written in, whatever the templates become later."""


def pattern(template: str) -> re.Pattern[str]:
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


PATTERNS = {key: pattern(template) for key, template in TEMPLATES.items()}


def stored(text: str) -> dict[str, Any] | None:
    for key, found in PATTERNS.items():
        if match := found.match(text):
            return {"key": key, "values": {name: value_of(name, value) for name, value in match.groupdict().items()}}
    return None


def value_of(name: str, value: str) -> Any:
    if name == "step":
        return stored(value) or {"text": value}
    if name == "label":
        return stored(value) or value
    if name == "date":
        try:
            return {"date": date.fromisoformat(value).isoformat()}
        except ValueError:
            return value  # an instalment's label wrote its date in its author's locale
    return value


def upgrade() -> None:
    with op.batch_alter_table('ladder_step', schema=None) as batch_op:
        batch_op.add_column(sa.Column('texts', sa.JSON(), nullable=True))
    step = sa.table("ladder_step", sa.column("id", sa.Integer), sa.column("kind", sa.String), sa.column("name", sa.String),
                    sa.column("instruction", sa.String), sa.column("texts", sa.JSON))
    connection = op.get_bind()
    rows = connection.execute(sa.select(step.c.id, step.c.name, step.c.instruction).where(step.c.kind != "ladder")).all()
    for row in rows:
        name, instruction = stored(row.name or ""), stored(row.instruction or "")
        if name is None and instruction is None:
            continue
        texts = {"name": name or {"text": row.name}, "instruction": instruction or row.instruction or ""}
        connection.execute(sa.update(step).where(step.c.id == row.id).values(texts=texts))


def downgrade() -> None:
    with op.batch_alter_table('ladder_step', schema=None) as batch_op:
        batch_op.drop_column('texts')
