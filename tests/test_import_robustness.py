"""Whatever a CSV holds, the dry run answers with problems by line; what it accepts the database
stores; checked files wait in the database, capped in size, number and age (findings 13, 14)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, func, select

from bot.floor.clock import MovableClock
from bot.store.models import Invoice
from bot.store.stored_state import InteractionState
from handlers.importing import MAX_UPLOAD_BYTES, WAITING_PER_PERSON
from tests.support import ChatDriver
from bot.platforms.telegram import TelegramPlatform
from tests.telegram_standin import TelegramStandIn
from tests.test_import import GOOD, confirm_action, send
from tests.test_telegram import BOB, last_text, link_bob, standin, telegram  # noqa: F401 (fixtures)

INTERNAL_ERROR = "Something went wrong"
HEADER = "number,customer,amount,currency,issue date,due date,owner,collector,customer country,ladder\n"


def waiting_uploads(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(InteractionState).where(InteractionState.kind == "csv-upload")).one()


def invoices(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Invoice)).one()


@pytest.mark.parametrize(("content", "expected"), [
    ((HEADER + "INV-1,Acme," + "9" * 200_000 + ",EUR,,2026-12-10,,,,\n" + "INV-2,Fjord AS,10,EUR,,2026-12-10,,,,\n").encode(),
     "line 2: this line cannot be read as CSV (field larger than field limit"),
    (b"\r\x00", "line 1: the header is empty"),
    (b"\x00\r", "line 1: the header holds a NUL byte"),
    ((HEADER + "INV-1,Ac\x00me,10,EUR,,2026-12-10,,,,\n").encode(), "line 2: the line holds a NUL byte"),
    ((HEADER + "INV-1,Müller GmbH,10,EUR,,2026-12-10,,,,\n").encode("latin-1"), "line 2: byte 0xfc is not UTF-8"),
    (HEADER.encode("utf-16"), "line 1: the file is UTF-16 text (or binary), not UTF-8"),
    (bytes(range(256)) * 4, "line 2: byte 0x80 is not UTF-8"),
    (b"", "is empty"),
    (b"\r\n \n", "is empty"),
    (HEADER.encode(), "has only its header, no invoices"),
    (b'number,customer,amount,due date\n"INV-1,Acme,10,2026-12-10\n', "line 2: 'INV-1,Acme,10,2026-12-10' is not a usable"),
])
def test_a_bad_csv_gets_its_problem_by_line_never_an_internal_error(team: ChatDriver, content: bytes, expected: str) -> None:
    reply = send(team, "alice", "/import", content)
    assert INTERNAL_ERROR not in reply
    assert expected in reply, reply


def test_a_row_with_a_nul_byte_is_refused_in_the_dry_run_and_the_good_rows_are_stored(team: ChatDriver, engine: Engine) -> None:
    reply = send(team, "alice", "/import", GOOD + "INV-3,Null\x00 AS,10,EUR,,2026-12-10,,,,\n")
    assert "Rows with problems:      1" in reply and "line 4: the line holds a NUL byte" in reply
    stored = team.press("alice", confirm_action(team))
    assert "Imported 2 invoices" in stored, stored
    assert invoices(engine) == 2


def test_an_upload_over_the_size_limit_is_refused_and_nothing_is_kept(team: ChatDriver, engine: Engine) -> None:
    huge = GOOD.encode() + b"#" * MAX_UPLOAD_BYTES
    reply = send(team, "alice", "/import", huge, name="everything.csv")
    assert "everything.csv is 5.0 MB; one file may be at most 5 MB" in reply
    assert waiting_uploads(engine) == 0


def test_each_person_keeps_a_few_unconfirmed_uploads_and_the_oldest_gives_way(team: ChatDriver, engine: Engine) -> None:
    confirmations = []
    for n in range(WAITING_PER_PERSON + 1):
        send(team, "bob", "/import", HEADER + f"INV-{n},Acme,10,EUR,,2026-12-10,,,,\n")
        confirmations.append(confirm_action(team))
    assert waiting_uploads(engine) == WAITING_PER_PERSON
    assert "I no longer have that file" in team.press("bob", confirmations[0])
    assert "Imported 1 invoice" in team.press("bob", confirmations[-1])
    assert waiting_uploads(engine) == WAITING_PER_PERSON - 1, "a confirmed file is let go"


def test_an_unconfirmed_upload_expires_after_an_hour_and_is_cleaned_up(team: ChatDriver, engine: Engine, clock: MovableClock) -> None:
    send(team, "bob", "/import", GOOD)
    stale = confirm_action(team)
    clock.advance(timedelta(minutes=61))
    assert "I no longer have that file" in team.press("bob", stale)
    send(team, "carol", "/import", GOOD)
    assert waiting_uploads(engine) == 1, "the expired file was removed when the next one came"


def test_only_the_sender_can_confirm_their_upload(team: ChatDriver, engine: Engine) -> None:
    send(team, "bob", "/import", GOOD)
    assert "I no longer have that file" in team.press("dave", confirm_action(team))
    assert invoices(engine) == 0


CELL = st.one_of(
    st.sampled_from(["INV-1", "INV-2", "Acme", "1200.50", "12,5", "EUR", "NOK", "2026-12-10", "+30d", "bob", "@zed", "NO",
                     "standard", "", " ", '"', "\x00", "\r", "\n", "é", "💶", ";", ",", "\t"]),
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=60, max_size=300),
)
ROW = st.lists(CELL, max_size=12)


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """Headers good and bad, rows of any width with any cells, any delimiter and quoting, in UTF-8
    (perhaps with a BOM) or another encoding, or plain junk."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=400))
    header = draw(st.sampled_from([HEADER.rstrip("\n"), "number;customer;amount;due date", "number,customer,amount,due_date,currency",
                                   "invoice,client,sum,due", "a,b,c", ""]))
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    rows = draw(st.lists(ROW, max_size=6))
    quote = draw(st.booleans())
    lines = [header.replace(",", delimiter)] + [
        delimiter.join(f'"{cell}"' if quote else cell for cell in row) for row in rows]
    text = draw(st.sampled_from(["\n", "\r\n", "\r"])).join(lines)
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "latin-1", "utf-16"]))
    return text.encode(encoding, errors="replace")


@given(content=csv_files())
def test_any_csv_gets_an_answer_and_what_the_dry_run_accepts_is_stored(team: ChatDriver, content: bytes) -> None:
    reply = send(team, "alice", "/import", content)
    assert INTERNAL_ERROR not in reply, reply
    assert team.last is not None
    confirm = [b for b in team.last.buttons if b.action.startswith("import confirm=")]
    if confirm:
        stored = team.press("alice", confirm[0].action)
        assert INTERNAL_ERROR not in stored and "Imported" in stored, stored


async def test_a_telegram_document_over_the_limit_is_refused_without_downloading_it(
    team: ChatDriver, standin: TelegramStandIn, telegram: TelegramPlatform,
) -> None:
    await link_bob(team, standin)
    await standin.send_document(BOB, "everything.csv", GOOD.encode() + b"#" * MAX_UPLOAD_BYTES, caption="/import")
    await last_text(standin, BOB.id, "everything.csv is larger than 5 MB; split it")
    assert standin.calls_of("getFile") == []
