"""The ladder as a collector lives it: steps planned on /add, pinged at their time, and every
answer (done, paid, promised, dispute, plan, snooze, no answer, silence) changing the course."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.floor.clock import MovableClock
from bot.store.models import Event, Invoice, LadderStep, Person, StepKind, StepState
from scheduling.scheduler import Scheduler
from tests.conftest import OSLO
from tests.support import ChatDriver, RecordingNotifier, fire_at

DUE = "2026-12-10"  # a Thursday
PRE_DUE_CALL = datetime(2026, 12, 7, 10, 0, tzinfo=OSLO)  # three business days before, morning
DUE_NOON = datetime(2026, 12, 10, 12, 0, tzinfo=OSLO)


def steps(engine: Engine, number: str) -> list[LadderStep]:
    with Session(engine) as session:
        invoice = session.exec(select(Invoice).where(Invoice.number == number)).one()
        return list(session.exec(
            select(LadderStep).where(LadderStep.invoice_id == invoice.id).order_by(col(LadderStep.due_at), col(LadderStep.id))))


def invoice(engine: Engine, number: str) -> Invoice:
    with Session(engine) as session:
        return session.exec(select(Invoice).where(Invoice.number == number)).one()


def events(engine: Engine, kind: str) -> list[Event]:
    with Session(engine) as session:
        return list(session.exec(select(Event).where(Event.kind == kind)))


deliver_at = fire_at


def add_acme(team: ChatDriver) -> None:
    team.say("carol", "/today")  # carol opens her chat, so pings can reach her
    reply = team.say("bob", f"/add INV-7 1000 EUR {DUE} Acme Trading collector=@carol")
    assert "Added invoice INV-7" in reply, reply


async def test_adding_an_invoice_plans_the_standard_ladder(team: ChatDriver, engine: Engine) -> None:
    add_acme(team)
    planned = steps(engine, "INV-7")
    assert len(planned) == 7
    # Issue 12, finding 2: the legal handover waits behind the formal claim (a gate) until it is confirmed done.
    assert [s.state for s in planned] == [StepState.PENDING] * 6 + [StepState.WAITING]
    assert planned[0].due_at == PRE_DUE_CALL
    assert planned[1].due_at == DUE_NOON
    assert [s.position for s in planned] == list(range(1, 8))
    shown = team.say("bob", "/show INV-7")
    assert "Mon 7 Dec 2026, 10:00" in shown and "Thu 10 Dec 2026, 12:00" in shown


async def test_collector_is_pinged_at_noon_on_due_date_with_answers(team: ChatDriver, engine: Engine, clock: MovableClock,
                                                                    scheduler: Scheduler, notifier: RecordingNotifier) -> None:
    add_acme(team)
    assert await deliver_at(scheduler, clock, PRE_DUE_CALL) == 1
    assert [chat for chat, _ in notifier.sent] == ["bob"], "the friendly pre-due call is the salesperson's"
    assert await deliver_at(scheduler, clock, DUE_NOON - timedelta(seconds=1)) == 0
    assert await deliver_at(scheduler, clock, DUE_NOON) == 1
    chat_id, ping = notifier.sent[-1]
    assert chat_id == "carol"
    # Issue 12, finding 9: the Paid button asks how much (or "all") before anything is recorded.
    assert [b.action for b in ping.buttons][:5] == ["done INV-7", "paid INV-7 {input}", "promise INV-7 {input}",
                                                     "dispute INV-7 {input}", "snooze INV-7 2h"]
    answer = team.press("carol", "done INV-7 customer says the transfer is on its way")
    assert "Marked done on INV-7" in answer
    assert steps(engine, "INV-7")[1].state == StepState.ACKNOWLEDGED


async def test_paying_cancels_every_pending_step_at_once(team: ChatDriver, engine: Engine) -> None:
    add_acme(team)
    team.say("bob", "/paid INV-7")
    assert {s.state for s in steps(engine, "INV-7")} == {StepState.CANCELLED}


async def test_partial_payment_keeps_the_ladder_going_on_the_balance(team: ChatDriver, engine: Engine) -> None:
    add_acme(team)
    team.say("bob", "/paid INV-7 400")
    # The legal handover waits behind the claim (issue 12, finding 2); nothing is cancelled.
    assert {s.state for s in steps(engine, "INV-7")} == {StepState.PENDING, StepState.WAITING}
    assert invoice(engine, "INV-7").balance == 600


async def test_promise_pauses_the_ladder_and_a_broken_promise_is_followed_up(
    team: ChatDriver, engine: Engine, clock: MovableClock, scheduler: Scheduler, notifier: RecordingNotifier
) -> None:
    add_acme(team)
    await deliver_at(scheduler, clock, DUE_NOON)
    reply = team.press("carol", "promise INV-7 2026-12-15")
    assert "Promise recorded on INV-7" in reply, reply
    follow_up = [s for s in steps(engine, "INV-7") if s.kind == StepKind.BROKEN_PROMISE]
    assert [s.due_at for s in follow_up] == [datetime(2026, 12, 16, 10, 0, tzinfo=OSLO)], "promise date + 1 business day"
    later_ladder = [s for s in steps(engine, "INV-7") if s.kind == StepKind.LADDER and s.state == StepState.PENDING]
    assert all(s.due_at > follow_up[0].due_at for s in later_ladder), "the ladder waits behind the promise"
    assert await deliver_at(scheduler, clock, datetime(2026, 12, 14, 12, 0, tzinfo=OSLO)) == 0, "nothing while waiting"
    assert await deliver_at(scheduler, clock, follow_up[0].due_at) == 1
    assert "Promise follow-up" in notifier.texts("carol")[-1]
    assert invoice(engine, "INV-7").broken_promises == 1
    assert "Broken promises so far: 1" in team.press("carol", "promise INV-7 2026-12-22").replace("  ", " ")


async def test_paying_before_the_promised_date_ends_the_ladder(team: ChatDriver, engine: Engine, clock: MovableClock,
                                                               scheduler: Scheduler, notifier: RecordingNotifier) -> None:
    add_acme(team)
    team.say("carol", "/promise INV-7 2026-12-15")
    team.say("carol", "/paid INV-7")
    assert await deliver_at(scheduler, clock, datetime(2027, 2, 1, 12, 0, tzinfo=OSLO)) == 0
    assert notifier.sent == []


async def test_dispute_pauses_the_ladder_and_brings_the_manager_in(
    team: ChatDriver, engine: Engine, clock: MovableClock, scheduler: Scheduler, notifier: RecordingNotifier
) -> None:
    add_acme(team)
    team.say("alice", "/today")
    reply = team.say("carol", "/dispute INV-7 pallets arrived damaged")
    assert "Dispute recorded on INV-7" in reply and "@alice" in reply
    assert await deliver_at(scheduler, clock, clock.now()) == 1
    assert [chat for chat, _ in notifier.sent] == ["alice"]
    assert "pallets arrived damaged" in notifier.texts("alice")[0]
    assert await deliver_at(scheduler, clock, datetime(2026, 12, 20, 12, 0, tzinfo=OSLO)) == 0, "paused"
    reply = team.say("alice", "/resolve INV-7 900")
    assert "resolved" in reply and "€900.00" in reply
    resumed = [s for s in steps(engine, "INV-7") if s.kind == StepKind.LADDER and s.state == StepState.PENDING]
    assert resumed and all(s.due_at >= clock.now() for s in resumed)
    assert invoice(engine, "INV-7").balance == 900


async def test_unanswered_ping_is_repeated_then_escalated_to_the_manager(
    team: ChatDriver, engine: Engine, clock: MovableClock, scheduler: Scheduler, notifier: RecordingNotifier
) -> None:
    team.say("alice", "/team set @carol manager=@alice")
    add_acme(team)
    await deliver_at(scheduler, clock, PRE_DUE_CALL)
    team.say("bob", "/done INV-7")
    await deliver_at(scheduler, clock, DUE_NOON)
    clock.set(DUE_NOON + timedelta(hours=3, minutes=59))
    assert await scheduler.follow_up() == 0
    clock.set(DUE_NOON + timedelta(hours=4))  # four working hours: Thursday 16:00
    assert await scheduler.follow_up() == 1
    await deliver_at(scheduler, clock, clock.now())
    assert "No answer yet" in notifier.texts("carol")[-1]
    clock.set(datetime(2026, 12, 10, 23, 0, tzinfo=OSLO))
    assert await scheduler.follow_up() == 0, "evening hours do not count"
    clock.set(datetime(2026, 12, 11, 12, 0, tzinfo=OSLO))  # 8 working hours: 5 on Thursday, 3 on Friday
    assert await scheduler.follow_up() == 1
    await deliver_at(scheduler, clock, clock.now())
    assert notifier.sent[-1][0] == "alice"
    assert "has not answered" in notifier.texts("alice")[-1]
    [escalated] = events(engine, "escalated")
    assert escalated.summary.startswith("escalated to @alice: @carol did not answer")
    clock.set(datetime(2026, 12, 20, 12, 0, tzinfo=OSLO))
    await scheduler.follow_up()
    due_call = steps(engine, "INV-7")[1]
    assert due_call.name == "Due date call" and due_call.nudges == 2
    assert len(events(engine, "escalated")) == 1, "one repeat, one escalation, then quiet for that step"


async def test_answering_in_time_stops_the_follow_up(team: ChatDriver, engine: Engine, clock: MovableClock,
                                                    scheduler: Scheduler) -> None:
    add_acme(team)
    await deliver_at(scheduler, clock, DUE_NOON)
    team.say("carol", "/done INV-7")
    team.say("bob", "/done INV-7")  # issue 12, finding 8: each answers their own ping (bob's pre-due call went out too)
    clock.set(DUE_NOON + timedelta(hours=9))
    assert await scheduler.follow_up() == 0


async def test_snooze_moves_the_step_but_never_past_the_next(team: ChatDriver, engine: Engine, clock: MovableClock,
                                                             scheduler: Scheduler, notifier: RecordingNotifier) -> None:
    add_acme(team)
    await deliver_at(scheduler, clock, DUE_NOON)
    assert "Snoozed" in team.press("carol", "snooze INV-7 2h")
    assert await deliver_at(scheduler, clock, DUE_NOON + timedelta(hours=2)) == 1
    assert notifier.sent[-1][0] == "carol"
    refused = team.say("carol", "/snooze INV-7 2027-01-20")
    assert "past the next step" in refused and "Example: /snooze INV-1042 2h" in refused


async def test_no_answer_is_retried_twice_then_counted_as_done_without_contact(
    team: ChatDriver, engine: Engine, clock: MovableClock, scheduler: Scheduler
) -> None:
    add_acme(team)
    await deliver_at(scheduler, clock, DUE_NOON)
    for retry in (1, 2):
        assert f"{retry} of 2" in team.press("carol", "noanswer INV-7")
        assert await deliver_at(scheduler, clock, clock.now() + timedelta(hours=2)) == 1
    assert "without contact" in team.press("carol", "noanswer INV-7")
    assert steps(engine, "INV-7")[1].outcome == "no contact"


async def test_payment_plan_splits_the_balance_and_a_paid_instalment_drops_its_check(
    team: ChatDriver, engine: Engine
) -> None:
    add_acme(team)
    reply = team.say("carol", "/plan INV-7 3 instalments every month from 2026-12-15")
    assert "€333.33" in reply and "€333.34" in reply
    checks = [s for s in steps(engine, "INV-7") if s.kind == StepKind.INSTALMENT]
    assert len(checks) == 6
    ladder = [s for s in steps(engine, "INV-7") if s.kind == StepKind.LADDER and s.state == StepState.PENDING]
    first_check = [s for s in checks if s.name == "Instalment 1 check"][0]
    assert all(s.due_at > first_check.due_at for s in ladder)
    team.say("carol", "/paid INV-7 333.33")
    after = {s.name: s.state for s in steps(engine, "INV-7") if s.kind == StepKind.INSTALMENT}
    assert after["Instalment 1 check"] == StepState.CANCELLED
    assert after["Instalment 2 check"] == StepState.PENDING
    second_check = [s for s in steps(engine, "INV-7") if s.name == "Instalment 2 check"][0]
    ladder = [s for s in steps(engine, "INV-7") if s.kind == StepKind.LADDER and s.state == StepState.PENDING]
    assert all(s.due_at > second_check.due_at for s in ladder), "the ladder waits behind the next open instalment"


async def test_today_and_upcoming_list_my_steps(team: ChatDriver, clock: MovableClock) -> None:
    add_acme(team)
    assert "Nothing on your ladder today" in team.say("bob", "/today")
    clock.set(datetime(2026, 12, 7, 8, 0, tzinfo=OSLO))
    today = team.say("bob", "/today")
    assert "INV-7" in today and "10:00" in today
    upcoming = team.say("carol", "/upcoming 5")
    assert "Thu 10 Dec 2026, 12:00" in upcoming
    assert "number of days" in team.say("carol", "/upcoming soon")


async def test_invoice_added_overdue_does_not_fire_its_past_steps_in_a_burst(
    team: ChatDriver, engine: Engine, clock: MovableClock, scheduler: Scheduler, notifier: RecordingNotifier
) -> None:
    team.say("carol", "/today")
    team.say("bob", "/add INV-8 500 EUR 2026-11-16 Late Ltd collector=@carol")
    planned = steps(engine, "INV-8")
    skipped = [s for s in planned if s.state == StepState.SKIPPED]
    assert skipped, "steps whose time has passed are recorded as skipped"
    assert await deliver_at(scheduler, clock, clock.now() + timedelta(minutes=1)) == 1, "only the step it is at now"


async def test_bad_outcome_commands_explain_themselves(team: ChatDriver) -> None:
    add_acme(team)
    assert "By which date" in team.say("carol", "/promise INV-7")
    assert "already passed" in team.say("carol", "/promise INV-7 2026-11-01")
    assert "Why does the customer dispute" in team.say("carol", "/dispute INV-7")
    assert "not disputed" in team.say("carol", "/resolve INV-7")
    assert "could not read that plan" in team.say("carol", "/plan INV-7 three please")
    assert "not a snooze I understand" in team.say("carol", "/snooze INV-7 later")
    assert "No step of INV-7 is waiting" in team.say("carol", "/done INV-7")


async def test_the_legal_handover_goes_to_the_teams_lawyer(team: ChatDriver, engine: Engine) -> None:
    assert "joined the team" in team.say("alice", "/team add @larry lawyer")
    add_acme(team)
    legal = steps(engine, "INV-7")[-1]
    assert legal.name == "Legal handover"
    with Session(engine) as session:
        assert session.get(Person, legal.responsible_id).handle == "larry"  # type: ignore[union-attr]
