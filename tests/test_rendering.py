"""Every platform shows every kind of reply block: a new block type cannot silently vanish."""
from __future__ import annotations

import json
from typing import get_args

import pytest

from bot.floor.reply import Block, BulletList, DraftText, Facts, Paragraph, Reply, Table
from bot.platforms.slack.render import render_blocks as slack_blocks
from bot.platforms.telegram.render import render_messages as telegram_messages
from bot.platforms.text import render_text

SAMPLES: dict[type, Block] = {
    Paragraph: Paragraph("a paragraph with <b>tags</b> & marks"),
    Facts: Facts((("Balance", "EUR 1,200.50"),)),
    Table: Table(("Invoice", "Days"), (("INV-7", "12"),), caption="Oldest"),
    BulletList: BulletList(("first point",), title="Points"),
    DraftText: DraftText("Draft letter", "Dear Ms Berg,\nplease pay.", subject="Invoice INV-7"),
}
WORDS: dict[type, tuple[str, ...]] = {
    Paragraph: ("a paragraph with",),
    Facts: ("Balance", "EUR 1,200.50"),
    Table: ("Invoice", "INV-7", "Oldest"),
    BulletList: ("Points", "first point"),
    DraftText: ("Draft letter", "Dear Ms Berg,", "Invoice INV-7"),
}


def test_every_block_type_has_a_sample_here() -> None:
    assert set(SAMPLES) == set(get_args(Block))


@pytest.mark.parametrize("kind", list(SAMPLES), ids=lambda kind: kind.__name__)
def test_the_console_telegram_and_slack_each_show_every_block_type(kind: type) -> None:
    reply = Reply(blocks=[SAMPLES[kind]])
    shown = {
        "console": render_text(reply),
        "telegram": "\n".join(telegram_messages(reply)),
        "slack": json.dumps(slack_blocks(reply), ensure_ascii=False),
    }
    for platform, text in shown.items():
        for word in WORDS[kind]:
            assert word in text, f"{platform} did not show {word!r} of a {kind.__name__}"
