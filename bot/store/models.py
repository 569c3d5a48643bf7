"""The stored world: teams, people and their chat identities, customers, invoices, ladder steps
and the append-only event log."""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, PrimaryKeyConstraint, UniqueConstraint, text
from sqlalchemy import Enum as SAEnum
from sqlmodel import Field, SQLModel

from bot.store.db_types import ExactAmount, UTCDateTime


class Role(StrEnum):
    SALESPERSON = "salesperson"
    COLLECTOR = "collector"
    MANAGER = "manager"
    LAWYER = "lawyer"


class InvoiceStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    DISPUTED = "disputed"
    CANCELLED = "cancelled"


class StepState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"
    PAUSED = "paused"
    """Held while a dispute is open; resumed (re-timed) by /resolve."""
    UNDELIVERABLE = "undeliverable"
    """The platform refused the ping for good (the person blocked the bot, left the workspace): never
    marked sent, not retried; the manager was brought in instead."""
    WAITING = "waiting"
    """Behind a gate (a formal claim, an official letter) not yet confirmed done; planned from the
    day the gate is confirmed."""


class StepKind(StrEnum):
    """Why a step exists: the policy's own steps, or one the ladder's course added."""

    LADDER = "ladder"
    NUDGE = "nudge"
    ESCALATION = "escalation"
    BROKEN_PROMISE = "broken_promise"
    INSTALMENT = "instalment"
    DISPUTE = "dispute"


def text_enum(enum: type[StrEnum]) -> SAEnum:
    """Stored as its plain value in a short VARCHAR, read back as the enum member."""
    return SAEnum(enum, native_enum=False, length=16, values_callable=lambda members: [m.value for m in members])


class Team(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("name", name="uq_team_name"),)
    """Two people writing to a fresh bot at the same moment create one team, not two."""

    id: int | None = Field(default=None, primary_key=True)
    name: str
    default_currency: str = Field(max_length=3)
    default_timezone: str
    default_country: str = Field(max_length=2)
    default_language: str = Field(default="en", max_length=8)
    default_ladder: str = "standard"
    locale: str | None = Field(default=None, max_length=8, description="how drafts write money and dates: en_GB, nb_NO…")
    created_at: datetime = Field(sa_type=UTCDateTime)


