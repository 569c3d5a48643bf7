"""Managers ask for overdue summaries: totals per currency, aging, oldest, per owner."""
from bot.floor.reply import Table
from tests.support import ChatDriver


def table(chat: ChatDriver, caption: str) -> tuple[tuple[str, ...], ...]:
    assert chat.last is not None
    return next(block.rows for block in chat.last.blocks if isinstance(block, Table) and block.caption == caption)


def add_book(chat: ChatDriver) -> None:
    for who, line in [
        ("bob", "/add B-1 1000 EUR 2026-11-20 Acme"),          # 4 days overdue
        ("bob", "/add B-2 500 USD 2026-09-01 Zenith"),         # 84 days overdue
        ("dave", "/add D-1 250.50 EUR 2026-10-15 Borealis"),   # 40 days overdue
        ("dave", "/add D-2 99 EUR 2026-07-01 Old Co"),         # 146 days overdue
        ("dave", "/add D-3 700 EUR 2026-12-24 Future AS"),     # not due yet
    ]:
        assert "Added" in chat.say(who, line)


def test_manager_sees_totals_per_currency_aging_oldest_and_owners(team: ChatDriver) -> None:
    add_book(team)
    reply = team.say("alice", "/overdue")
    assert "Overdue for the team: 4 invoices" in reply
    assert "€1,349.50 in 3 invoices" in reply
    assert "$500.00 in 1 invoice" in reply
    assert "Oldest: D-2 · Old Co · 146 days · @dave" in reply
    assert table(team, "Aging") == (
        ("1-30 days", "1", "€1,000.00"),
        ("31-60 days", "1", "€250.50"),
        ("61-90 days", "1", "$500.00"),
        ("over 90 days", "1", "€99.00"),
    )
    assert table(team, "By owner") == (("@bob", "2", "€1,000.00 + $500.00"), ("@dave", "2", "€349.50"))
    assert "Future AS" not in reply


def test_salesperson_summary_covers_only_their_own_invoices(team: ChatDriver) -> None:
    add_book(team)
    reply = team.say("bob", "/overdue")
    assert "Overdue for your invoices: 2 invoices" in reply
    assert "D-2" not in reply and "By owner" not in reply


def test_paid_invoices_leave_the_summary(team: ChatDriver) -> None:
    add_book(team)
    team.say("bob", "/paid B-2")
    team.say("bob", "/paid B-1 400")
    reply = team.say("bob", "/overdue")
    assert "1 invoice" in reply and "€600.00" in reply and "$" not in reply
    team.say("bob", "/paid B-1")
    assert "Nothing overdue for your invoices" in team.say("bob", "/overdue")


def test_the_summary_shows_the_customers_owing_most(team: ChatDriver) -> None:
    add_book(team)
    team.say("bob", "/add B-3 200 EUR 2026-11-01 Acme")
    team.say("alice", "/overdue")
    rows = table(team, "By customer")
    assert rows[0] == ("Acme", "2", "€1,200.00"), "two overdue invoices rank first"
    assert [row[0] for row in rows[1:]] == ["Old Co", "Zenith", "Borealis"], "then the oldest debt first"


def test_overdue_chart_comes_as_a_png_photo(team: ChatDriver) -> None:
    add_book(team)
    reply = team.say("alice", "/overdue chart")
    [chart] = team.last.files  # type: ignore[union-attr]
    assert chart.kind == "photo" and chart.filename == "overdue-aging.png" and chart.content.startswith(b"\x89PNG")
    assert "[file: overdue-aging.png" in reply
    assert "takes nothing, or chart" in team.say("alice", "/overdue pie")
