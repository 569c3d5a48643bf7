"""Bulk intake: a CSV of invoices, checked in a dry run (every bad row with its line and reason),
then stored in one transaction — all good rows or nothing. Importing the same file again changes
nothing: rows are matched on the invoice number.

Columns (header names are case- and space-insensitive): number, customer, amount, currency,
issue date, due date, owner, collector, customer country, ladder. Comma or semicolon separated,
UTF-8 with or without a byte-order mark.

A checked file waits in the database (not in one process's memory) for its confirmation, so any
instance can take the confirming press; uploads are capped in size, in number per person and in
age. Whatever the file holds, the answer is a list of problems by line, never an internal error:
what the dry run accepts, the database stores.
"""
from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import col, select

from babel.numbers import format_decimal

from bot.i18n import N_, _, current_language, locale_for, ngettext
from bot.store.models import Customer, Event, Invoice, Person
from bot.store.stored_state import drop_state, forget_expired, get_state, put_state, states_of
from handlers.context import Context
from bot.floor.dates import parse_date
from bot.floor.errors import UsageError
from handlers.grammar import Command, IncomingFile
from handlers.countries import calendar_country, country_problem
from handlers.invoices import INVOICE_NUMBER, name_key
from scheduling.event_texts import history_event
from bot.floor.money import check_amount, parse_amount, parse_currency
from bot.floor.reply import BulletList, Button, Facts, Reply

# TRANSLATORS: keep "/import", translate the words in brackets.
IMPORT_EXAMPLE = N_("/import (with a CSV file attached)")
IMPORT_PATH_EXAMPLE = "/import invoices.csv"
"""Where a file is given by its path (the console), relative to the folder the bot runs in or absolute."""
REQUIRED = ("number", "customer", "amount", "due_date")
ALIASES = {
    "invoice": "number", "invoice_no": "number", "invoice_number": "number", "no": "number",
    "customer_name": "customer", "client": "customer", "sum": "amount", "total": "amount",
    "due": "due_date", "issued": "issue_date", "issue": "issue_date", "country": "customer_country",
    "salesperson": "owner",
}
COLUMNS = ("number", "customer", "amount", "currency", "issue_date", "due_date", "owner", "collector",
           "customer_country", "ladder")
SHOWN_ERRORS = 25
CHUNK = 2000
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
"""One CSV file at most this big; 5 MB holds some 50,000 invoices."""
WAITING_PER_PERSON = 3
"""Checked files a person may leave unconfirmed; a newer one replaces the oldest."""
WAITING_FOR = timedelta(hours=1)
WAITING_KIND = "csv-upload"
LADDER_NAME_LIMIT = 64


@dataclass(frozen=True)
class Row:
    line: int
    number: str
    customer: str
    amount: Decimal
    currency: str
    issue_date: date | None
    due_date: date
    owner_id: int
    collector_id: int | None
    country: str
    ladder: str


@dataclass
class Checked:
    digest: str
    filename: str
    new: list[Row]
    unchanged: int
    errors: list[tuple[int, str]]

    @property
    def total(self) -> int:
        return len(self.new) + self.unchanged + len(self.errors)


def import_command(command: Command, ctx: Context) -> Reply:
    confirm = command.option("confirm")
    if command.files:
        upload = command.files[0]
    elif confirm:
        upload = waiting_upload(ctx, confirm)
    elif ctx.sender.files_by_path:
        raise UsageError(_("Give the path of a CSV file after /import (columns: {columns}).", columns=", ".join(COLUMNS)),
                         IMPORT_PATH_EXAMPLE)
    else:
        raise UsageError(_("Attach a CSV file to /import (columns: {columns}).", columns=", ".join(COLUMNS)), IMPORT_EXAMPLE)
    check_size(upload)
    checked = check_file(ctx, upload)
    if not confirm:
        keep_waiting(ctx, checked.digest, upload)
        return dry_run_reply(checked)
    if confirm != checked.digest:
        raise UsageError(_("That confirmation is for another file; send the file again."))
    stored = store(ctx, checked)
    drop_state(ctx.session, WAITING_KIND, waiting_key(ctx, confirm))
    return Reply(title=ngettext("Imported {n} invoice from {file}", "Imported {n} invoices from {file}", stored,
                                file=upload.filename), blocks=[Facts((
        (_("New"), str(stored)), (_("Unchanged"), str(checked.unchanged)), (_("Skipped (bad rows)"), str(len(checked.errors))),
    ))]).say(_("Their ladders are planned; /list shows them."))


