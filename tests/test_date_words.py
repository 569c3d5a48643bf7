"""Dates and weekdays typed in the user's own language: i morgen, завтра, утре, +30д, fredag, пт."""
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.floor.dates import DAY_WORDS, join_day_words, looks_like_date, parse_date, weekday_number
from handlers.grammar import parse_command
from tests.support import ChatDriver

TODAY = date(2026, 11, 24)
TOMORROW = TODAY + timedelta(days=1)


@pytest.mark.parametrize("typed,expected", [
    ("today", TODAY), ("i dag", TODAY), ("idag", TODAY), ("сегодня", TODAY), ("днес", TODAY),
    ("tomorrow", TOMORROW), ("i morgen", TOMORROW), ("imorgen", TOMORROW), ("завтра", TOMORROW), ("утре", TOMORROW),
    ("I Morgen", TOMORROW), ("Завтра", TOMORROW), ("i  morgen", TOMORROW),
    ("+30d", TODAY + timedelta(days=30)), ("+30д", TODAY + timedelta(days=30)), ("+30Д", TODAY + timedelta(days=30)),
    ("+7 д", TODAY + timedelta(days=7)),
])
def test_today_tomorrow_and_days_from_now_are_read_in_every_language(typed: str, expected: date) -> None:
    assert looks_like_date(typed)
    assert parse_date(typed, TODAY, "/promise INV-1 i morgen") == expected


@given(days=st.integers(min_value=0, max_value=9999), letter=st.sampled_from("dDдД"))
def test_plus_days_counts_from_today_with_a_latin_or_cyrillic_d(days: int, letter: str) -> None:
    assert parse_date(f"+{days}{letter}", TODAY) == TODAY + timedelta(days=days)


@given(word=st.sampled_from(sorted(DAY_WORDS)), today=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)))
def test_every_day_word_is_today_or_tomorrow_from_any_day(word: str, today: date) -> None:
    assert parse_date(word.upper(), today) - today in (timedelta(0), timedelta(days=1))


@pytest.mark.parametrize("typed", ["next friday", "i overmorgen", "послезавтра", "+30x", "morgen i"])
def test_words_that_are_not_dates_are_still_refused_with_the_forms(typed: str) -> None:
    from bot.floor.errors import UsageError

    with pytest.raises(UsageError, match="today or tomorrow"):
        parse_date(typed, TODAY, "/promise INV-1 i morgen")


@pytest.mark.parametrize("typed,number", [
    ("mon", 0), ("Friday", 4), ("fredag", 4), ("fre", 4), ("fre.", 4), ("søn", 6), ("lørdag", 5),
    ("пт", 4), ("пятница", 4), ("понедельник", 0), ("вс", 6), ("петък", 4), ("понеделник", 0), ("нд", 6), ("сряда", 2),
])
def test_weekday_names_are_read_in_english_norwegian_russian_and_bulgarian(typed: str, number: int) -> None:
    assert weekday_number(typed) == number


@given(words=st.lists(st.sampled_from(["i", "morgen", "dag", "Acme", "I", "Morgen", "AS"]), max_size=8))
def test_joining_two_word_dates_never_changes_the_text(words: list[str]) -> None:
    assert " ".join(join_day_words(words)) == " ".join(words)


def test_a_two_word_date_is_one_argument_of_a_command() -> None:
    command = parse_command("/promise INV-1 i morgen 500")
    assert command is not None and command.words == ("INV-1", "i morgen", "500")


def test_a_norwegian_salesperson_promises_for_tomorrow_and_gets_a_digest_on_fridays(team: ChatDriver) -> None:
    team.say("bob", "/add INV-1 1200 EUR 2026-11-20 Fjord AS")
    assert "pay by Nov 25, 2026" in team.say("bob", "/promise INV-1 i morgen")
    assert "every Fri at 08:30" in team.say("bob", "/digest weekly fredag 08:30")
    assert "Updated @bob" in team.say("bob", "/team set days=man-tor")
    assert "mon-thu" in team.say("alice", "/team")


def test_russian_and_bulgarian_date_words_work_in_commands(team: ChatDriver) -> None:
    team.say("bob", "/add INV-2 500 EUR завтра Рога и Копыта")
    assert "Nov 25, 2026" in team.say("bob", "/show INV-2")
    team.say("bob", "/add INV-3 500 EUR +30д Балкан ООД")
    assert "Dec 24, 2026" in team.say("bob", "/show INV-3")
    assert "pay by Nov 25, 2026" in team.say("bob", "/promise INV-3 утре")
    assert "every Fri" in team.say("bob", "/digest weekly пт 08:30")
