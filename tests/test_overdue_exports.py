"""/overdue export csv|xlsx: one row per overdue invoice, formulas neutralised; the text, the
chart and the export tell the same numbers; the console writes files to a folder."""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.platforms.console.chat import ConsoleChat
from handlers.core import Core
from bot.i18n import _, speaking, translated
from handlers.exports import COLUMNS, SHEET, neutralise
from bot.floor.money import format_money
from handlers.overdue_figures import Scope, bucket_label, overdue_figures
from bot.floor.reply import Table
from handlers.reports import aging_series
from tests.support import ChatDriver


def add_book(chat: ChatDriver) -> None:
    for who, line in [
        ("bob", "/add B-1 1000 EUR 2026-11-20 Acme"),
        ("bob", '/add B-2 500 USD 2026-09-01 "=HYPERLINK(""http://x"")" collector=@carol'),
        ("dave", "/add D-1 250.50 EUR 2026-10-15 Borealis"),
        ("dave", "/add D-2 99 EUR 2026-07-01 +Old Co"),
        ("dave", "/add D-3 700 EUR 2026-12-24 Future AS"),
        ("bob", "/add B-3 1234.56 EUR 2026-11-01 -Minus AS"),
    ]:
        assert "Added" in chat.say(who, line), line
    assert "D-2" in chat.say("dave", "/dispute D-2 =cmd|' /C calc'!A0")
    chat.say("bob", "/promise B-1 2026-12-01")


def export(chat: ChatDriver, who: str, kind: str) -> bytes:
    chat.say(who, f"/overdue export {kind}")
    assert chat.last is not None
    [file] = chat.last.files
    assert file.filename == f"overdue-2026-11-24.{kind}" and file.kind == "document"
    return file.content


def test_csv_export_has_one_row_per_overdue_invoice_with_formulas_neutralised(team: ChatDriver) -> None:
    add_book(team)
    rows = list(csv.DictReader(io.StringIO(export(team, "alice", "csv").decode("utf-8-sig"))))
    assert [row["Number"] for row in rows] == ["D-2", "B-2", "D-1", "B-3", "B-1"], "oldest first, Future AS not due"
    by_number = {row["Number"]: row for row in rows}
    assert by_number["B-2"]["Customer"].startswith("'=HYPERLINK")
    assert by_number["D-1"]["Customer"] == "Borealis"
    assert by_number["D-2"]["Customer"] == "'+Old Co" and by_number["D-2"]["Dispute"].startswith("'=cmd")
    assert by_number["B-3"]["Customer"] == "'-Minus AS"
    b1 = by_number["B-1"]
    assert (b1["Amount"], b1["Balance"], b1["Currency"], b1["Due date"], b1["Days overdue"], b1["Bucket"]) == (
        "1000.00", "1000.00", "EUR", "2026-11-20", "4", "1-30 days")
    assert (b1["Owner"], b1["Collector"], b1["Promise date"]) == ("bob", "", "2026-12-01")
    assert by_number["B-2"]["Collector"] == "carol"
    assert b1["Next step"] and b1["Next step at"], "the ladder's next step and when"
    assert set(rows[0]) == {"Customer", "Number", "Amount", "Balance", "Currency", "Due date", "Days overdue", "Bucket",
                            "Owner", "Collector", "Current step", "Next step", "Next step at", "Promise date", "Dispute",
                            "Plan"}


def test_every_formula_start_is_neutralised() -> None:
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(text) == "'" + text
    assert neutralise("Acme = best") == "Acme = best"


def test_xlsx_export_reads_back_with_numbers_dates_and_text(team: ChatDriver) -> None:
    add_book(team)
    sheet = load_workbook(io.BytesIO(export(team, "alice", "xlsx"))).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:4] == ("Customer", "Number", "Amount", "Balance")
    rows = {row[1]: row for row in values[1:]}
    assert set(rows) == {"D-2", "B-2", "D-1", "B-3", "B-1"}
    assert rows["B-3"][2] == 1234.56 and rows["B-3"][5].date() == date(2026, 11, 1) and rows["B-3"][6] == 23
    assert rows["B-2"][0].startswith("'=HYPERLINK"), "text, never a formula"
    assert all(sheet.cell(row=r, column=1).data_type == "s" for r in range(2, sheet.max_row + 1))
    assert not any(isinstance(cell, str) and cell.startswith(("=", "+", "-", "@")) for row in values for cell in row)


