"""/history and /casefile: the invoice's whole story, for the team and for the lawyers."""
from __future__ import annotations

from datetime import datetime

from bot.floor.clock import MovableClock
from scheduling.scheduler import Scheduler
from tests.conftest import OSLO
from tests.support import ChatDriver, RecordingNotifier


async def story(team: ChatDriver, clock: MovableClock, scheduler: Scheduler) -> None:
    team.say("carol", "/today")
    team.say("bob", '/add INV-5 1000 EUR 2026-12-10 "<script>alert(1)</script> AS" collector=@carol')
    clock.set(datetime(2026, 12, 7, 10, 0, tzinfo=OSLO))
    await scheduler.fire_due()
    await scheduler.flush()
    team.say("bob", "/done INV-5 spoke to the CFO")
    clock.set(datetime(2026, 12, 10, 12, 5, tzinfo=OSLO))
    await scheduler.fire_due()
    await scheduler.flush()
    team.say("carol", "/promise INV-5 2026-12-14")
    team.say("carol", "/paid INV-5 400")


async def test_history_lists_steps_pings_and_answers_in_time_order(
    team: ChatDriver, clock: MovableClock, scheduler: Scheduler, notifier: RecordingNotifier
) -> None:
    await story(team, clock, scheduler)
    history = team.say("bob", "/history INV-5")
    order = ["added INV-5", "pinged @bob for “Friendly reminder call” (on time)", "done: “Friendly reminder call” — spoke to the CFO",
             "pinged @carol for “Due date call” (late by 5 min)", "promised to pay by", "partial payment of €400.00"]
    positions = [history.index(text) for text in order]
    assert positions == sorted(positions), history
    assert "step 7: Legal handover — legal — planned" in history
    assert "There is no invoice" in team.say("bob", "/history NOPE")
    assert "only its owner" in team.say("dave", "/history INV-5")


async def test_casefile_is_a_self_contained_html_dossier_with_every_contact(
    team: ChatDriver, clock: MovableClock, scheduler: Scheduler
) -> None:
    await story(team, clock, scheduler)
    reply = team.say("alice", "/casefile INV-5")
    assert "Case file for INV-5" in reply
    [attachment] = team.last.files  # type: ignore[union-attr]
    assert attachment.filename == "casefile-INV-5.html" and attachment.mime_type == "text/html"
    html = attachment.content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; AS" in html
    assert "€600.00" in html and "€1,000.00" in html
    assert html.count("pinged @") == 2 * 2, "each ping in the contact list and in the full timeline"
    assert "spoke to the CFO" in html and "promised to pay by" in html
    assert "<link" not in html and "src=" not in html, "self-contained"


async def test_the_teams_lawyer_can_open_the_case_file(team: ChatDriver, clock: MovableClock, scheduler: Scheduler) -> None:
    team.say("alice", "/team add @larry lawyer")
    await story(team, clock, scheduler)
    assert "Case file for INV-5" in team.say("larry", "/casefile INV-5")
