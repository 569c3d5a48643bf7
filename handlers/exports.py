"""/overdue export csv|xlsx: one row per overdue invoice in scope, streamed from the database in
batches. Cells that a spreadsheet would run as a formula (starting with = + - @, or a tab or
carriage return) are neutralised with a leading apostrophe."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from babel.numbers import get_currency_precision
from sqlmodel import Session, col

from bot.i18n import N_, _, ngettext
from bot.store.models import Customer, Instalment, Invoice, InvoiceStatus, LadderStep, Person, StepState
from handlers.overdue_figures import Scope, bucket_label, bucket_of
from scheduling.step_texts import step_name

COLUMNS = (N_("Customer"), N_("Number"), N_("Amount"), N_("Balance"), N_("Currency"), N_("Due date"), N_("Days overdue"),
           N_("Bucket"), N_("Owner"), N_("Collector"), N_("Current step"), N_("Next step"), N_("Next step at"),
           N_("Promise date"), N_("Dispute"), N_("Plan"))
"""The header row, written in the requester's language; the cells keep machine-readable forms (ISO
dates, plain decimal amounts, currency codes)."""
SHEET = N_("Overdue")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BATCH = 2000
MAX_ROWS = 200_000


def neutralise(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


Row = tuple[str, str, Decimal, Decimal, str, date, int, str, str, str, str, str, datetime | None, date | None, str, str]


def export_rows(session: Session, scope: Scope, timezone: str, locale: str) -> Iterator[Row]:
    """Overdue invoices in scope, oldest first, with their ladder's current and next step (words in
    the speaker's language, step names in `locale`)."""
    zone = ZoneInfo(timezone)
    people = {p.id: p.handle for p in session.execute(sa.select(Person).where(col(Person.team_id) == scope.team_id)).scalars()}
    last_id: int | None = None
    last_due: date | None = None
    produced = 0
    while produced < MAX_ROWS:
        query = (sa.select(Invoice, col(Customer.name))
                 .join(Customer, col(Customer.id) == col(Invoice.customer_id))
                 .where(*scope.overdue_conditions()))
        if last_due is not None:
            query = query.where(sa.or_(col(Invoice.due_date) > last_due,
                                       sa.and_(col(Invoice.due_date) == last_due, col(Invoice.id) > last_id)))
        batch = session.execute(query.order_by(col(Invoice.due_date), col(Invoice.id)).limit(BATCH)).all()
        if not batch:
            return
        ids = [invoice.id for invoice, _customer in batch]
        steps = _steps(session, ids)
        plans: dict[int, int] = dict(session.execute(
            sa.select(col(Instalment.invoice_id), sa.func.count()).where(col(Instalment.invoice_id).in_(ids))
            .group_by(col(Instalment.invoice_id))).all())
        for invoice, customer in batch:
            current, upcoming = steps.get(invoice.id, (None, None))
            days = (scope.today - invoice.due_date).days
            yield (
                customer, invoice.number, invoice.amount, invoice.balance, invoice.currency, invoice.due_date, days,
                bucket_label(bucket_of(days).label), people.get(invoice.owner_id, "?"),
                people.get(invoice.collector_id, "") if invoice.collector_id is not None else "",
                step_name(current, locale) if current else "", step_name(upcoming, locale) if upcoming else "",
                upcoming.due_at.astimezone(zone).replace(tzinfo=None) if upcoming else None,
                invoice.promised_date,
                invoice.dispute_reason or (_("disputed") if invoice.status == InvoiceStatus.DISPUTED else ""),
                ngettext("{n} instalment", "{n} instalments", plans[invoice.id]) if invoice.id in plans else "",
            )
            produced += 1
        last_due, last_id = batch[-1][0].due_date, batch[-1][0].id


def _steps(session: Session, invoice_ids: list[int | None]) -> dict[int, tuple[LadderStep | None, LadderStep | None]]:
    """Per invoice: the last step sent (the current one) and the first still pending (the next)."""
    result: dict[int, tuple[LadderStep | None, LadderStep | None]] = {}
    for step in session.execute(sa.select(LadderStep).where(
        col(LadderStep.invoice_id).in_(invoice_ids),
        col(LadderStep.state).in_([StepState.SENT.value, StepState.ACKNOWLEDGED.value, StepState.PENDING.value]),
    ).order_by(col(LadderStep.due_at))).scalars():
        current, upcoming = result.get(step.invoice_id, (None, None))
        if step.state == StepState.PENDING:
            upcoming = upcoming or step
        else:
            current = step
        result[step.invoice_id] = (current, upcoming)
    return result


def in_minor_units(amount: Decimal, currency: str) -> Decimal:
    """1000 EUR as 1000.00, 5 JPY as 5: the currency's own decimals (more only if stored)."""
    exponent = Decimal(1).scaleb(-get_currency_precision(currency))
    return amount.quantize(exponent) if amount == amount.quantize(exponent) else amount


def _cells(row: Row) -> list[str]:
    return [
        neutralise(row[0]), neutralise(row[1]), str(in_minor_units(row[2], row[4])), str(in_minor_units(row[3], row[4])), row[4],
        row[5].isoformat(), str(row[6]), row[7],
        neutralise(row[8]), neutralise(row[9]), neutralise(row[10]), neutralise(row[11]),
        row[12].strftime("%Y-%m-%d %H:%M") if row[12] else "", row[13].isoformat() if row[13] else "",
        neutralise(row[14]), row[15],
    ]


def export_csv(rows: Iterator[Row]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_(name) for name in COLUMNS])
    for row in rows:
        writer.writerow(_cells(row))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def export_xlsx(rows: Iterator[Row]) -> bytes:
    """A real spreadsheet: numbers as numbers (with the currency's decimals), dates as dates,
    text as text that never runs as a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_(SHEET))
    sheet.freeze_panes = "A2"
    header_font = Font(bold=True)
    from openpyxl.cell import WriteOnlyCell

    header = []
    for name in COLUMNS:
        cell = WriteOnlyCell(sheet, value=_(name))
        cell.font = header_font
        header.append(cell)
    sheet.append(header)
    for row in rows:
        texts = _cells(row)
        values: list[object] = list(texts)
        values[2], values[3] = row[2], row[3]
        values[5], values[6] = row[5], row[6]
        values[12], values[13] = row[12], row[13]
        cells = []
        for index, value in enumerate(values):
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # stored as text even when it looks like a formula
            elif index in (2, 3):
                cell.number_format = "#,##0.00"
            elif index == 5 or index == 13:
                cell.number_format = "yyyy-mm-dd"
            elif index == 12:
                cell.number_format = "yyyy-mm-dd hh:mm"
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
