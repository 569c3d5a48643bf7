"""Plans each invoice's stored steps from its ladder policy: when it is added (one or many at
once) and when the course asks for the rest of the ladder again (a change of facts, a reopened
invoice). It decides nothing about outcomes; `scheduling.course` does, and calls it.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from bot.store.models import Invoice, LadderStep, Role, StepKind, StepState, Team
from bot.floor.errors import UsageError
from bot.i18n import _
from scheduling import course
from scheduling.due_table import insert_steps
from scheduling.planning import Assignee, PlannedStep, plan
from scheduling.policies import LadderPolicy
from scheduling.working_hours import hours_of

if TYPE_CHECKING:
    from scheduling.course_context import CourseContext as Context

BULK_CHUNK = 5000


class LadderKeeper:
    def __init__(self, policies: Mapping[str, LadderPolicy]) -> None:
        self.policies = dict(policies)

    def policy(self, name: str) -> LadderPolicy:
        try:
            return self.policies[name]
        except KeyError:
            known = ", ".join(sorted(self.policies))
            raise UsageError(_("There is no ladder called {name}. Ladders: {known}. /ladders describes them.", name=repr(name),
                               known=known),
                             f"/add INV-1042 1200 EUR 2026-12-01 Acme ladder={next(iter(sorted(self.policies)), 'standard')}",
                             "ladder") from None

    def planned(self, ctx: "Context", invoice: Invoice, resume_at: int | None = None) -> list[PlannedStep]:
        return plan(
            self.policy(invoice.ladder),
            due_date=invoice.due_date,
            added_at=invoice.created_at,
            now=ctx.now,
            country=course.country_of(ctx.session, invoice),
            people=self.people_for(ctx, invoice),
            resume_at=resume_at,
        )

    def start(self, ctx: "Context", invoice: Invoice) -> list[PlannedStep]:
        """Plan a new invoice's ladder: one insert of plain rows (no ORM objects to build and flush).
        Returns the steps as planned."""
        ctx.session.flush()
        planned = self.planned(ctx, invoice)
        insert_steps(ctx.session.connection(), [step_row(invoice, step) for step in planned])
        return planned

    def plan_again(self, ctx: "Context", invoice: Invoice, delivered: int) -> list[LadderStep]:
        """The ladder's steps after position `delivered` (already gone out), planned from now. With
        nothing delivered it is planned as for a new invoice (an overdue one at its late-entry step)."""
        policy = self.policy(invoice.ladder)
        ctx.session.flush()
        if delivered >= len(policy.steps):
            return []
        planned = self.planned(ctx, invoice, resume_at=delivered if delivered else None)
        steps = [stored_step(invoice, step) for step in planned if step.position > delivered and step.state != "skipped"]
        ctx.session.add_all(steps)
        return steps

    def invoices_added(self, ctx: "Context", invoices: Sequence[Invoice]) -> None:
        """Plan many new invoices at once (bulk import): one insert per chunk of steps."""
        people: dict[tuple[int, int | None], dict[str, Assignee]] = {}
        countries: dict[int, str] = {}
        rows: list[dict[str, object]] = []
        for invoice in invoices:
            key = (invoice.owner_id, invoice.collector_id)
            if key not in people:
                people[key] = self.people_for(ctx, invoice)
            if invoice.customer_id not in countries:
                countries[invoice.customer_id] = course.country_of(ctx.session, invoice)
            planned = plan(self.policy(invoice.ladder), due_date=invoice.due_date, added_at=invoice.created_at, now=ctx.now,
                           country=countries[invoice.customer_id], people=people[key])
            rows.extend(step_row(invoice, step) for step in planned)
            if len(rows) >= BULK_CHUNK:
                insert_steps(ctx.session.connection(), rows)
                rows = []
        insert_steps(ctx.session.connection(), rows)

    def people_for(self, ctx: "Context", invoice: Invoice) -> dict[str, Assignee]:
        team = ctx.session.get(Team, invoice.team_id)
        people = course.responsible_people(ctx.session, invoice)  # every role
        return {role_key(Role(role)): Assignee(person.id, hours_of(person, team))  # type: ignore[arg-type]
                for role, person in people.items()}


def role_key(role: Role) -> str:
    return "owner" if role == Role.SALESPERSON else role.value


def step_row(invoice: Invoice, step: PlannedStep) -> dict[str, object]:
    return dict(
        invoice_id=invoice.id, position=step.position, name=step.name, action=step.action,
        responsible_role=step.responsible_role, responsible_id=step.responsible_id, stage=step.stage, tone=step.tone,
        instruction=step.instruction, ack_within_seconds=step.ack_within_seconds, due_at=step.due_at,
        state=StepState(step.state), deadline=step.deadline, kind=StepKind.LADDER, attempts=0, nudges=0, retries=0,
        gate=step.gate,
    )


def stored_step(invoice: Invoice, step: PlannedStep) -> LadderStep:
    return LadderStep(**step_row(invoice, step))  # type: ignore[arg-type]
