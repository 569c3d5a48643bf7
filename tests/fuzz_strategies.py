"""Hypothesis strategies for hostile input, shared by the fuzz tests (commands and buttons here;
the CSV import's fuzz test can reuse `hostile_text` and `huge_text` for cell values)."""
from __future__ import annotations

from hypothesis import strategies as st

ACTORS = ("alice", "bob", "carol", "dave", "mallory")
NUMBERS = ("INV-1", "INV-2", "inv-1", "NOPE-9")
OPTION_KEYS = ("tz", "lang", "hours", "days", "name", "holidays", "contact", "owner", "collector", "due", "ladder",
               "country", "admin", "role", "manager", "confirm")
CONTROL = "".join(chr(code) for code in (*range(32), 127))

hostile_text = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(CONTROL + '"\u201c\u201d\'=@/\\<>&*_`~|#%{}[]'),
        st.sampled_from("€$£¥₽😀👍🏽\u200b\u202e\ufeffÅØÆñçß"),
    ),
    max_size=30,
)
"""Text with quotes, control characters, right-to-left marks, emoji and markup characters."""

huge_text = st.integers(min_value=3_000, max_value=120_000).map(lambda size: "x" * size)

plausible_word = st.one_of(
    st.sampled_from(NUMBERS),
    st.sampled_from(("100", "1,200.50", "1 200,50", "0", "-5", "1e9", "0.001", "EUR", "nok", "€", "JPY")),
    st.sampled_from(("2026-12-10", "01.12.2026", "+30d", "today", "tomorrow", "2026-02-30", "+99999d", "2h", "30m")),
    st.sampled_from(("overdue", "chart", "reload", "add", "set", "remove", "invite", "list", "salesperson",
                     "manager", "lawyer", "final", "formal", "letter", "ru", "nb", "instalments", "every", "month",
                     "from", "3", "confirm=abc")),
    st.sampled_from(("@bob", "@alice", "@nobody", "@slack:T1:U2", "@telegram:1", "@", "@@")),
    st.builds(lambda key, value: f"{key}={value}", st.sampled_from(OPTION_KEYS), hostile_text),
    st.builds(lambda key, value: f'{key}="{value}"', st.sampled_from(OPTION_KEYS), hostile_text),
    hostile_text.map(lambda text: f'"{text}"'),
    hostile_text,
)


def argument_text() -> st.SearchStrategy[str]:
    words = st.lists(plausible_word, max_size=8).map(" ".join)
    return st.one_of(words, words, words, huge_text, hostile_text)


def command_lines(verbs: list[str]) -> st.SearchStrategy[str]:
    verb = st.one_of(st.sampled_from(verbs), st.sampled_from(verbs).map(str.upper), hostile_text.map(lambda t: t[:10]))
    return st.builds(lambda v, rest, bot: f"/{v}{bot} {rest}", verb, argument_text(), st.sampled_from(("", "@CollectBot")))


def button_actions() -> st.SearchStrategy[str]:
    """What a button can carry: the pings', drafts' and import's actions, with any answer typed in
    where a button asks (`{input}`), and forged payloads."""
    number = st.sampled_from(NUMBERS)
    templates = st.sampled_from((
        "done {no}", "paid {no}", "promise {no} {input}", "dispute {no} {input}", "snooze {no} 2h", "noanswer {no}",
        "draft {no} pre_due warm", "draft {no} thank_you", "draft {no} final formal letter ru",
        "import confirm={input}", "resolve {no} {input}", "change {no} owner={input}", "team set {input}",
    ))
    forged = st.builds(lambda verb, rest: f"{verb} {rest}", st.sampled_from(("paid", "resolve", "team", "import", "x")),
                       argument_text())
    filled = st.builds(lambda template, no, answer: template.replace("{no}", no).replace("{input}", answer),
                       templates, number, st.one_of(hostile_text, huge_text, plausible_word))
    return st.one_of(filled, filled, forged)


def csv_documents() -> st.SearchStrategy[bytes]:
    """Hostile CSV files for the import's fuzz test: the expected header (or a broken one), rows of
    hostile or huge cells, odd separators and line ends, any encoding accident."""
    header = st.sampled_from(("number,customer,amount,due date", "number;customer;amount;due date", "\ufeffnumber,customer",
                              "", "\r\x00"))
    cell = st.one_of(hostile_text, plausible_word, huge_text.map(lambda text: text[:200_000]))
    row = st.lists(cell, max_size=6).map(lambda cells: ",".join(f'"{c}"' if "," in c else c for c in cells))
    text = st.builds(lambda head, rows, end: end.join([head, *rows]), header, st.lists(row, max_size=5),
                     st.sampled_from(("\n", "\r\n", "\r")))
    encoded = st.builds(lambda body, codec: body.encode(codec, errors="replace"), text,
                        st.sampled_from(("utf-8", "utf-8-sig", "utf-16", "latin-1")))
    return st.one_of(encoded, st.binary(max_size=200))
