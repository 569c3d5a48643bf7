"""Access on Slack: admins manage people by @mention (Slack ids are case-sensitive), and the
authorization table holds for slash commands in channels and for buttons."""
from __future__ import annotations

from sqlmodel import Session, select

from bot.store.models import Invoice, Person
from tests.slack_standin import SlackStandIn, block_text
from tests.support import ChatDriver
from tests.test_slack import (  # noqa: F401  (fixtures)
    ALICE, BOB, SALES, Transport, link, response_with, slack, slack_sends, standin,
)


async def test_a_slack_admin_sets_and_removes_someone_by_mention(team: ChatDriver, standin: SlackStandIn,
                                                               slack_sends: Transport) -> None:
    await link(team, slack_sends, standin)
    await link(team, slack_sends, standin, "alice", ALICE)
    await slack_sends.command(ALICE, "team set <@U0BOB|bobby> tz=Asia/Tokyo")
    await response_with(standin, "Updated @bob")
    with Session(team.core.services.engine) as session:
        assert session.exec(select(Person).where(Person.handle == "bob")).one().timezone == "Asia/Tokyo"
    await slack_sends.command(ALICE, "team remove <@U0BOB|bobby>")
    await response_with(standin, "@bob left the team")
    standin.responses.clear()
    await slack_sends.command(BOB, "list")
    refused = await response_with(standin, "not on team")
    assert refused["response_type"] == "ephemeral"


async def test_in_a_channel_a_salesperson_cannot_write_down_an_invoice_and_the_refusal_is_theirs_alone(
    team: ChatDriver, standin: SlackStandIn, slack_sends: Transport
) -> None:
    await link(team, slack_sends, standin)
    await slack_sends.command(BOB, "add BIG-1 10000 EUR 2026-12-10 Acme")
    await response_with(standin, "Added invoice BIG-1")
    await slack_sends.command(BOB, "dispute BIG-1 too expensive")
    await response_with(standin, "Dispute recorded on BIG-1")
    await slack_sends.command(BOB, "resolve BIG-1 0.01", channel=SALES)
    refused = await response_with(standin, "Salespeople can't change an invoice's amount")
    assert refused["response_type"] == "ephemeral"
    assert standin.posted_to(SALES) == [], "nothing is posted in the channel itself"
    await slack_sends.command(BOB, "change BIG-1 owner=<@U0ALICE|alice>", channel=SALES)
    await response_with(standin, "Salespeople can't reassign invoices")
    with Session(team.core.services.engine) as session:
        assert session.exec(select(Invoice).where(Invoice.number == "BIG-1")).one().amount == 10000
    assert "too expensive" not in str(standin.posted_to(SALES)) and "BIG-1" not in block_text(
        [b for m in standin.posted_to(SALES) for b in m.get("blocks", [])])
