"""Telegram updates: people in different chats do not wait for each other's commands, and one
chat's updates are handled in the order they came (an answer never overtakes its question)."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from telegram import Chat, Message, Update

from bot.platforms.telegram.chat_order import OneChatAtATime


def update_in(chat_id: int, update_id: int) -> Update:
    chat = Chat(id=chat_id, type=Chat.PRIVATE)
    return Update(update_id=update_id, message=Message(message_id=update_id, date=datetime.now(timezone.utc), chat=chat))


async def test_a_slow_command_holds_up_its_own_chat_only() -> None:
    processor = OneChatAtATime()
    release_first = asyncio.Event()
    order: list[str] = []

    async def work(name: str, wait: asyncio.Event | None = None) -> None:
        order.append(f"{name} started")
        if wait is not None:
            await wait.wait()
        order.append(f"{name} done")

    slow = asyncio.create_task(processor.process_update(update_in(1, 1), work("alice's /add", release_first)))
    answer = asyncio.create_task(processor.process_update(update_in(1, 2), work("alice's answer")))
    other = asyncio.create_task(processor.process_update(update_in(2, 3), work("bob's /list")))
    await asyncio.wait_for(other, timeout=2)
    assert order == ["alice's /add started", "bob's /list started", "bob's /list done"], \
        "bob was answered while alice's command ran; alice's next update waited"
    release_first.set()
    await asyncio.wait_for(asyncio.gather(slow, answer), timeout=2)
    assert order[3:] == ["alice's /add done", "alice's answer started", "alice's answer done"]
    assert processor._chats == {}, "nothing kept for chats with nothing in progress"