class Person(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("team_id", "handle"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    handle: str = Field(max_length=64)
    display_name: str
    role: Role = Field(sa_type=text_enum(Role))
    is_admin: bool = False
    timezone: str
    language: str = Field(default="en", max_length=8)
    work_start: time = time(9, 0)
    work_end: time = time(17, 0)
    workdays: str = Field(default="0,1,2,3,4", description="ISO weekday numbers, Monday = 0")
    holiday_country: str | None = Field(default=None, max_length=2)
    manager_id: int | None = Field(default=None, foreign_key="person.id")
    active: bool = True
    signature_name: str | None = Field(default=None, description="the full name drafts are signed with")
    job_title: str | None = None
    company_name: str | None = Field(default=None, description="the legal name under the signature (else the team's)")
    created_at: datetime = Field(sa_type=UTCDateTime)

    @property
    def workday_numbers(self) -> frozenset[int]:
        return frozenset(int(day) for day in self.workdays.split(",") if day)

    @property
    def is_manager(self) -> bool:
        return self.is_admin or self.role == Role.MANAGER


class ChatIdentity(SQLModel, table=True):
    """Links an account on a platform (Telegram user id, Slack team+user id, console name) to a
    person on the team."""

    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    platform: str = Field(max_length=16)
    external_id: str = Field(max_length=128)
    chat_id: str | None = Field(default=None, max_length=128, description="where pings go")
    created_at: datetime = Field(sa_type=UTCDateTime)


class Customer(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("team_id", "name_key"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    name: str
    name_key: str = Field(description="case- and space-folded name, for finding the customer again")
    country: str = Field(max_length=2)
    contact_name: str | None = None
    language: str | None = Field(default=None, max_length=8)
    tone: str | None = Field(default=None, max_length=16)
    locale: str | None = Field(default=None, max_length=8)
    contact_given: str | None = None
    contact_family: str | None = None
    contact_patronymic: str | None = None
    contact_title: str | None = Field(default=None, max_length=16, description="Ms, Mr, Dr… (the salutation's form of address)")
    contact_gender: str | None = Field(default=None, max_length=8, description="female or male, where the language's salutation needs it")
    contract: str | None = Field(default=None, description="the contract a formal claim refers to, e.g. 'No. 12/2026 of 1 March 2026'")
    created_at: datetime = Field(sa_type=UTCDateTime)


class Invoice(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("team_id", "number"),
        # /list's first page and the current month of /overdue read this index alone (migration 0009)
        Index("ix_invoice_team_due_covering", "team_id", "due_date", "status", "currency", "owner_id", "collector_id",
              "customer_id", "balance"),
        Index("ix_invoice_team_promised", "team_id", "promised_date"),
        # /overdue's promises due this week and broken promises: counted from the index alone (migration 0011)
        Index("ix_invoice_team_status_promised", "team_id", "status", "promised_date"),
        Index("ix_invoice_team_status_currency", "team_id", "status", "currency", "due_date", "balance"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    number: str = Field(max_length=64)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    amount: Decimal = Field(sa_type=ExactAmount)
    balance: Decimal = Field(sa_type=ExactAmount)
    currency: str = Field(max_length=3)
    issue_date: date | None = None
    due_date: date = Field(index=True)
    owner_id: int = Field(foreign_key="person.id", index=True)
    collector_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    ladder: str = Field(max_length=64)
    status: InvoiceStatus = Field(default=InvoiceStatus.OPEN, sa_type=text_enum(InvoiceStatus), index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    paid_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    promised_date: date | None = None
    broken_promises: int = 0
    dispute_reason: str | None = None


class LadderStep(SQLModel, table=True):
    """One scheduled step of an invoice's ladder: the due table the scheduler fires from."""

    __tablename__ = "ladder_step"
    __table_args__ = (
        Index("ix_ladder_step_state_due_at", "state", "due_at"),
        # /overdue's "steps due and not done": sent and unanswered only, a small part of the table (migration 0009)
        Index("ix_ladder_step_unanswered", "due_at", "responsible_id", "invoice_id",
              sqlite_where=text("state = 'sent' AND acknowledged_at IS NULL"),
              postgresql_where=text("state = 'sent' AND acknowledged_at IS NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    position: int
    name: str = Field(max_length=64)
    action: str = Field(max_length=16)
    responsible_role: str = Field(max_length=16)
    responsible_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    stage: str = Field(max_length=32)
    tone: str = Field(max_length=16)
    instruction: str = ""
    ack_within_seconds: int = 4 * 3600
    due_at: datetime = Field(sa_type=UTCDateTime)
    state: StepState = Field(default=StepState.PENDING, sa_type=text_enum(StepState))
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    first_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime,
                                           description="its first delivery; re-arming clears sent_at, never this")
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0
    kind: StepKind = Field(default=StepKind.LADDER, sa_type=text_enum(StepKind))
    nudges: int = Field(default=0, description="unanswered-ping follow-ups so far: 1 = repeated, 2 = escalated")
    retries: int = Field(default=0, description="'no answer' retries so far")
    outcome: str | None = Field(default=None, max_length=32)
    deadline: date | None = None
    gate: bool = Field(default=False, description="later ladder steps wait until this one is confirmed done")
    follows_step_id: int | None = Field(default=None, foreign_key="ladder_step.id",
                                        description="the step a nudge, escalation or dispute reminder is about")
    texts: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True),
                                         description="a run-time step's name and instruction as stored texts "
                                                     "(scheduling/step_texts.py), rendered in the reader's language")


class InstanceHeartbeat(SQLModel, table=True):
    """One row per running scheduler instance, renewed by one small UPDATE per beat: while
    `alive_until` is ahead, the steps it claimed stay its own however long they take to send."""

    __tablename__ = "instance_heartbeat"

    instance: str = Field(primary_key=True, max_length=64)
    alive_until: datetime = Field(sa_type=UTCDateTime)


class Event(SQLModel, table=True):
    """Append-only history: who did what to which invoice, and when."""

    __table_args__ = (Index("ix_event_team_kind_at", "team_id", "kind", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    invoice_id: int | None = Field(default=None, foreign_key="invoice.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="person.id")
    kind: str = Field(max_length=32)
    summary: str
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime = Field(sa_type=UTCDateTime)


class Payment(SQLModel, table=True):
    """One recorded payment; an undone one stays, marked, so the history keeps it.
    The invoice's balance is its amount less the payments not undone."""

    __table_args__ = (
        # "collected this week/month" reads the period's payments from this index alone (migration 0011)
        Index("ix_payment_recorded_at", "recorded_at", "undone_at", "invoice_id", "amount"),
    )

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    amount: Decimal = Field(sa_type=ExactAmount)
    recorded_by: int | None = Field(default=None, foreign_key="person.id")
    recorded_at: datetime = Field(sa_type=UTCDateTime)
    undone_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    undone_by: int | None = Field(default=None, foreign_key="person.id")


class Instalment(SQLModel, table=True):
    """One part of an agreed payment plan; each has its own short ladder."""

    __table_args__ = (UniqueConstraint("invoice_id", "sequence"),)

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    sequence: int
    amount: Decimal = Field(sa_type=ExactAmount)
    due_date: date
    created_at: datetime = Field(sa_type=UTCDateTime)


class Invite(SQLModel, table=True):
    """A one-time code an admin gives a colleague to link their chat account (Telegram deep link
    `t.me/<bot>?start=<code>`, or `/start <code>` anywhere)."""

    code: str = Field(primary_key=True, max_length=32)
    person_id: int = Field(foreign_key="person.id", index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PingMessage(SQLModel, table=True):
    """A ping that goes out in several parts, rendered once for one chat: the parts exactly as the
    platform gets them and how many have reached it, so a retry (or another instance after a
    crash) sends the same text and goes on where delivery stopped."""

    __tablename__ = "ping_message"
    __table_args__ = (Index("ix_ping_message_chat", "platform", "chat_id", "finished_at"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    chat_id: str = Field(max_length=128)
    step_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    parts: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    parts_sent: int = 0
    composed_by: str = Field(max_length=64)
    composed_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: str | None = Field(default=None, max_length=16, description="delivered, undeliverable or superseded")


class Tally(SQLModel):
    """What every trigger-kept tally row has (migration 0009): the team and the currency, both part
    of its key, and how many invoices it counts."""

    team_id: int = Field(primary_key=True)
    currency: str = Field(primary_key=True, max_length=3)
    invoices: int = 0


class BalanceTally(Tally):
    """A tally of open (and disputed) invoices and their balances."""

    balance: Decimal = Field(default=Decimal(0), sa_type=ExactAmount)


class ReceivableDay(BalanceTally, table=True):
    """Open (and disputed) balances per currency and due date, kept by database triggers on
    `invoice` in the same transaction (migration 0009): the aging and the totals read a few
    thousand rows instead of every invoice."""

    __tablename__ = "receivable_day"
    __table_args__ = (PrimaryKeyConstraint("team_id", "currency", "due_date"), {"sqlite_with_rowid": False})

    due_date: date = Field(primary_key=True)


class ReceivableMonth(BalanceTally, table=True):
    """Open (and disputed) balances per owner, per collector (0: none) and per customer
    (`dimension`), per currency and month of the due date, kept by the same triggers: every month
    before the current one is wholly overdue, so the per-person and per-customer tables read
    these rows plus the current month's overdue invoices."""

    __tablename__ = "receivable_month"
    __table_args__ = (PrimaryKeyConstraint("team_id", "dimension", "subject_id", "currency", "due_month"),
                      {"sqlite_with_rowid": False})

    dimension: str = Field(primary_key=True, max_length=10, description="owner | collector | customer")
    subject_id: int = Field(primary_key=True)
    due_month: date = Field(primary_key=True)


class SalesMonth(Tally, table=True):
    """Amounts invoiced per currency and month of issue (the creation date when no issue date was
    given), kept by triggers on `invoice`: the sales side of DSO's countback."""

    __tablename__ = "sales_month"
    __table_args__ = (PrimaryKeyConstraint("team_id", "currency", "month"), {"sqlite_with_rowid": False})

    month: date = Field(primary_key=True)
    amount: Decimal = Field(default=Decimal(0), sa_type=ExactAmount)


class CollectedSlot(SQLModel, table=True):
    """The payments that stand (not undone) per currency and quarter hour of their recording (UTC),
    kept by triggers on `payment` (migration 0011): "collected this week/month" in any time zone
    sums a few hundred of these rows."""

    __tablename__ = "collected_slot"
    __table_args__ = {"sqlite_with_rowid": False}

    team_id: int = Field(primary_key=True)
    currency: str = Field(primary_key=True, max_length=3)
    slot: datetime = Field(primary_key=True, sa_type=UTCDateTime)
    payments: int = 0
    amount: Decimal = Field(default=Decimal(0), sa_type=ExactAmount)


class ExchangeRate(SQLModel, table=True):
    """A rate a manager gave with /rates: 1 `currency` = `rate` of the team's currency."""

    __tablename__ = "exchange_rate"

    team_id: int = Field(foreign_key="team.id", primary_key=True)
    currency: str = Field(primary_key=True, max_length=3)
    quote_currency: str = Field(max_length=3)
    rate: str = Field(max_length=32, description="a Decimal as text: exact on SQLite too")
    set_by: int | None = Field(default=None, foreign_key="person.id")
    set_at: datetime = Field(sa_type=UTCDateTime)


class DigestSubscription(SQLModel, table=True):
    """A person's /digest: daily or weekly at a local time in their own zone."""

    __tablename__ = "digest_subscription"

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    cadence: str = Field(max_length=8, description="daily | weekly")
    weekday: int | None = Field(default=None, description="Monday = 0, for weekly digests")
    at: time
    created_at: datetime = Field(sa_type=UTCDateTime)


class DigestRun(SQLModel, table=True):
    """One delivered digest (or morning list) per person and period: the unique key is the claim
    that keeps several instances from sending it twice."""

    __tablename__ = "digest_run"
    __table_args__ = (UniqueConstraint("person_id", "kind", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    kind: str = Field(max_length=16, description="digest | morning")
    period: str = Field(max_length=16, description="the local date (daily) or ISO week (weekly) it covers")
    scheduled_for: datetime = Field(sa_type=UTCDateTime)
    claimed_by: str = Field(max_length=64)
    sent_at: datetime = Field(sa_type=UTCDateTime)
    late: bool = False
