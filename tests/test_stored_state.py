"""Interaction state and leases in the database: one winner however many instances ask at once,
and nothing kept past its expiry."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, func, select

from bot.floor.clock import MovableClock
from bot.store.stored_state import InteractionState, InteractionStore, LeaseKeeper
from handlers.core import Core


def entries(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(InteractionState)).one()


def test_a_request_seen_at_once_by_eight_instances_is_run_by_exactly_one(core: Core, engine: Engine, clock: MovableClock) -> None:
    stores = [InteractionStore(engine, clock) for _ in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        firsts = list(pool.map(lambda store: store.first_time("slack-signature", "v0=abc", timedelta(minutes=10)), stores))
    assert firsts.count(True) == 1


def test_a_seen_request_is_forgotten_after_its_window_and_old_ones_are_cleaned_up(core: Core, engine: Engine, clock: MovableClock) -> None:
    store = InteractionStore(engine, clock)
    window = timedelta(minutes=10)
    assert store.first_time("slack-event", "T1:Ev1", window)
    assert not store.first_time("slack-event", "T1:Ev1", window)
    for n in range(5):
        store.first_time("slack-event", f"T1:Old{n}", window)
    clock.advance(window + timedelta(seconds=1))
    assert store.first_time("slack-event", "T1:Ev1", window), "a request older than its window is refused by its signature's age"
    assert entries(engine) == 1, "expired entries are removed as new ones come"


def test_state_is_taken_once_and_expires(core: Core, engine: Engine, clock: MovableClock) -> None:
    a, b = InteractionStore(engine, clock), InteractionStore(engine, clock)
    a.put("tg-question", "1:2", {"user": 7}, timedelta(hours=1), holder="1:7")
    assert b.get("tg-question", "1:2") == {"user": 7}
    assert b.take("tg-question", "1:2") == {"user": 7}
    assert a.take("tg-question", "1:2") is None, "answered once"
    a.put("tg-question", "1:3", {"user": 7}, timedelta(hours=1), holder="1:7")
    clock.advance(timedelta(hours=1, seconds=1))
    assert b.get("tg-question", "1:3") is None


def test_one_lease_holder_at_a_time_and_a_lapsed_lease_is_taken_over(core: Core, engine: Engine, clock: MovableClock) -> None:
    ttl = timedelta(seconds=30)
    first, second = (LeaseKeeper(engine, clock, "telegram-polling", holder, ttl) for holder in ("a", "b"))
    assert first.acquire() and not second.acquire()
    clock.advance(timedelta(seconds=20))
    assert first.acquire(), "renewed"
    clock.advance(timedelta(seconds=20))
    assert not second.acquire(), "the renewal counts from when it was made"
    first.release()
    assert second.acquire() and second.holder_now() == "b"
    clock.advance(timedelta(seconds=31))
    assert first.acquire(), "b stopped renewing (it died): its lease lapsed"
    with ThreadPoolExecutor(max_workers=6) as pool:
        clock.advance(timedelta(seconds=31))
        keepers = [LeaseKeeper(engine, clock, "telegram-polling", f"n{n}", ttl) for n in range(6)]
        assert list(pool.map(lambda keeper: keeper.acquire(), keepers)).count(True) == 1
