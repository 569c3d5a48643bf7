"""Hypothesis throws every command and every button payload at the core — random words, quotes,
unicode, control characters, huge input — as every kind of person, and checks what must always
hold: a reply, never an internal error, and an error stores nothing.

CI runs the `ci` profile (a fixed, modest number of examples); `HYPOTHESIS_PROFILE=long` runs many
more locally. `tests/fuzz_strategies.py` holds the strategies, for other fuzz tests to reuse.
"""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.platforms.console.chat import console_sender
from bot.platforms.text import render_text
from bot.floor.reply import Reply
from tests.fuzz_strategies import ACTORS, button_actions, command_lines
from tests.support import ChatDriver, count_rows

INTERNAL = "Something went wrong"


def check(chat: ChatDriver, reply: Reply, before: dict[str, int], what: str) -> None:
    text = render_text(reply)
    assert text.strip(), f"no reply to {what!r}"
    assert INTERNAL not in text, f"{what!r} → {text}"
    if reply.is_error:
        assert count_rows(chat.core.services.engine) == before, f"an error stored something: {what!r} → {text}"


@given(data=st.data())
def test_no_command_text_ever_gets_an_internal_error_or_half_stores(team: ChatDriver, data: st.DataObject) -> None:
    if not hasattr(team, "_fuzz_ready"):
        team.say("bob", "/add INV-1 1200 EUR 2026-12-10 Acme")
        team.say("carol", "/add INV-2 300 EUR 2026-11-01 Borealis collector=@carol")
        team._fuzz_ready = True  # type: ignore[attr-defined]
    who = data.draw(st.sampled_from(ACTORS), label="who")
    line = data.draw(command_lines(list(team.core.catalogue)), label="line")
    before = count_rows(team.core.services.engine)
    check(team, team.core.handle_text(console_sender(who), line), before, line)


@given(data=st.data())
def test_no_button_payload_ever_gets_an_internal_error_or_half_stores(team: ChatDriver, data: st.DataObject) -> None:
    if not hasattr(team, "_fuzz_ready"):
        team.say("bob", "/add INV-1 1200 EUR 2026-12-10 Acme")
        team._fuzz_ready = True  # type: ignore[attr-defined]
    who = data.draw(st.sampled_from(ACTORS), label="who")
    action = data.draw(button_actions(), label="action")
    before = count_rows(team.core.services.engine)
    check(team, team.core.press(console_sender(who), action), before, action)
