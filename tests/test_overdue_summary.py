"""A manager's instrument: buckets to the day in each reader's zone, filters, the permission
split, the chase's status (promises, disputes, plans, steps, collected), DSO, rates, and
summaries that stay within the platforms' limits. The tallies the triggers keep agree with the
invoices they summarise."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.floor.clock import MovableClock
from bot.store.models import Invoice, InvoiceStatus, LadderStep, Person, ReceivableDay, ReceivableMonth, SalesMonth, StepState
from bot.platforms.slack.render import render_blocks
from bot.platforms.telegram.render import render_messages
from handlers.core import Core
from handlers.dso import countback_dso
from handlers.overdue_figures import BUCKETS, Scope, overdue_figures
from bot.floor.reply import Facts, Table
from tests.support import ChatDriver, load_migration

OSLO = ZoneInfo("Europe/Oslo")


def table(chat: ChatDriver, caption: str) -> tuple[tuple[str, ...], ...]:
    assert chat.last is not None
    return next(block.rows for block in chat.last.blocks
                if isinstance(block, Table) and block.caption is not None and block.caption.startswith(caption))


def facts(chat: ChatDriver) -> dict[str, str]:
    assert chat.last is not None
    return {label: value for block in chat.last.blocks if isinstance(block, Facts) for label, value in block.items}


def test_every_bucket_boundary_counts_to_the_day(team: ChatDriver) -> None:
    # today is Tuesday 24 November 2026 in Oslo
    for number, due in [("T-0", "2026-11-24"), ("T-1", "2026-11-23"), ("T-30", "2026-10-25"), ("T-31", "2026-10-24"),
                        ("T-60", "2026-09-25"), ("T-61", "2026-09-24"), ("T-90", "2026-08-26"), ("T-91", "2026-08-25")]:
        assert "Added" in team.say("bob", f"/add {number} {100 + int(number[2:])} EUR {due} Boundary Co")
    reply = team.say("alice", "/overdue")
    assert "Overdue for the team: 7 invoices" in reply, "due today is not overdue"
    assert table(team, "Aging") == (
        ("1-30 days", "2", "€231.00"),
        ("31-60 days", "2", "€291.00"),
        ("61-90 days", "2", "€351.00"),
        ("over 90 days", "1", "€191.00"),
    )
    assert "Oldest: T-91 · Boundary Co · 91 days · @bob" in reply
    team.say("alice", "/overdue bucket=61-90")
    assert table(team, "Aging") == (("61-90 days", "2", "€351.00"),)
    assert "aging bucket" in team.say("alice", "/overdue bucket=10-20")


def test_just_after_midnight_in_oslo_an_invoice_is_overdue_there_and_due_today_in_new_york(
    team: ChatDriver, clock: MovableClock,
) -> None:
    team.say("alice", "/add M-1 100 EUR 2026-11-25 Midnight Ltd @dave")
    clock.set(datetime(2026, 11, 26, 0, 30, tzinfo=OSLO))  # 25 November, 18:30 in New York
    assert "Overdue for the team: 1 invoice" in team.say("alice", "/overdue")
    assert table(team, "Aging") == (("1-30 days", "1", "€100.00"),)
    assert "Nothing overdue for your invoices" in team.say("dave", "/overdue")
    clock.set(datetime(2026, 11, 26, 6, 30, tzinfo=OSLO))  # 00:30 in New York
    assert "Overdue for your invoices: 1 invoice" in team.say("dave", "/overdue")


def add_book(chat: ChatDriver) -> None:
    for who, line in [
        ("bob", "/add B-1 1000 EUR 2026-11-20 Acme"),
        ("bob", "/add B-2 500 USD 2026-09-01 Zenith collector=@carol"),
        ("dave", "/add D-1 250.50 EUR 2026-10-15 Borealis"),
        ("dave", "/add D-2 99 EUR 2026-07-01 Old Co collector=@carol"),
        ("dave", "/add D-3 700 EUR 2026-12-24 Future AS"),
    ]:
        assert "Added" in chat.say(who, line)


def test_the_permission_split(team: ChatDriver) -> None:
    add_book(team)
    bob = team.say("bob", "/overdue")
    assert "Overdue for your invoices: 2 invoices" in bob and "D-2" not in bob and "Old Co" not in bob
    assert "By owner" not in bob and "By collector" not in bob and "DSO" not in bob
    assert "Only managers can see another person's" in team.say("bob", "/overdue @dave")
    assert "Overdue for your invoices: 2 invoices" in team.say("bob", "/overdue @bob")
    carol = team.say("carol", "/overdue")
    assert "Overdue for your invoices: 2 invoices" in carol, "a collector sees what they collect"
    manager = team.say("alice", "/overdue @dave")
    assert "Overdue for @dave" in manager and "2 invoices" in manager
    team.say("alice", "/overdue")
    assert table(team, "By owner") == (("@bob", "2", "€1,000.00 + $500.00"), ("@dave", "2", "€349.50"))
    assert table(team, "By collector") == (("(the owner)", "2", "€1,250.50"), ("@carol", "2", "€99.00 + $500.00"))


def test_filters_by_customer_text_and_currency(team: ChatDriver) -> None:
    add_book(team)
    reply = team.say("alice", "/overdue zen")
    assert "Overdue for the team (customer contains “zen”): 1 invoice" in reply and "$500.00" in reply
    reply = team.say("alice", "/overdue currency=EUR")
    assert "Overdue for the team (EUR): 3 invoices" in reply and "$" not in reply
    assert "Overdue for the team (USD): 1 invoice" in team.say("alice", "/overdue USD")
    assert "not a currency code" in team.say("alice", "/overdue currency=XYZ")


def test_the_chase_shows_promises_disputes_plans_and_steps_left_undone(team: ChatDriver, clock: MovableClock) -> None:
    add_book(team)
    team.say("bob", "/add B-3 300 EUR 2026-11-10 Promise Co")
    team.say("bob", "/promise B-3 2026-11-27")
    team.say("dave", "/promise D-1 2026-11-25")
    team.say("dave", "/dispute D-2 goods damaged")
    team.say("bob", "/add B-4 900 EUR 2026-10-01 Plan Co")
    assert "plan" in team.say("bob", "/plan B-4 2026-11-25 2026-12-15 2026-12-30").lower()
    clock.set(datetime(2026, 11, 26, 9, 0, tzinfo=OSLO))  # Thursday: D-1's promise (25th) is broken
    reply = team.say("alice", "/overdue")
    assert "Promises due this week (1)" in reply and "B-3 · €300.00 · promised Nov 27, 2026" in reply
    assert "Broken promises (1)" in reply and "D-1" in reply
    assert "Open disputes (1: €99.00)" in reply and "D-2 · €99.00 · goods damaged" in reply
    assert "Payment plans: 0 on track, 1 behind" in reply and "B-4 · behind by €300.00" in reply
    team.say("bob", "/paid B-4 300")
    reply = team.say("alice", "/overdue")
    assert "B-4 · behind" not in reply and "Payment plans" not in reply, "a plan on track is nothing to chase"


def test_nothing_overdue_says_so_without_an_empty_list_of_payment_plans(team: ChatDriver, clock: MovableClock) -> None:
    """Bob's customer pays in instalments and is on track: alice's /overdue says nothing is
    overdue, and not "Payment plans: 1 on track, 0 behind" over an empty list."""
    team.say("bob", "/add P-1 900 EUR 2026-12-20 Plan Co")
    assert "plan" in team.say("bob", "/plan P-1 2026-12-20 2027-01-20 2027-02-20").lower()
    clock.set(datetime(2026, 11, 26, 9, 0, tzinfo=OSLO))
    reply = team.say("alice", "/overdue")
    assert "Nothing overdue for the team" in reply
    assert "Payment plans" not in reply, reply


def test_collected_this_week_and_this_month(team: ChatDriver, clock: MovableClock) -> None:
    add_book(team)
    clock.set(datetime(2026, 11, 2, 10, 0, tzinfo=OSLO))  # Monday of an earlier week
    team.say("bob", "/paid B-1 100")
    clock.set(datetime(2026, 11, 24, 9, 0, tzinfo=OSLO))
    team.say("bob", "/paid B-2")
    team.say("dave", "/paid D-1 50.50")
    team.say("alice", "/overdue")
    assert facts(team)["Collected this week"] == "€50.50 + $500.00"
    assert facts(team)["Collected this month"] == "€150.50 + $500.00"


def test_a_payment_undone_is_not_collected(team: ChatDriver) -> None:
    add_book(team)
    team.say("bob", "/paid B-1 100")
    team.say("bob", "/paid B-2")
    assert "Payment undone on B-1" in team.say("bob", "/undo B-1")
    assert "Payment undone on B-2" in team.say("bob", "/undo B-2")
    team.say("alice", "/overdue")
    assert facts(team)["Collected this week"] == "—"
    assert facts(team)["Collected this month"] == "—"
    team.say("bob", "/paid B-1 40")
    team.say("alice", "/overdue")
    assert facts(team)["Collected this week"] == "€40.00", "only the payment that stands is collected"


def test_collected_this_week_starts_at_the_managers_own_midnight_even_at_a_quarter_hour(
        team: ChatDriver, clock: MovableClock) -> None:
    """Kathmandu is UTC+5:45: its Monday starts at 18:15 UTC on Sunday."""
    kathmandu = ZoneInfo("Asia/Kathmandu")
    assert "erin" in team.say("alice", "/team add @erin manager tz=Asia/Kathmandu")
    add_book(team)
    clock.set(datetime(2026, 11, 22, 23, 59, tzinfo=kathmandu))  # Sunday, one minute before its week
    team.say("bob", "/paid B-1 10")
    clock.set(datetime(2026, 11, 23, 0, 0, tzinfo=kathmandu))  # Monday 00:00 there
    team.say("bob", "/paid B-1 20")
    clock.set(datetime(2026, 11, 24, 9, 0, tzinfo=OSLO))
    team.say("erin", "/overdue")
    assert facts(team)["Collected this week"] == "€20.00"
    assert facts(team)["Collected this month"] == "€30.00"
    team.say("alice", "/overdue")  # in Oslo both were paid on Sunday 22 November
    assert facts(team)["Collected this week"] == "—"
    assert facts(team)["Collected this month"] == "€30.00"


def test_dso_by_countback_on_a_worked_example() -> None:
    # receivables 1,000; sales: November (24 days so far) 400, October 300, September 600
    # November covers 400 (24 days), October 300 (31 days), September the last 300 of 600: 15 days
    sales = {date(2026, 11, 1): Decimal(400), date(2026, 10, 1): Decimal(300), date(2026, 9, 1): Decimal(600)}
    dso = countback_dso(Decimal(1000), sales, date(2026, 11, 24))
    assert dso.days == Decimal("70.0") and dso.complete
    assert countback_dso(Decimal(100), sales, date(2026, 11, 24)).days == Decimal("6.0")
    short = countback_dso(Decimal(5000), sales, date(2026, 11, 24))
    assert not short.complete


def test_dso_per_currency_in_the_summary(team: ChatDriver, clock: MovableClock) -> None:
    team.say("bob", "/add S-1 400 EUR 2026-12-20 Sales Co")        # invoiced in November
    clock.set(datetime(2026, 10, 5, 9, 0, tzinfo=OSLO))
    team.say("bob", "/add S-2 300 EUR 2026-11-05 Sales Co")        # invoiced in October
    clock.set(datetime(2026, 9, 5, 9, 0, tzinfo=OSLO))
    team.say("bob", "/add S-3 600 EUR 2026-10-05 Sales Co")        # invoiced in September
    team.say("bob", "/add S-4 50 USD 2026-10-05 Sales Co")
    clock.set(datetime(2026, 11, 24, 9, 0, tzinfo=OSLO))
    team.say("bob", "/paid S-3 300")                                # receivables: 400 + 300 + 300 = 1,000
    team.say("alice", "/overdue")
    assert facts(team)["DSO EUR"] == "70.0 days"
    assert "DSO USD" in facts(team), "one DSO per currency"


def test_one_total_per_currency_and_a_converted_total_only_with_every_rate(team: ChatDriver) -> None:
    add_book(team)
    team.say("alice", "/overdue")
    assert "Total in EUR" not in facts(team), "no rates: no sum across currencies"
    assert "Rates convert into the team's currency, EUR" in team.say("alice", "/rates USD NOK 10")
    assert "threes" in team.say("alice", "/rates USD EUR")
    assert "only managers and admins can" in team.say("bob", "/rates USD EUR 0.9")
    assert "1 rate saved" in team.say("alice", "/rates USD EUR 0.90")
    team.say("alice", "/overdue")
    assert facts(team)["Total in EUR"] == "≈ €1,799.50 at the rates in /rates"  # 1,349.50 + 500 × 0.90
    assert facts(team)["EUR"] == "€1,349.50 in 3 invoices" and facts(team)["USD"] == "$500.00 in 1 invoice"
    team.say("alice", "/add X-1 10 GBP 2026-11-01 Pound Ltd")
    team.say("alice", "/overdue")
    assert facts(team)["Total in EUR"].startswith("not shown: no rate for GBP")


def test_a_long_summary_stays_in_one_telegram_message_and_within_slack_blocks(team: ChatDriver) -> None:
    for n in range(40):
        team.say("alice", f"/team add @seller{n} salesperson")
    for n in range(40):
        team.say("alice", f"/add L-{n} {100 + n} EUR 2026-10-{1 + n % 28:02d} Customer with a rather long name {n} @seller{n}")
    reply = team.say("alice", "/overdue")
    assert "By customer (top 8 of 40; 32 more — /overdue export csv)" in reply
    assert "By owner (top 8 of 40; 32 more — /overdue export csv)" in reply
    assert team.last is not None
    assert len(render_messages(team.last)) == 1
    assert len(render_blocks(team.last)) <= 50


def test_the_tallies_the_triggers_keep_agree_with_the_invoices(team: ChatDriver, engine: Engine) -> None:
    rng = random.Random(15)
    people = ["bob", "dave"]
    for n in range(60):
        due = date(2026, 11, 24) - timedelta(days=rng.randint(-20, 120))
        currency = rng.choice(["EUR", "USD", "NOK"])
        collector = " collector=@carol" if rng.random() < 0.5 else ""
        team.say("alice", f"/add R-{n} {rng.randint(10, 999)} {currency} {due.isoformat()} Customer {n % 7} "
                          f"@{rng.choice(people)}{collector}")
    for n in rng.sample(range(60), 25):
        action = rng.choice(["/paid R-{} 5", "/paid R-{}", "/dispute R-{} late", "/change R-{} owner=@dave",
                             "/change R-{} due=2026-08-01", "/change R-{} collector=@carol"])
        team.say("alice", action.format(n))
    with Session(engine) as session:
        invoices = list(session.exec(select(Invoice).where(Invoice.status.in_([InvoiceStatus.OPEN, InvoiceStatus.DISPUTED]))))  # type: ignore[attr-defined]
        days = {(d.currency, d.due_date): (d.invoices, d.balance) for d in session.exec(select(ReceivableDay))}
        expected: dict[tuple[str, date], tuple[int, Decimal]] = {}
        for invoice in invoices:
            count, total = expected.get((invoice.currency, invoice.due_date), (0, Decimal(0)))
            expected[(invoice.currency, invoice.due_date)] = (count + 1, total + invoice.balance)
        assert days == expected
        owners = {(m.subject_id, m.currency, m.due_month): m.invoices for m in session.exec(
            select(ReceivableMonth).where(ReceivableMonth.dimension == "owner"))}
        expected_owners: dict[tuple[int, str, date], int] = {}
        for invoice in invoices:
            key = (invoice.owner_id, invoice.currency, invoice.due_date.replace(day=1))
            expected_owners[key] = expected_owners.get(key, 0) + 1
        assert owners == expected_owners
        assert sum(s.amount for s in session.exec(select(SalesMonth))) == sum(
            i.amount for i in session.exec(select(Invoice)))
        team_id = invoices[0].team_id
        everyone = tuple(p.id for p in session.exec(select(Person)) if p.id is not None)
        today = date(2026, 11, 24)
        from_tallies = overdue_figures(session, Scope(team_id, today), top_customers=5)
        from_invoices = overdue_figures(session, Scope(team_id, today, person_ids=everyone), top_customers=5)
        # a bucket cuts months at both ends: whole months from the tally, the edge days from the invoices
        for day in (today, date(2026, 12, 1), date(2026, 10, 31), date(2026, 11, 30)):
            for bucket in (None, *BUCKETS):
                for currency in (None, "EUR"):
                    tallied = overdue_figures(session, Scope(team_id, day, currency=currency, bucket=bucket), top_customers=5)
                    grouped = overdue_figures(session, Scope(team_id, day, everyone, currency=currency, bucket=bucket),
                                              top_customers=5)
                    assert tallied == grouped, (day, bucket, currency)
    assert from_tallies == from_invoices
    assert from_tallies.invoices > 10


TALLY_TABLES = ("receivable_day", "receivable_month", "sales_month", "collected_slot")


def tally_rows(engine: Engine) -> dict[str, set[tuple[object, ...]]]:
    with engine.connect() as connection:
        return {table: {tuple(row) for row in connection.execute(sa.text(f"SELECT * FROM {table}"))} for table in TALLY_TABLES}


def test_the_triggers_keep_every_tally_as_the_backfill_would_build_it(team: ChatDriver, engine: Engine,
                                                                      clock: MovableClock) -> None:
    """Triggers and backfill come from one description in migration 0009 (0011 for the money
    collected): after adding, paying, undoing, disputing, resolving, changing, cancelling and
    deleting invoices (and changing the columns the tallies read behind the bot's back), every
    row of every tally is what the migrations' backfill builds from the invoices and payments."""
    rng = random.Random(9)
    for n in range(40):
        due = date(2026, 11, 24) - timedelta(days=rng.randint(-40, 150))
        collector = " collector=@carol" if rng.random() < 0.5 else ""
        team.say("alice", f"/add K-{n} {rng.randint(10, 999)}.{rng.randint(0, 99):02d} {rng.choice(['EUR', 'USD', 'NOK'])} "
                          f"{due.isoformat()} Customer {n % 6} @{rng.choice(['bob', 'dave'])}{collector}")
    for n in rng.sample(range(40), 30):
        clock.advance(timedelta(minutes=rng.randint(3, 50)))
        action = rng.choice(["/paid K-{} 5", "/paid K-{}", "/dispute K-{} late", "/change K-{} owner=@dave",
                             "/change K-{} due=2026-08-01", "/change K-{} collector=@carol", "/cancel K-{} wrong"])
        team.say("alice", action.format(n))
        if action.startswith("/paid") and rng.random() < 0.5:
            team.say("alice", f"/undo K-{n}")
        if action.startswith("/dispute") and rng.random() < 0.5:
            team.say("alice", f"/resolve K-{n}")
    for number in ("Q-1", "Q-2", "Q-3", "Q-4"):  # in one quarter hour: a slot that loses some of its payments
        team.say("alice", f"/add {number} 100 EUR 2026-11-01 Quarter AS")
        assert "payment recorded" in team.say("alice", f"/paid {number} 1").lower()
    assert "Payment undone" in team.say("alice", "/undo Q-1")
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE invoice SET currency = 'SEK', issue_date = '2026-03-15' WHERE number = 'Q-2'"))
        victim = connection.execute(sa.text("SELECT id FROM invoice WHERE number = 'Q-3'")).scalar_one()
        connection.execute(sa.text("UPDATE ladder_step SET follows_step_id = NULL WHERE invoice_id = :id"), {"id": victim})
        for table in ("ladder_step", "event", "payment", "instalment"):
            connection.execute(sa.text(f"DELETE FROM {table} WHERE invoice_id = :id"), {"id": victim})
        connection.execute(sa.text("DELETE FROM invoice WHERE id = :id"), {"id": victim})
    kept = tally_rows(engine)
    assert len(kept["receivable_month"]) > 20 and kept["sales_month"]
    assert len(kept["collected_slot"]) > 3
    with engine.begin() as connection:
        for table in TALLY_TABLES:
            connection.execute(sa.text(f"DELETE FROM {table}"))
        for migration in ("0009_receivable_tallies.py", "0011_collected_tally.py"):
            for statement in load_migration(migration).backfill_statements(engine.dialect.name):
                connection.execute(sa.text(statement))
    rebuilt = tally_rows(engine)
    for table in TALLY_TABLES:
        assert kept[table] == rebuilt[table], table


def test_steps_sent_and_not_answered_are_counted_per_person(team: ChatDriver, engine: Engine, clock: MovableClock) -> None:
    add_book(team)
    with Session(engine) as session:
        steps = list(session.exec(select(LadderStep).where(LadderStep.state == StepState.PENDING).order_by(LadderStep.id)))  # type: ignore[arg-type]
        for step in steps[:3]:
            step.state, step.sent_at, step.due_at = StepState.SENT, clock.now(), clock.now() - timedelta(hours=1)
            session.add(step)
        session.commit()
        expected = {}
        for step in steps[:3]:
            invoice = session.get(Invoice, step.invoice_id)
            person = session.get(Person, step.responsible_id or invoice.owner_id)  # type: ignore[union-attr]
            expected[person.handle] = expected.get(person.handle, 0) + 1  # type: ignore[union-attr]
    reply = team.say("alice", "/overdue")
    assert "Steps due and not done (3)" in reply
    for handle, count in expected.items():
        assert f"@{handle}: {count} step" in reply


def test_rates_come_from_a_file_too_and_bad_lines_are_named(team: ChatDriver, core: Core) -> None:
    from bot.platforms.console.chat import console_sender
    from handlers.grammar import IncomingFile

    good = IncomingFile("rates.csv", b"currency,quote,rate\nUSD,EUR,0.90\nNOK,EUR,0.085\n", "text/csv")
    reply = core.handle_text(console_sender("alice"), "/rates", (good,))
    assert reply.title == "2 rates saved"
    bad = IncomingFile("rates.csv", b"USD,EUR,0.91\nGBP,EUR\n", "text/csv")
    refused = core.handle_text(console_sender("alice"), "/rates", (bad,))
    assert refused.is_error and "Line 2 of the rates file has 2 columns" in refused.blocks[0].text  # type: ignore[union-attr]
    shown = team.say("bob", "/rates")
    assert "1 USD     0.90 EUR" in shown and "1 NOK     0.085 EUR" in shown, "nothing of the bad file was stored"


def test_a_rates_example_quotes_other_currencies_in_the_teams_own(team: ChatDriver) -> None:
    """An EUR team was shown `/rates EUR EUR 11.50 …`: an example it could not follow."""
    for reply in (team.say("alice", "/rates"), team.say("alice", "/rates USD EUR")):
        assert "/rates USD EUR 11.50 GBP EUR 10.80" in reply, reply
        assert "EUR EUR" not in reply, reply
