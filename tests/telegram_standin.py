"""A stand-in for the Telegram Bot API on 127.0.0.1, for tests.

It serves the subset of methods collectbot uses, at `/bot<token>/<method>` like the real API,
answering with the real JSON shapes (`{"ok": true, "result": …}`, errors as
`{"ok": false, "error_code": …, "description": …}`, 429 with `parameters.retry_after`). A test acts
as users — sends messages and commands, presses inline buttons, sends documents — and reads what the
bot sent or edited.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import time
from html.parser import HTMLParser
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.standin_server import LocalServer

BOT_ID = 7000001
BOT_USERNAME = "CollectTestBot"
INT_FIELDS = {"chat_id", "message_id", "offset", "limit", "timeout", "reply_to_message_id", "cache_time"}
JSON_FIELDS = {"reply_markup", "commands", "scope", "allowed_updates", "entities", "reply_parameters", "link_preview_options"}


ENTITY_TYPES = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "s": "strikethrough",
                "code": "code", "pre": "pre", "a": "text_link"}


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _TelegramHTML(HTMLParser):
    """Telegram's HTML parse mode: the supported tags become entities; anything else is refused."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text = ""
        self.entities: list[dict[str, Any]] = []
        self.open: list[tuple[str, int, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ENTITY_TYPES:
            raise ValueError(f"can't parse entities: unsupported start tag \"{tag}\"")
        self.open.append((tag, utf16_len(self.text), dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1][0] != tag:
            raise ValueError(f"can't parse entities: unmatched end tag \"{tag}\"")
        _, start, attrs = self.open.pop()
        entity: dict[str, Any] = {"type": ENTITY_TYPES[tag], "offset": start, "length": utf16_len(self.text) - start}
        if tag == "a":
            entity["url"] = attrs.get("href")
        if entity["length"]:
            self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        self.text += data


def parse_html(html: str) -> tuple[str, list[dict[str, Any]]]:
    parser = _TelegramHTML()
    parser.feed(html)
    parser.close()
    if parser.open:
        raise ValueError(f"can't parse entities: can't find end tag corresponding to start tag \"{parser.open[-1][0]}\"")
    return parser.text, sorted(parser.entities, key=lambda e: e["offset"])


def message_text(params: dict[str, Any]) -> dict[str, Any]:
    """The text as Telegram stores it: plain, with entities when sent in HTML parse mode."""
    text = params["text"]
    if len(text) > 4096 and params.get("parse_mode") != "HTML":
        raise LookupError("message is too long")
    if params.get("parse_mode") == "HTML":
        try:
            text, entities = parse_html(text)
        except ValueError as error:
            raise LookupError(str(error)) from None
        if utf16_len(text) > 4096:
            raise LookupError("message is too long")
        return {"text": text, "entities": entities} if entities else {"text": text}
    return {"text": text}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)


@dataclass
class User:
    id: int
    first_name: str
    username: str | None = None
    language_code: str = "en"

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name, "language_code": self.language_code}
        if self.username:
            data["username"] = self.username
        return data


class TelegramStandIn(LocalServer):
    def __init__(self, token: str = "123456:TEST-TOKEN") -> None:
        super().__init__()
        self.token = token
        self.calls: list[Call] = []
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.files: dict[str, bytes] = {}
        self.updates: list[dict[str, Any]] = []
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.last_markup: dict[str, Any] | None = None
        self.fail_next: list[tuple[str, int, str, int | None]] = []
        """(method, error_code, description, retry_after): the next calls of `method` fail so."""
        self.fail_after: list[list[Any]] = []
        """[method, calls let through first, error_code, description]: a later call of `method` fails."""
        self.fail_always: list[tuple[str, int, str, int | None]] = []
        """(method, error_code, description, retry_after): every call of `method` fails so, until removed."""
        self.blocked_by: set[int] = set()
        """Users who blocked the bot: sending to their chat gets 403."""
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)

    # -- serving ----------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._api)
        app.router.add_get("/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.*}", self._file)
        await self.serve(app)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def file_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token or request.match_info["path"] not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[request.match_info["path"]])

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params, files = await self._read_params(request)
        for index, entry in enumerate(self.fail_after):
            if entry[0] != method:
                continue
            if entry[1] > 0:
                entry[1] -= 1
                break
            del self.fail_after[index]
            return web.json_response({"ok": False, "error_code": entry[2], "description": entry[3]}, status=entry[2])
        failures = [(index, entry) for index, entry in enumerate(self.fail_next) if entry[0] == method][:1]
        failures += [(None, entry) for entry in self.fail_always if entry[0] == method][:1]
        if failures:
            index, (_, code, description, retry_after) = failures[0]
            if index is not None:
                del self.fail_next[index]
            body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
            if retry_after is not None:
                body["parameters"] = {"retry_after": retry_after}
            return web.json_response(body, status=code)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found: method not found"}, status=404)
        self.calls.append(Call(method, params, files))
        if method.startswith("send") and params.get("chat_id") is not None and int(params["chat_id"]) in self.blocked_by:
            return web.json_response({"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
                                     status=403)
        try:
            result = await handler(params, files) if asyncio.iscoroutinefunction(handler) else handler(params, files)
        except LookupError as error:
            return web.json_response({"ok": False, "error_code": 400, "description": f"Bad Request: {error}"}, status=400)
        await self.changed()
        await self.answer_late(method)
        return web.json_response({"ok": True, "result": result})

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
        params: dict[str, Any] = {}
        files: dict[str, tuple[str, bytes]] = {}
        if request.content_type == "application/json":
            return await request.json(), files
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = params[key] = (value.filename, value.file.read())
                continue
            if key in INT_FIELDS:
                params[key] = int(value)
            elif key in JSON_FIELDS:
                params[key] = json.loads(value)
            else:
                params[key] = value
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                params[key] = files.get(value.removeprefix("attach://"))
        return params, files

    # -- Bot API methods ------------------------------------------------------------------------
    def _m_getMe(self, params: dict[str, Any], files: dict[str, Any]) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Collect", "username": BOT_USERNAME,
                "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}

    def _m_deleteWebhook(self, params: dict[str, Any], files: dict[str, Any]) -> bool:
        self.webhook_url = None
        return True

    def _m_setWebhook(self, params: dict[str, Any], files: dict[str, Any]) -> bool:
        self.webhook_url = params.get("url")
        self.webhook_secret = params.get("secret_token")
        return True

    def _m_setMyCommands(self, params: dict[str, Any], files: dict[str, Any]) -> bool:
        return True

    async def _m_getUpdates(self, params: dict[str, Any], files: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 2.0)
        while not self.updates and time.monotonic() < deadline:
            await self.wait_until_changed(max(0.0, deadline - time.monotonic()))
        return list(self.updates[: int(params.get("limit") or 100)])

    def _bot_message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        message = {"message_id": next(self._message_ids), "date": int(time.time()),
                   "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
                   "from": {"id": BOT_ID, "is_bot": True, "first_name": "Collect", "username": BOT_USERNAME}, **content}
        self.messages[(chat_id, message["message_id"])] = message
        return message

    def _m_sendMessage(self, params: dict[str, Any], files: dict[str, Any]) -> dict[str, Any]:
        self.last_markup = params.get("reply_markup")
        markup = params.get("reply_markup") or {}
        # Like Telegram, a message keeps only an inline keyboard; a forced reply instructs the app.
        extra: dict[str, Any] = {"reply_markup": markup} if "inline_keyboard" in markup else {}
        quoted = self._quoted(int(params["chat_id"]), params)
        if quoted is not None:
            extra["reply_to_message"] = quoted
        return self._bot_message(int(params["chat_id"]), **message_text(params), **extra)

    def _quoted(self, chat_id: int, params: dict[str, Any]) -> dict[str, Any] | None:
        """The message a send replies to (`reply_parameters` or the older `reply_to_message_id`)."""
        wanted = params.get("reply_parameters") or {}
        message_id = wanted.get("message_id", params.get("reply_to_message_id"))
        if message_id is None:
            return None
        found = self.messages.get((chat_id, int(message_id)))
        if found is None and not wanted.get("allow_sending_without_reply", params.get("allow_sending_without_reply")):
            raise LookupError("message to be replied not found")
        return found

    def _m_editMessageText(self, params: dict[str, Any], files: dict[str, Any]) -> dict[str, Any]:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.messages:
            raise LookupError("message to edit not found")
        if self.messages[key]["from"]["id"] != BOT_ID:
            raise LookupError("message can't be edited")
        message = self.messages[key]
        message.pop("entities", None)
        message.update(message_text(params))
        message.pop("reply_markup", None)
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        return message

    def _m_editMessageReplyMarkup(self, params: dict[str, Any], files: dict[str, Any]) -> dict[str, Any]:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.messages:
            raise LookupError("message to edit not found")
        if self.messages[key]["from"]["id"] != BOT_ID:
            raise LookupError("message can't be edited")
        self.messages[key].pop("reply_markup", None)
        if "reply_markup" in params:
            self.messages[key]["reply_markup"] = params["reply_markup"]
        return self.messages[key]

    def _m_answerCallbackQuery(self, params: dict[str, Any], files: dict[str, Any]) -> bool:
        if utf16_len(params.get("text") or "") > 200:
            raise LookupError("MESSAGE_TOO_LONG")
        return True

    @staticmethod
    def _check_caption(params: dict[str, Any]) -> None:
        if utf16_len(params.get("caption") or "") > 1024:
            raise LookupError("message caption is too long")

    def _m_sendDocument(self, params: dict[str, Any], files: dict[str, Any]) -> dict[str, Any]:
        self._check_caption(params)
        name, content = params["document"]
        file_id = f"doc{len(self.files)}"
        self.files[file_id] = content
        return self._bot_message(int(params["chat_id"]), caption=params.get("caption", ""),
                                 document={"file_id": file_id, "file_unique_id": file_id, "file_name": name, "file_size": len(content)})

    def _m_sendPhoto(self, params: dict[str, Any], files: dict[str, Any]) -> dict[str, Any]:
        self._check_caption(params)
        name, content = params["photo"]
        file_id = f"photo{len(self.files)}"
        self.files[file_id] = content
        return self._bot_message(int(params["chat_id"]), caption=params.get("caption", ""),
                                 photo=[{"file_id": file_id, "file_unique_id": file_id, "width": 800, "height": 600,
                                         "file_size": len(content)}])

    def _m_getFile(self, params: dict[str, Any], files: dict[str, Any]) -> dict[str, Any]:
        file_id = params["file_id"]
        if file_id not in self.files:
            raise LookupError("wrong file_id or the file is temporarily unavailable")
        return {"file_id": file_id, "file_unique_id": file_id, "file_size": len(self.files[file_id]), "file_path": file_id}

    # -- acting as users ------------------------------------------------------------------------
    def _push(self, update: dict[str, Any]) -> dict[str, Any]:
        update["update_id"] = next(self._update_ids)
        self.updates.append(update)
        return update

    async def say(self, user: User, text: str, chat_id: int | None = None, reply_to: int | None = None) -> dict[str, Any] | None:
        """`user` writes `text` (a private chat unless `chat_id` is a negative group id). Like a
        bot with group privacy mode on (BotFather's default), the bot gets a group message only when
        it is a command, a reply to the bot, or names the bot; otherwise None is returned."""
        chat_id = chat_id if chat_id is not None else user.id
        message: dict[str, Any] = {"message_id": next(self._message_ids), "date": int(time.time()), "from": user.as_json(),
                                   "chat": self._chat(chat_id, user), "text": text}
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if reply_to is not None:
            message["reply_to_message"] = self.messages[(chat_id, reply_to)]
        self.messages[(chat_id, message["message_id"])] = message
        if chat_id < 0 and not self._seen_in_privacy_mode(message):
            return None
        update = self._push({"message": message})
        await self.changed()
        return update

    @staticmethod
    def _seen_in_privacy_mode(message: dict[str, Any]) -> bool:
        replied = message.get("reply_to_message") or {}
        return (message["text"].startswith("/") or replied.get("from", {}).get("id") == BOT_ID
                or f"@{BOT_USERNAME}".lower() in message["text"].lower())

    async def edit(self, user: User, sent: dict[str, Any], text: str) -> None:
        """`user` edits a message they sent earlier (`sent` is the update `say` returned)."""
        message = dict(sent["message"], text=text, edit_date=int(time.time()))
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        self.messages[(message["chat"]["id"], message["message_id"])] = message
        self._push({"edited_message": message})
        await self.changed()

    async def send_document(self, user: User, filename: str, content: bytes, caption: str = "") -> None:
        file_id = f"up{len(self.files)}"
        self.files[file_id] = content
        message: dict[str, Any] = {"message_id": next(self._message_ids), "date": int(time.time()), "from": user.as_json(),
                                   "chat": self._chat(user.id, user), "caption": caption,
                                   "document": {"file_id": file_id, "file_unique_id": file_id, "file_name": filename,
                                                "mime_type": "text/csv", "file_size": len(content)}}
        if caption.startswith("/"):
            message["caption_entities"] = [{"type": "bot_command", "offset": 0, "length": len(caption.split()[0])}]
        self.messages[(user.id, message["message_id"])] = message
        self._push({"message": message})
        await self.changed()

    async def press(self, user: User, message: dict[str, Any], label: str) -> None:
        """`user` presses the inline button labelled `label` (a substring) on a bot message."""
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        button = next((b for row in rows for b in row if label in b["text"]), None)
        if button is None:
            raise AssertionError(f"no button {label!r} in {[b['text'] for row in rows for b in row]}")
        self._push({"callback_query": {"id": str(next(self._update_ids)), "from": user.as_json(), "chat_instance": "ci",
                                       "message": message, "data": button["callback_data"]}})
        await self.changed()

    def _chat(self, chat_id: int, user: User) -> dict[str, Any]:
        if chat_id < 0:
            return {"id": chat_id, "type": "group", "title": "Sales team"}
        return {"id": chat_id, "type": "private", "first_name": user.first_name, "username": user.username}

    # -- reading what the bot did ---------------------------------------------------------------
    def sent_to(self, chat_id: int) -> list[dict[str, Any]]:
        return [m for (chat, _), m in sorted(self.messages.items()) if chat == chat_id and m["from"]["id"] == BOT_ID]

    def calls_of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]
