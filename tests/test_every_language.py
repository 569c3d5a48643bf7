"""Every kind of reply, in every language the bot speaks, through the Telegram and Slack renderers:
valid Telegram HTML within its limits, Block Kit within Slack's, and no English left where the
reader's language has its own words."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.floor.clock import MovableClock
from bot.platforms.text import render_text
from bot.i18n import LANGUAGES
from bot.store.models import LadderStep, StepState
from bot.platforms.slack.render import MAX_BLOCKS, render_messages as slack_messages
from bot.platforms.telegram.render import LIMIT, render_messages as telegram_messages, utf16_len
from handlers.drafts import ping_draft
from handlers.pings import compose_ping
from bot.floor.reply import Reply
from bot.platforms.console.chat import console_sender
from handlers.grammar import IncomingFile
from tests.support import ChatDriver
from tests.telegram_standin import parse_html

COMMANDS = (
    "/start", "/help", "/help add", "/add INV-77 1500 NOK 2026-12-20 Fjord AS", "/list", "/list overdue", "/show INV-77",
    "/paid INV-77 500", "/overdue", "/today", "/upcoming 30", "/ladders", "/ladders standard", "/team", "/history INV-77",
    "/casefile INV-77", "/promise INV-77 +10d", "/digest", "/nosuch", "/add INV-78 abc", "/show INV-404", "/paid",
    '/customer "Fjord AS"', '/customer "Fjord AS" tone=grumpy', "/customer Nobody", "/signature", "/signature colour=blue",
    "/cancel INV-77 written off", "/done", "/dispute INV-77", "/resolve", "/draft", "/add INV-79 100 NOK 2026-12-20 Fjord AS country=XX",
    f"/done INV-77 {'x' * 4000}", "/import", "/show INV-77", "/add INV-80 900 NOK 2026-12-20 Fjord AS",
    "/dispute INV-80 pallet 7", "/show INV-80",
)
"""Besides every kind of reply: the ones issue 16 found still in English — /customer and /signature, a
role's refusal, the examples with words in them, a country nobody keeps holidays for, a count
written the reader's way, the steps a promise and a dispute add (shown by /show and the pings)."""
IMPORTED = ("number,customer,amount,currency,due_date\n"
            "INV-90,Fjord AS,100,NOK,2026-12-20\n"
            "INV-90,Fjord AS,100,NOK,2026-12-20\n"
            "bad number!,Fjord AS,100,NOK,2026-12-20\n"
            "INV-91,Fjord AS,100,NOK,2027-13-45\n")
"""A CSV whose dry run lists row problems: a number twice, an unusable number."""
INTERNAL_ERROR = re.compile(r"[0-9a-f]{8}\)")
"""The incident number every language's "something went wrong on my side" ends its sentence with."""
WORDS = {"ru": "Пример", "nb": "Eksempel", "bg": "Пример"}
"""A word each language writes where English writes "Example" (the error replies show it)."""


def replies_in(team: ChatDriver, engine: Engine, clock: MovableClock, language: str) -> list[Reply]:
    for member in ("bob", "alice"):  # alice manages: the dispute's step is hers
        team.say("alice", f"/team set @{member} lang={language}")
    team.say("alice", "/rates EUR NOK 11.50")
    replies = []
    for command in COMMANDS:
        team.say("bob", command)
        assert team.last is not None
        replies.append(team.last)
    replies.append(team.core.handle_text(console_sender("bob"), "/import",
                                         (IncomingFile("invoices.csv", IMPORTED.encode(), "text/csv"),)))
    with Session(engine) as session:
        pending = session.exec(select(LadderStep).where(LadderStep.state == StepState.PENDING).order_by(col(LadderStep.due_at))).all()
        for holder in sorted({step.responsible_id for step in pending if step.responsible_id is not None}):
            step_ids = [step.id for step in pending if step.responsible_id == holder][:3]
            ping = compose_ping(session, step_ids, clock.now() + timedelta(days=40), draft_for=ping_draft(team.core.services))
            assert ping is not None
            replies.append(ping)
    assert len(replies) == len(COMMANDS) + 3, "bob's ping and alice's, for the dispute"
    return replies


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_reply_renders_within_telegram_and_slack_limits_in_every_language(
        team: ChatDriver, engine: Engine, clock: MovableClock, language: str) -> None:
    for reply in replies_in(team, engine, clock, language):
        assert reply.language == language, render_text(reply)
        assert not INTERNAL_ERROR.search(render_text(reply)), f"an internal error in {language}: {render_text(reply)}"
        for message in telegram_messages(reply):
            assert utf16_len(message) <= LIMIT
            parse_html(message)  # raises on tags Telegram would refuse
        for blocks in slack_messages(reply):
            assert len(blocks) <= MAX_BLOCKS
            for block in blocks:
                text = block.get("text") or {}
                assert len(text.get("text", "")) <= (150 if block["type"] == "header" else 3000)
                for field in block.get("fields", []):
                    assert len(field["text"]) <= 2000
                for element in block.get("elements", []):
                    assert len((element.get("text") or {}).get("text", "") if isinstance(element.get("text"), dict)
                               else element.get("text", "")) <= 3000


@pytest.mark.parametrize("language", [language for language in LANGUAGES if language != "en"])
def test_a_reader_gets_no_english_labels_in_their_language(team: ChatDriver, engine: Engine, clock: MovableClock,
                                                           language: str) -> None:
    replies = replies_in(team, engine, clock, language)
    text = "\n".join(render_text(reply) for reply in replies)
    for english in ("What I can do", "Example:", "Balance", "Overdue for", "Added invoice", "What to do", "Answer by",
                    "due in", "days overdue", "I don't know the command", "Draft letter", "Draft message", "Draft call",
                    "Your signature on drafts", "Team locale", "not set", "Contract", "is not a tone", "There is no customer",
                    "/signature takes", "Salespeople can't", "only managers", "spoke to Anna", "goods arrived damaged",
                    " or /resolve", " or /draft", "is not a country I have public holidays for", "4,000", "characters long",
                    "Promise follow-up", "Dispute to resolve", "The customer disputes", "was not kept", "business days before due",
                    "pre_due", "/ warm", "Give the path of a CSV file", "appears twice in the file", "not a usable invoice number"):
        assert english not in text, f"{english!r} left in English for {language}"
    assert WORDS[language] in text
