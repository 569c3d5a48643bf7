"""A Norwegian customer's inkassovarsel gives at least 14 full days from the day it is sent (with a
margin), and the lawyers are not brought in before that date has passed: the draft the manager is
handed, the claim's stored deadline and the legal handover all agree, around Christmas and Easter too."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import Engine

from bot.floor.clock import MovableClock
from bot.store.models import StepState
from scheduling.business_calendar import add_business_days, next_business_day
from scheduling.notice import MINIMUM_NOTICE_DAYS
from scheduling.scheduler import Scheduler
from tests.conftest import OSLO
from tests.support import ChatDriver, RecordingNotifier
from tests.test_course_stories import by_name, local
from tests.test_ladder_course import deliver_at, events


@pytest.mark.parametrize(("due", "sent", "deadline"), [
    # the ladder's 10 business days would give exactly 14 days (22 December): moved to 24 December
    (date(2026, 12, 1), date(2026, 12, 8), date(2026, 12, 24)),
    # 14 days + margin fall on Christmas Day: the next business day after Christmas
    (date(2026, 12, 2), date(2026, 12, 9), date(2026, 12, 28)),
    # 10 business days give exactly 14 days (24 March); 14 days + margin fall on Good Friday: after Easter Monday
    (date(2027, 3, 3), date(2027, 3, 10), date(2027, 3, 30)),
], ids=["before-christmas", "on-christmas-day", "over-easter"])
async def test_a_norwegian_final_warning_gives_fourteen_full_days_and_the_lawyer_waits_for_them(
    team: ChatDriver, engine: Engine, clock: MovableClock, scheduler: Scheduler, notifier: RecordingNotifier,
    due: date, sent: date, deadline: date,
) -> None:
    assert "joined the team" in team.say("alice", "/team add @larry lawyer")
    clock.set(datetime.combine(due - timedelta(days=10), datetime.min.time(), OSLO).replace(hour=9))
    for person in ("alice", "carol", "larry"):
        team.say(person, "/today")
    reply = team.say("bob", f"/add NO-1 25000 NOK {due.isoformat()} Fjord Bygg AS collector=@carol")
    assert "Added invoice NO-1" in reply, reply
    claim = by_name(engine, "NO-1", "Formal claim")
    assert local(claim.due_at).date() == sent
    assert add_business_days(sent, 10, "NO") <= sent + timedelta(days=14), "the ladder's own rule alone is not enough"

    await deliver_at(scheduler, clock, claim.due_at)
    handed = [e for e in events(engine, "draft") if e.details["stage"] == "final_warning"]
    assert [date.fromisoformat(e.details["deadline"]) for e in handed] == [deadline], "the draft handed with the ping"
    assert (deadline - sent).days >= MINIMUM_NOTICE_DAYS["NO"] + 2 and next_business_day(deadline, "NO") == deadline
    assert str(deadline.day) in handed[0].details["text"], handed[0].details["text"]

    confirmed = team.say("alice", "/done NO-1 inkassovarsel sent")
    assert "Formal claim" in confirmed, confirmed
    claim = by_name(engine, "NO-1", "Formal claim")
    assert claim.deadline == deadline, "the stored deadline is the one the draft named"
    legal = by_name(engine, "NO-1", "Legal handover")
    assert legal.state == StepState.PENDING and local(legal.due_at).date() > deadline
    assert await deliver_at(scheduler, clock, datetime.combine(deadline, datetime.min.time(), OSLO).replace(hour=16)) == 0
    assert not any("Legal handover" in text for text in notifier.texts("larry")), "no lawyer before the deadline"
    assert await deliver_at(scheduler, clock, legal.due_at) == 1
    assert "Legal handover" in notifier.texts("larry")[-1]