def test_a_salesperson_exports_only_their_own(team: ChatDriver) -> None:
    add_book(team)
    rows = list(csv.DictReader(io.StringIO(export(team, "bob", "csv").decode("utf-8-sig"))))
    assert sorted(row["Number"] for row in rows) == ["B-1", "B-2", "B-3"]
    assert "csv or xlsx" in team.say("alice", "/overdue export pdf")


def test_text_chart_and_export_agree_on_one_data_set(team: ChatDriver, core: Core) -> None:
    add_book(team)
    for n in range(12):
        team.say("alice", f"/add A-{n} {n * 37 + 10}.25 {'EUR' if n % 3 else 'NOK'} 2026-{8 + n % 4:02d}-{3 + n}  Agree {n % 4}")
    team.say("alice", "/paid A-3 5")
    team.say("alice", "/overdue chart")
    assert team.last is not None
    text_rows = next(b.rows for b in team.last.blocks if isinstance(b, Table) and b.caption == "Aging")
    exported: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in csv.DictReader(io.StringIO(export(team, "alice", "csv").decode("utf-8-sig"))):
        exported[row["Bucket"]][row["Currency"]] += Decimal(row["Balance"])
    from sqlmodel import Session

    with Session(core.services.engine) as session:
        figures = overdue_figures(session, Scope(1, date(2026, 11, 24)))
    labels, series = aging_series(figures)
    for label, count, balance in text_rows:
        chart_values = {c: values[labels.index(label)] for c, values in series.items() if values[labels.index(label)]}
        assert chart_values == dict(exported[label]), label
        assert balance == " + ".join(format_money(v, c) for c, v in sorted(chart_values.items()))
    assert sum(len(v) for v in exported.values()) > 3


def test_the_console_writes_files_to_a_folder_and_prints_the_path(core: Core, tmp_path: Path) -> None:
    output = io.StringIO()
    core.services.settings.files_dir = tmp_path / "files"
    chat = ConsoleChat(core, "alice", output)
    import asyncio

    asyncio.run(chat.say("/start"))
    asyncio.run(chat.say("/add B-1 100 EUR 2026-11-01 Acme"))
    asyncio.run(chat.say("/overdue export csv"))
    asyncio.run(chat.say("/overdue export csv"))
    written = sorted(p.name for p in (tmp_path / "files").iterdir())
    assert written == ["overdue-2026-11-24-2.csv", "overdue-2026-11-24.csv"], "never overwritten"
    assert f"Saved overdue-2026-11-24.csv to {tmp_path / 'files' / 'overdue-2026-11-24.csv'}" in output.getvalue()
    assert b"B-1" in (tmp_path / "files" / "overdue-2026-11-24.csv").read_bytes()


@pytest.mark.parametrize("language", ["ru", "nb", "bg"])
def test_an_export_reads_in_the_requesters_language_and_keeps_machine_readable_cells(team: ChatDriver, language: str) -> None:
    add_book(team)
    english = {row[1]: row for row in csv.reader(io.StringIO(export(team, "alice", "csv").decode("utf-8-sig")))}
    team.say("alice", f"/team set lang={language}")
    with speaking(language):
        headers = [_(name) for name in COLUMNS]
        bucket, disputed = bucket_label("1-30 days"), _("disputed")
    assert not set(headers) & set(COLUMNS), "every header in the requester's language"
    rows = list(csv.reader(io.StringIO(export(team, "alice", "csv").decode("utf-8-sig"))))
    assert rows[0] == headers
    by_number = {row[1]: row for row in rows[1:]}
    b1 = by_number["B-1"]
    assert b1[2:8] == ["1000.00", "1000.00", "EUR", "2026-11-20", "4", bucket], "numbers, codes and ISO dates as before"
    assert b1[12] == english["B-1"][12] and b1[13] == "2026-12-01"
    assert b1[11] and b1[11] != english["B-1"][11], "the next step's name in the requester's language"
    assert by_number["D-2"][14].startswith("'=cmd") and disputed
    sheet = load_workbook(io.BytesIO(export(team, "alice", "xlsx"))).active
    assert sheet is not None and sheet.title == translated(language, SHEET)
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == headers
    assert {row[1]: row for row in values[1:]}["B-1"][7] == bucket
