"""Keeps each invoice's stored steps in line with the invoice: plans them when it is added,
cancels them when it is paid, and follows partial payments through a payment plan.

Registered as an invoice hook, so it runs inside the command's transaction: the invoice and its
steps change together or not at all.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from sqlmodel import col, select

from bot.models import Instalment, Invoice, InvoiceStatus, LadderStep, Role, StepKind, StepState, Team
from handlers.context import Context, Services
from handlers.errors import UsageError
from scheduling import course
from scheduling.due_table import insert_steps
from scheduling.planning import Assignee, PlannedStep, plan
from scheduling.policies import LadderPolicy
from scheduling.working_hours import hours_of

DEFAULT_PROMISE_GRACE = 1
BULK_CHUNK = 5000


class LadderKeeper:
    def __init__(self, policies: Mapping[str, LadderPolicy]) -> None:
        self.policies = dict(policies)

    def policy(self, name: str) -> LadderPolicy:
        try:
            return self.policies[name]
        except KeyError:
            known = ", ".join(sorted(self.policies))
            raise UsageError(f"There is no ladder called {name!r}. Ladders: {known}. /ladders describes them.",
                             f"/add INV-1042 1200 EUR 2026-12-01 Acme ladder={next(iter(sorted(self.policies)), 'standard')}") from None

    def invoice_changed(self, ctx: Context, invoice: Invoice) -> None:
        if invoice.status in (InvoiceStatus.PAID, InvoiceStatus.CANCELLED):
            self.close(ctx, invoice)
        elif not ctx.session.exec(select(LadderStep.id).where(LadderStep.invoice_id == invoice.id).limit(1)).first():
            self.start(ctx, invoice)
        else:
            self.follow_plan(ctx, invoice)

    def start(self, ctx: Context, invoice: Invoice) -> list[LadderStep]:
        policy = self.policy(invoice.ladder)
        ctx.session.flush()
        planned = plan(
            policy,
            due_date=invoice.due_date,
            added_at=invoice.created_at,
            now=ctx.now,
            country=course.country_of(ctx.session, invoice),
            people=self.people_for(ctx, invoice),
        )
        steps = [stored_step(invoice, step) for step in planned]
        ctx.session.add_all(steps)
        return steps

    def replan(self, ctx: Context, invoice: Invoice) -> None:
        """The due date, people or ladder changed: undelivered ladder steps are planned again from
        now; steps already delivered are not repeated."""
        self.policy(invoice.ladder)
        undelivered = course.steps_of(ctx.session, invoice, [StepState.PENDING, StepState.PAUSED], [StepKind.LADDER])
        course.cancel_steps(ctx.session, undelivered, "replanned")
        done = max((s.position for s in course.steps_of(
            ctx.session, invoice, [StepState.SENDING, StepState.SENT, StepState.ACKNOWLEDGED], [StepKind.LADDER])), default=0)
        ctx.session.flush()
        for step in self.start(ctx, invoice):
            if step.position <= done:
                ctx.session.expunge(step)

    def invoices_added(self, ctx: Context, invoices: Sequence[Invoice]) -> None:
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

    def close(self, ctx: Context, invoice: Invoice) -> None:
        """Paid or cancelled: every step not yet delivered is cancelled at once; pings waiting for
        an answer are answered by the payment."""
        outcome = "paid" if invoice.status == InvoiceStatus.PAID else "cancelled"
        course.acknowledge(ctx.session, invoice, outcome, ctx.now)
        course.cancel_steps(ctx.session, course.steps_of(
            ctx.session, invoice, [StepState.PENDING, StepState.SENDING, StepState.PAUSED]), outcome)

    def follow_plan(self, ctx: Context, invoice: Invoice) -> None:
        """A partial payment on a payment plan: instalments now covered lose their checks, and the
        main ladder waits behind the next instalment still open."""
        instalments = list(ctx.session.exec(
            select(Instalment).where(Instalment.invoice_id == invoice.id).order_by(col(Instalment.sequence))))
        if not instalments:
            return
        paid = sum((i.amount for i in instalments), Decimal(0)) - invoice.balance
        covered = 0
        running = Decimal(0)
        for instalment in instalments:
            running += instalment.amount
            if running <= paid:
                covered = instalment.sequence
        open_checks = course.steps_of(ctx.session, invoice, [StepState.PENDING], [StepKind.INSTALMENT])
        for step in open_checks:
            if instalment_number(step) <= covered:
                course.cancel_steps(ctx.session, [step], "instalment paid")
        remaining = [s for s in open_checks if instalment_number(s) > covered and s.name.endswith("check")]
        if remaining:
            course.push_ladder_after(ctx.session, invoice, remaining[0].due_at)

    def people_for(self, ctx: Context, invoice: Invoice) -> dict[str, Assignee]:
        team = ctx.session.get(Team, invoice.team_id)
        people: dict[str, Assignee] = {}
        for role in (Role.SALESPERSON, Role.COLLECTOR, Role.MANAGER, Role.LAWYER):
            person = course.responsible_person(ctx.session, invoice, role)
            people[role_key(role)] = Assignee(person.id, hours_of(person, team))  # type: ignore[arg-type]
        return people


def role_key(role: Role) -> str:
    return "owner" if role == Role.SALESPERSON else role.value


def instalment_number(step: LadderStep) -> int:
    return int(step.name.split()[1])


def step_row(invoice: Invoice, step: PlannedStep) -> dict[str, object]:
    return dict(
        invoice_id=invoice.id, position=step.position, name=step.name, action=step.action,
        responsible_role=step.responsible_role, responsible_id=step.responsible_id, stage=step.stage, tone=step.tone,
        instruction=step.instruction, ack_within_seconds=step.ack_within_seconds, due_at=step.due_at,
        state=StepState(step.state), deadline=step.deadline, kind=StepKind.LADDER, attempts=0, nudges=0, retries=0,
    )


def stored_step(invoice: Invoice, step: PlannedStep) -> LadderStep:
    return LadderStep(**step_row(invoice, step))  # type: ignore[arg-type]


def promise_grace_days(services: Services, ladder: str) -> int:
    policy = services.ladders.get(ladder)
    return policy.promise_grace_business_days if policy else DEFAULT_PROMISE_GRACE
