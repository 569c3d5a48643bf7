"""Salespeople keep their invoices in chat: /add, /list, /show, /paid."""
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session, col, select

from bot.floor.clock import MovableClock
from bot.store.models import Customer, Event, Invoice, InvoiceStatus
from tests.support import ChatDriver, refused
from tests.test_import import send


def invoice(chat: ChatDriver, number: str) -> Invoice:
    with Session(chat.core.services.engine) as session:
        return session.exec(select(Invoice).where(Invoice.number == number)).one()


def test_salesperson_adds_an_invoice_and_becomes_its_owner(team: ChatDriver) -> None:
    reply = team.say("bob", "/add INV-1042 1200.50 EUR 2026-12-01 Acme Trading Ltd")
    assert "Added invoice INV-1042" in reply
    assert "Acme Trading Ltd" in reply and "€1,200.50" in reply and "Dec 1, 2026" in reply
    assert "@bob" in reply
    stored = invoice(team, "INV-1042")
    assert stored.amount == Decimal("1200.50") and stored.balance == Decimal("1200.50")
    assert stored.currency == "EUR" and stored.status == InvoiceStatus.OPEN


def test_currency_defaults_to_the_teams_and_owner_can_be_someone_else(team: ChatDriver) -> None:
    reply = team.say("alice", "/add INV-2 1 200,50 +30d Fjord Shipping AS @dave collector=@carol")
    assert "Added invoice INV-2" in reply, reply
    stored = invoice(team, "INV-2")
    assert stored.currency == "EUR" and stored.amount == Decimal("1200.50")
    assert str(stored.due_date) == "2026-12-24"
    assert "@dave" in reply and "@carol" in reply


def test_the_same_customer_is_found_again_whatever_the_case(team: ChatDriver) -> None:
    team.say("bob", "/add A-1 100 2026-12-01 Acme Trading")
    team.say("bob", "/add A-2 100 2026-12-02 ACME  trading")
    with Session(team.core.services.engine) as session:
        assert len(session.exec(select(Customer)).all()) == 1


@pytest.mark.parametrize("command,problem", [
    ("/add", "needs the invoice number, the amount, the due date and the customer's name"),
    ("/add INV-9 100 2026-12-01", "needs the invoice number"),
    ("/add INV-9 1,200 EUR 2026-12-01 Acme", "ambiguous"),
    ("/add INV-9 1.200 EUR 2026-12-01 Acme", "ambiguous"),
    ("/add INV-9 0 EUR 2026-12-01 Acme", "above zero"),
    ("/add INV-9 -5 EUR 2026-12-01 Acme", "negative"),
    ("/add INV-9 99999999999 EUR 2026-12-01 Acme", "above the limit"),
    ("/add INV-9 100 XYZ 2026-12-01 Acme", "not a currency code"),
    ("/add INV-9 100 EUR 2026-02-30 Acme", "February 2026 has 28 days"),
    ("/add INV-9 100 EUR 30/12/2026 Acme", "not a date I can read"),
    ("/add INV-9 100 EUR 2026-12-01 Acme @nobody", "I don't know @nobody"),
    ("/add INV-9 100 EUR 2026-12-01 Acme collector=@ghost", "I don't know @ghost"),
    ("/add INV-9 100 EUR 2026-12-01 Acme @bob @carol", "one owner at most"),
    ("/add INV-9 100 EUR 2026-12-01 Acme colour=red", "does not take colour="),
    ("/add INV-9 100 EUR 2026-12-01 Acme country=XX", "not an ISO country code"),
    ("/add INV-9 100 EUR 2026-12-01 Acme country=IC", "'IC' is not a country I have public holidays for"),
    ("/add INV-9 100 EUR 2026-12-01 Acme country=EU", "'EU' is not a country I have public holidays for"),
    ("/add INV-9 10.5555 EUR 2026-12-01 Acme", "EUR has 2 decimal places"),
])
def test_bad_add_commands_are_explained_with_an_example_and_store_nothing(team: ChatDriver, command: str, problem: str) -> None:
    refused(team, "bob", command, problem, example="Example: /add ")
    assert team.last is not None and team.last.is_error


def test_a_duplicate_invoice_number_is_refused_and_nothing_changes(team: ChatDriver) -> None:
    team.say("bob", "/add INV-1 100 EUR 2026-12-01 Acme")
    refused(team, "dave", "/add inv-1 999 EUR 2026-12-05 Other Customer", "INV-1 is already on the list")
    assert invoice(team, "INV-1").amount == Decimal("100")


def test_salesperson_lists_only_their_own_open_invoices(team: ChatDriver) -> None:
    team.say("bob", "/add B-1 100 EUR 2026-12-01 Acme")
    team.say("dave", "/add D-1 200 EUR 2026-12-01 Borealis")
    bobs = team.say("bob", "/list")
    assert "B-1" in bobs and "D-1" not in bobs
    assert "Your open invoices" in bobs


def test_collector_sees_the_invoices_they_collect(team: ChatDriver) -> None:
    team.say("bob", "/add B-1 100 EUR 2026-12-01 Acme collector=@carol")
    team.say("dave", "/add D-1 200 EUR 2026-12-01 Borealis")
    carols = team.say("carol", "/list")
    assert "B-1" in carols and "D-1" not in carols