def check_size(upload: IncomingFile) -> None:
    if len(upload.content) > MAX_UPLOAD_BYTES:
        raise UsageError(too_big(upload.filename, len(upload.content)))


def too_big(filename: str, size: int) -> str:
    locale = locale_for(current_language())
    return _("{file} is {size} MB; one file may be at most {most} MB. Split it and send the parts one by one.",
             file=filename, size=format_decimal(round(size / 1024 / 1024, 1), "0.0", locale=locale),
             most=format_decimal(MAX_UPLOAD_BYTES // 1024 // 1024, locale=locale))


def waiting_key(ctx: Context, digest: str) -> str:
    """Per person: only the one who sent the file confirms it."""
    return f"{ctx.person.id}:{digest}"


def keep_waiting(ctx: Context, digest: str, upload: IncomingFile) -> None:
    """Keep the checked file until it is confirmed; a person's oldest beyond the cap is dropped."""
    holder = str(ctx.person.id)
    forget_expired(ctx.session, now=ctx.now, kind=WAITING_KIND)
    put_state(ctx.session, WAITING_KIND, waiting_key(ctx, digest), {"filename": upload.filename, "mime_type": upload.mime_type},
              now=ctx.now, ttl=WAITING_FOR, holder=holder, content=upload.content)
    waiting = states_of(ctx.session, WAITING_KIND, holder, now=ctx.now)
    for old in waiting[:max(0, len(waiting) - WAITING_PER_PERSON)]:
        drop_state(ctx.session, WAITING_KIND, old.key)


def waiting_upload(ctx: Context, digest: str) -> IncomingFile:
    entry = get_state(ctx.session, WAITING_KIND, waiting_key(ctx, digest), now=ctx.now)
    if entry is None or entry.content is None:
        raise UsageError(_("I no longer have that file (a checked file waits an hour, and only for the one who sent it); "
                           "please send it again with /import."))
    return IncomingFile(str(entry.data.get("filename") or "upload.csv"), entry.content,
                        str(entry.data.get("mime_type") or "text/csv"))


def dry_run_reply(checked: Checked) -> Reply:
    reply = Reply(title=ngettext("Checked {file}: {n} row (nothing imported yet)", "Checked {file}: {n} rows (nothing imported yet)",
                                 checked.total, file=checked.filename), blocks=[Facts((
        (_("Ready to import"), str(len(checked.new))),
        (_("Already here, unchanged"), str(checked.unchanged)),
        (_("Rows with problems"), str(len(checked.errors))),
    ))])
    if checked.errors:
        shown = [_("line {line}: {reason}", line=line, reason=reason) for line, reason in checked.errors[:SHOWN_ERRORS]]
        if len(checked.errors) > SHOWN_ERRORS:
            shown.append(_("… and {count} more", count=len(checked.errors) - SHOWN_ERRORS))
        reply.add(BulletList(tuple(shown), title=_("Problems")))
    if checked.new:
        label = (ngettext("Import {n} invoice, skipping {bad} bad", "Import {n} invoices, skipping {bad} bad", len(checked.new),
                          bad=len(checked.errors)) if checked.errors
                 else ngettext("Import {n} invoice", "Import {n} invoices", len(checked.new)))
        reply.buttons.append(Button(label, f"import confirm={checked.digest}"))
        reply.say(_("Press the button (or send /import confirm=… as shown) to store the good rows in one go; "
                    "fix the bad rows and send the file again to add them later — rows already imported stay unchanged."))
    else:
        reply.say(_("There is nothing new to import."))
    return reply


def decode(upload: IncomingFile) -> str:
    """The file as text: UTF-8, with or without a byte-order mark."""
    content = upload.content
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UsageError(_("{file}, line 1: the file is UTF-16 text (or binary), not UTF-8; "
                           "save it as CSV UTF-8 (Excel: Save As → CSV UTF-8).", file=upload.filename))
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content.count(b"\n", 0, error.start) + 1
        byte = f"0x{content[error.start]:02x}"
        raise UsageError(_("{file}, line {line}: byte {byte} is not UTF-8 text; "
                           "save the file as CSV UTF-8 (Excel: Save As → CSV UTF-8).", file=upload.filename, line=line,
                           byte=byte)) from None


RowOrProblem = tuple[int, dict[str, str] | str]


def read_rows(upload: IncomingFile) -> Iterator[RowOrProblem]:
    """Each data row by its line number, or the problem that line has."""
    text = decode(upload)
    if not text.strip():
        raise UsageError(_("{file} is empty.", file=upload.filename))
    first_line = text.splitlines()[0] if text.splitlines() else text
    if "\x00" in first_line:
        raise UsageError(_("{file}, line 1: the header holds a NUL byte (\\x00), so this is not a CSV text "
                           "file; save it as CSV UTF-8.", file=upload.filename))
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise UsageError(_("{file}, line {line}: the header cannot be read ({error}).", file=upload.filename,
                           line=reader.line_num or 1, error=error)) from None
    if not header or not any(name.strip() for name in header):
        raise UsageError(_("{file}, line 1: the header is empty; the columns are: {columns}.", file=upload.filename,
                           columns=", ".join(COLUMNS)))
    columns = [canonical(name) for name in header]
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise UsageError(_("{file} has no column {missing}; the columns are: {columns}.", file=upload.filename,
                           missing=", ".join(missing), columns=", ".join(COLUMNS)))
    rows = 0
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            rows += 1
            yield reader.line_num, _("this line cannot be read as CSV ({error})", error=error)
            continue
        if not any(value.strip() for value in values):
            continue
        rows += 1
        yield reader.line_num, {column: value.strip() for column, value in zip(columns, values, strict=False)}
    if not rows:
        raise UsageError(_("{file} has only its header, no invoices: add one invoice per line under it.",
                           file=upload.filename))


def canonical(name: str) -> str:
    key = "_".join(name.strip().lower().replace("-", " ").split())
    return ALIASES.get(key, key)


def check_file(ctx: Context, upload: IncomingFile, progress: Callable[[int], None] | None = None) -> Checked:
    people = {p.handle: p.id for p in ctx.session.exec(select(Person).where(Person.team_id == ctx.team.id, Person.active == True))  # noqa: E712
              if p.id is not None}
    existing = {
        number.lower(): (amount, currency, due)
        for number, amount, currency, due in ctx.session.exec(
            select(col(Invoice.number), col(Invoice.amount), col(Invoice.currency), col(Invoice.due_date))
            .where(Invoice.team_id == ctx.team.id))
    }
    checked = Checked(hashlib.sha256(upload.content).hexdigest()[:16], upload.filename, [], 0, [])
    seen: dict[str, int] = {}
    for count, (line, values) in enumerate(read_rows(upload), start=1):
        if progress and count % 1000 == 0:
            progress(count)
        if isinstance(values, str):
            checked.errors.append((line, values))
            continue
        try:
            row = check_row(ctx, line, values, people)
        except UsageError as error:
            checked.errors.append((line, error.problem))
            continue
        key = row.number.lower()
        if key in seen:
            checked.errors.append((line, _("invoice {invoice} appears twice in the file (first on line {line})",
                                           invoice=row.number, line=seen[key])))
            continue
        seen[key] = line
        if key in existing:
            if existing[key] == (row.amount, row.currency, row.due_date):
                checked.unchanged += 1
            else:
                checked.errors.append((line, _("invoice {invoice} is already here with other details; change it with "
                                               "/change or /paid rather than by importing", invoice=row.number)))
            continue
        checked.new.append(row)
    return checked


def check_row(ctx: Context, line: int, values: dict[str, str], people: dict[str, int]) -> Row:
    if any("\x00" in value for value in values.values()):
        raise UsageError(_("the line holds a NUL byte (\\x00), which no text column can store; remove it"))
    number = values.get("number", "")
    if not INVOICE_NUMBER.match(number):
        raise UsageError(_("{number} is not a usable invoice number (letters, digits and . / # - _)", number=repr(number)))
    customer = values.get("customer", "")
    if not customer or len(customer) > 200:
        raise UsageError(_("the customer's name is missing or longer than {most} characters", most=200))
    currency = parse_currency(values.get("currency") or ctx.team.default_currency)
    amount = check_amount(parse_amount(values.get("amount", "")), currency, ctx.services.settings.max_invoice_amount, locale=ctx.locale)
    due_date = parse_date(values.get("due_date", ""), ctx.today, "2026-12-01")
    issue_date = parse_date(values["issue_date"], ctx.today, "2026-11-01") if values.get("issue_date") else None
    if issue_date and issue_date > due_date:
        raise UsageError(_("the issue date is after the due date"))
    owner_handle = values.get("owner", "").lstrip("@").lower()
    if owner_handle and owner_handle not in people:
        raise UsageError(_("@{handle} is not on the team", handle=owner_handle))
    collector_handle = values.get("collector", "").lstrip("@").lower()
    if collector_handle and collector_handle not in people:
        raise UsageError(_("@{handle} is not on the team", handle=collector_handle))
    typed = values.get("customer_country") or ctx.team.default_country
    if (country := calendar_country(typed)) is None:
        raise UsageError(country_problem(typed))
    ladder = values.get("ladder") or ctx.team.default_ladder
    if len(ladder) > LADDER_NAME_LIMIT:
        raise UsageError(_("a ladder name is at most {most} characters", most=LADDER_NAME_LIMIT))
    if ctx.services.ladders and ladder not in ctx.services.ladders:
        raise UsageError(_("there is no ladder {ladder} (ladders: {ladders})", ladder=repr(ladder),
                           ladders=", ".join(sorted(ctx.services.ladders))))
    return Row(line, number, customer, amount, currency, issue_date, due_date,
               people[owner_handle] if owner_handle else ctx.person.id,  # type: ignore[arg-type]
               people[collector_handle] if collector_handle else None, country, ladder)


def store(ctx: Context, checked: Checked, progress: Callable[[int], None] | None = None) -> int:
    """All new rows in the command's transaction, in bulk; their ladders are planned by the
    invoice hooks (in bulk when a hook offers `invoices_added`)."""
    session = ctx.session
    customers = {c.name_key: c.id for c in session.exec(select(Customer).where(Customer.team_id == ctx.team.id))}
    new_customers: dict[str, dict[str, object]] = {}
    for row in checked.new:
        key = name_key(row.customer)
        if key not in customers and key not in new_customers:
            new_customers[key] = dict(team_id=ctx.team.id, name=row.customer, name_key=key, country=row.country, created_at=ctx.now)
    for chunk in chunks(list(new_customers.values())):
        session.execute(sa.insert(Customer), chunk)
    if new_customers:
        customers.update({c.name_key: c.id for c in session.exec(select(Customer).where(Customer.team_id == ctx.team.id))})
    invoice_rows = [dict(
        team_id=ctx.team.id, number=row.number, customer_id=customers[name_key(row.customer)], amount=row.amount,
        balance=row.amount, currency=row.currency, issue_date=row.issue_date, due_date=row.due_date, owner_id=row.owner_id,
        collector_id=row.collector_id, ladder=row.ladder, created_at=ctx.now,
    ) for row in checked.new]
    done = 0
    for chunk in chunks(invoice_rows):
        session.execute(sa.insert(Invoice), chunk)
        done += len(chunk)
        if progress:
            progress(done)
    numbers = {row.number for row in checked.new}
    invoices = [i for i in session.exec(select(Invoice).where(Invoice.team_id == ctx.team.id, col(Invoice.created_at) == ctx.now))
                if i.number in numbers]
    events = [history_event("added", {"number": i.number, "amount": str(i.amount), "currency": i.currency,
                                      "due_date": i.due_date.isoformat(), "file": checked.filename},
                            team_id=ctx.team.id, invoice_id=i.id, actor_id=ctx.person.id,  # type: ignore[arg-type]
                            at=ctx.now).model_dump(exclude={"id"})
              for i in invoices]
    for chunk in chunks(events):
        session.execute(sa.insert(Event), chunk)
    for hook in ctx.services.invoice_hooks:
        bulk = getattr(hook, "invoices_added", None)
        if bulk is not None:
            bulk(ctx, invoices)
        else:
            told = getattr(hook, "invoice_changed", None)
            if told is not None:
                for invoice in invoices:
                    told(ctx, invoice)
    return len(invoices)


def chunks(rows: Sequence[Mapping[str, object]], size: int = CHUNK) -> Iterator[Sequence[Mapping[str, object]]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def import_at(ctx: Context, upload: IncomingFile, commit: bool, progress: Callable[[str, int, int], None]) -> tuple[Checked, int]:
    """The command line's path: the same checks and storage, with progress reports."""
    check_size(upload)
    checked = check_file(ctx, upload, lambda n: progress("checking", n, 0))
    stored = store(ctx, checked, lambda n: progress("storing", n, len(checked.new))) if commit and checked.new else 0
    return checked, stored
