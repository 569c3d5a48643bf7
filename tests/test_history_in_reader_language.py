"""Issue 16: an invoice's history and the steps the course adds while it runs are written in the
language of whoever reads them, whoever wrote them: the database keeps what happened (kinds, facts,
template keys with their values), not English sentences."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from alembic import command
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.floor.clock import MovableClock
from bot.floor.dates import show_date
from bot.floor.money import format_money
from bot.i18n import locale_for
from bot.platforms.telegram.render import render_messages as telegram_messages
from bot.platforms.text import render_text
from bot.store.database import alembic_config
from bot.store.models import Event, Invoice, LadderStep
from handlers.pings import compose_ping
from scheduling.scheduler import Scheduler
from tests.conftest import OSLO
from tests.support import ChatDriver, RecordingNotifier, fire_at

READERS = {
    "ru": {"added": "добавлен счёт INV-1", "changed": "изменено: срок оплаты:", "paid": "частичная оплата", "promise": "обещание оплатить до",
           "dispute": "оспорен: «паллеты» & <b>битые</b>", "nudge": "Нет ответа: Звонок в день оплаты",
           "escalated": "передано @alice: @carol не ответил на «Звонок в день оплаты»",
           "waiting": "ждёт вашего ответа", "escalation": "Передано руководителю: Звонок в день оплаты", "dispute_step": "Разобрать спор"},
    "nb": {"added": "la til INV-1", "changed": "endret: forfallsdato:", "paid": "delbetaling på", "promise": "lovet å betale innen",
           "dispute": "bestridt: «paller» & <b>knust</b>", "nudge": "Ikke besvart ennå: Telefon på forfallsdagen",
           "escalated": "eskalert til @alice: @carol svarte ikke på «Telefon på forfallsdagen»",
           "waiting": "venter på svaret ditt", "escalation": "Eskalert: Telefon på forfallsdagen", "dispute_step": "Innsigelse som må løses"},
    "bg": {"added": "добавена фактура INV-1", "changed": "променено: падеж:", "paid": "частично плащане от", "promise": "обещание за плащане до",
           "dispute": "оспорена: палетите & <b>счупени</b>", "nudge": "Още няма отговор: Обаждане на падежа",
           "escalated": "ескалирано до @alice: @carol не отговори на „Обаждане на падежа“",
           "waiting": "чака вашия отговор", "escalation": "Ескалирано: Обаждане на падежа", "dispute_step": "Спор за решаване"},
}
REASONS = {"ru": "«паллеты» & <b>битые</b>", "nb": "«paller» & <b>knust</b>", "bg": "палетите & <b>счупени</b>"}
DUE_NOON = datetime(2026, 12, 10, 12, 0, tzinfo=OSLO)


def money(amount: str, language: str) -> str:
    return format_money(Decimal(amount), "EUR", locale_for(language))


def day(text: str, language: str) -> str:
    return show_date(date.fromisoformat(text), locale_for(language))


@pytest.mark.parametrize("language", READERS)
def test_a_manager_reads_the_history_a_colleague_wrote_in_english_in_their_own_language(
        team: ChatDriver, language: str) -> None:
    team.say("bob", "/add INV-1 1200.50 EUR 2026-12-10 Acme Trading")
    team.say("bob", "/paid INV-1 200")
    team.say("bob", "/change INV-1 due=2026-12-11")
    team.say("bob", "/promise INV-1 2026-12-14")
    team.say("bob", f"/dispute INV-1 {REASONS[language]}")
    team.say("alice", f"/team set @alice lang={language}")

    history = team.say("alice", "/history INV-1")

    words = READERS[language]
    for line in (f"{words['added']}: {money('1200.50', language)}", f"{words['paid']} {money('200', language)}",
                 f"{words['promise']} {day('2026-12-14', language)}", words["dispute"],
                 f"{words['changed']} {day('2026-12-10', language)} → {day('2026-12-11', language)}"):
        assert line in history, history
    telegram = "".join(telegram_messages(team.last))  # type: ignore[arg-type]
    assert words["dispute"].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in telegram, "a reason is plain text"
    for english in ("added INV-1", "partial payment", "promised to pay", "disputed:", "changed due date", "Dispute to resolve"):
        assert english not in history, f"{english!r} left in English: {history}"
    shown = team.say("alice", "/show INV-1")
    assert words["added"] in shown and words["dispute_step"] in shown and "added INV-1" not in shown
    assert "added INV-1: €1,200.50 due Dec 10, 2026, owner @bob" in team.say("bob", "/history INV-1"), "bob still reads English"


@pytest.mark.parametrize("language", READERS)
async def test_a_nudge_added_at_run_time_reaches_its_reader_in_their_language(
        team: ChatDriver, clock: MovableClock, scheduler: Scheduler, notifier: RecordingNotifier, language: str) -> None:
    team.say("alice", "/team set @carol manager=@alice")
    team.say("carol", "/today")
    team.say("bob", "/add INV-1 1000 EUR 2026-12-10 Acme Trading collector=@carol")
    await fire_at(scheduler, clock, datetime(2026, 12, 7, 10, 0, tzinfo=OSLO))
    team.say("bob", "/done INV-1")
    await fire_at(scheduler, clock, DUE_NOON)
    for member in ("carol", "alice"):
        team.say("alice", f"/team set @{member} lang={language}")

    clock.set(DUE_NOON + timedelta(hours=4))
    assert await scheduler.follow_up() == 1
    await fire_at(scheduler, clock, clock.now())

    words = READERS[language]
    assert words["nudge"] in notifier.texts("carol")[-1]
    assert "No answer yet" not in notifier.texts("carol")[-1] and "You were reminded" not in notifier.texts("carol")[-1]
    today = team.say("carol", "/today")
    assert words["nudge"] in today and words["waiting"] in today, today

    clock.set(datetime(2026, 12, 11, 12, 0, tzinfo=OSLO))
    assert await scheduler.follow_up() == 1
    await fire_at(scheduler, clock, clock.now())
    assert words["escalation"] in notifier.texts("alice")[-1] and "has not answered" not in notifier.texts("alice")[-1]
    assert words["escalated"] in team.say("alice", "/history INV-1")


def test_an_entry_written_before_its_facts_were_kept_reads_as_it_was_written(team: ChatDriver, engine: Engine) -> None:
    team.say("bob", "/add INV-1 100 EUR 2026-12-10 Acme")
    with Session(engine) as session:
        invoice = session.exec(select(Invoice)).one()
        session.add(Event(team_id=invoice.team_id, invoice_id=invoice.id, kind="escalated", summary="escalated to @alice long ago",
                          details={"step": 1}, at=invoice.created_at))
        session.commit()
    team.say("alice", "/team set @alice lang=ru")
    assert "escalated to @alice long ago" in team.say("alice", "/history INV-1")


def test_steps_stored_as_english_before_migration_0014_are_shown_in_the_readers_language_after_it(
        team: ChatDriver, engine: Engine) -> None:
    team.say("bob", "/add INV-1 1000 EUR 2026-12-10 Acme")
    team.say("bob", "/promise INV-1 2026-12-14")
    team.say("alice", "/dispute INV-1 pallets <7> broke")
    config = alembic_config(engine)
    command.downgrade(config, "0013")
    command.upgrade(config, "head")
    team.say("alice", "/team set @alice lang=nb")

    shown = team.say("alice", "/show INV-1")

    assert "Innsigelse som må løses" in shown and "Dispute to resolve" not in shown, shown
    ping = team.say("alice", "/history INV-1")
    assert "Promise follow-up" not in ping and "Dispute to resolve" not in ping, ping


def test_an_instalment_reminder_writes_its_amount_and_date_the_way_its_reader_does(team: ChatDriver, engine: Engine,
                                                                                    clock: MovableClock) -> None:
    team.say("bob", "/add INV-1 1000.50 EUR 2026-12-10 Acme collector=@carol")
    team.say("carol", "/plan INV-1 2 instalments every month from 2026-12-15")
    team.say("alice", "/team set @carol lang=ru")
    with Session(engine) as session:
        reminder = session.exec(select(LadderStep).where(LadderStep.name == "Instalment 1 reminder")).one()
        ping = compose_ping(session, [reminder.id], clock.now())  # type: ignore[list-item]
    assert ping is not None
    text = render_text(ping)
    assert f"платёж 1 из 2 ({money('500.25', 'ru')}, срок {day('2026-12-15', 'ru')})" in text, text
    assert "instalment 1 of 2" not in text