def test_manager_lists_everything_and_filters_by_overdue_person_and_customer(team: ChatDriver) -> None:
    team.say("bob", "/add B-1 100 EUR 2026-11-01 Acme Trading")
    team.say("bob", "/add B-2 100 EUR 2026-12-20 Zenith Foods")
    team.say("dave", "/add D-1 200 EUR 2026-11-10 Borealis")
    everything = team.say("alice", "/list")
    assert all(number in everything for number in ("B-1", "B-2", "D-1"))
    assert everything.index("B-1") < everything.index("D-1") < everything.index("B-2"), "soonest due first"
    overdue = team.say("alice", "/list overdue")
    assert "B-1" in overdue and "D-1" in overdue and "B-2" not in overdue
    assert "23 days overdue" in overdue
    by_person = team.say("alice", "/list @dave")
    assert "D-1" in by_person and "B-1" not in by_person
    by_customer = team.say("alice", "/list zenith")
    assert "B-2" in by_customer and "B-1" not in by_customer


def test_salesperson_cannot_list_a_colleagues_invoices(team: ChatDriver) -> None:
    reply = team.say("bob", "/list @dave")
    assert "Only managers can list another person's invoices" in reply


def test_show_gives_details_and_history(team: ChatDriver) -> None:
    team.say("bob", "/add INV-5 1200.50 EUR 2026-12-01 Acme Trading Ltd contact=Kari")
    team.say("bob", "/paid INV-5 200")
    reply = team.say("bob", "/show inv-5")
    assert "Invoice INV-5" in reply
    assert "Acme Trading Ltd (Kari)" in reply
    assert "€1,000.50" in reply and "€1,200.50" in reply
    assert "due in 7 days" in reply
    assert "added INV-5" in reply and "partial payment of €200.00" in reply


def test_show_refuses_an_unknown_or_someone_elses_invoice(team: ChatDriver) -> None:
    assert "There is no invoice NOPE" in team.say("bob", "/show NOPE")
    team.say("dave", "/add D-1 200 EUR 2026-12-01 Borealis")
    reply = team.say("bob", "/show D-1")
    assert "only its owner, its collector, managers and lawyers can see it" in reply
    assert "Borealis" not in reply
    assert "Which invoice?" in team.say("bob", "/show")


def test_partial_then_full_payment_closes_the_invoice(team: ChatDriver) -> None:
    team.say("bob", "/add INV-7 1000 EUR 2026-12-01 Acme")
    assert "€400.00" in team.say("bob", "/paid INV-7 600")
    stored = invoice(team, "INV-7")
    assert stored.balance == Decimal("400") and stored.status == InvoiceStatus.OPEN
    assert "paid in full" in team.say("bob", "/paid INV-7")
    stored = invoice(team, "INV-7")
    assert stored.balance == 0 and stored.status == InvoiceStatus.PAID and stored.paid_at is not None
    assert "INV-7" not in team.say("bob", "/list")
    assert "already paid in full" in team.say("bob", "/paid INV-7")


@pytest.mark.parametrize("command,problem", [
    ("/paid", "Which invoice was paid?"),
    ("/paid INV-7 1500", "more than the balance"),
    ("/paid INV-7 100 USD", "is in EUR, not USD"),
    ("/paid INV-7 1,500", "ambiguous"),
    ("/paid INV-7 0", "above zero"),
])
def test_bad_payments_are_explained_and_change_nothing(team: ChatDriver, command: str, problem: str) -> None:
    team.say("bob", "/add INV-7 1000 EUR 2026-12-01 Acme")
    refused(team, "bob", command, problem)
    assert invoice(team, "INV-7").balance == Decimal("1000")


def test_every_change_is_an_event_with_who_and_when(team: ChatDriver, clock: MovableClock) -> None:
    team.say("bob", "/add INV-8 300 EUR 2026-12-01 Acme")
    clock.advance(timedelta(hours=2))
    team.say("bob", "/paid INV-8 100")
    with Session(team.core.services.engine) as session:
        events = session.exec(select(Event).where(col(Event.invoice_id).is_not(None)).order_by(col(Event.id))).all()
    assert [event.kind for event in events] == ["added", "partial_payment"]
    assert events[1].at - events[0].at == timedelta(hours=2)
    assert events[1].at.tzinfo is not None


def test_the_invoice_list_is_kept_out_of_group_chats(team: ChatDriver) -> None:
    team.say("bob", "/add INV-1 100 EUR 2026-12-10 Acme")
    team.say("alice", "/list")
    assert team.last is not None and team.last.private


def test_add_team_and_import_accept_the_same_countries_the_holiday_calendar_knows(team: ChatDriver) -> None:
    """A country Babel knows but the business calendar does not (the Canary Islands, IC) would give
    a ladder without public holidays: /add, /team set holidays= and an import refuse it alike."""
    refused(team, "bob", "/add INV-9 100 EUR 2026-12-01 Canary Co country=IC", "'IC' is not a country I have public holidays for",
            "such as NO, SE, DE", example="Example: /add ")
    refused(team, "bob", "/team set holidays=IC", "'IC' is not a country I have public holidays for", example="Example: /team")
    imported = send(team, "alice", "/import", "number,customer,amount,currency,due date,customer country\n"
                                               "INV-9,Canary Co,100,EUR,2026-12-01,IC\n")
    assert "line 2: 'IC' is not a country I have public holidays for" in imported, imported
    assert "Added invoice INV-9" in team.say("bob", "/add INV-9 100 EUR 2026-12-01 Fjord AS country=se")
    assert "Updated @bob" in team.say("bob", "/team set holidays=se")
