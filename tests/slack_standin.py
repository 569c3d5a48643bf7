"""A stand-in for Slack on 127.0.0.1, for tests: the Web API methods collectbot calls (answered in
Slack's JSON shapes, `ok:false` errors and 429 with Retry-After included), response URLs, file
uploads (files upload v2), and a Socket Mode WebSocket that pushes envelopes and records acks.

It also signs requests the way Slack does, so a test can post slash commands, button presses and
view submissions to the app's HTTP endpoint."""
from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import WSMsgType, web

from tests.standin_server import LocalServer

TEAM_ID = "T0TEAM"
BOT_USER = "U0BOT"
JSON_FIELDS = {"blocks", "view", "files", "attachments"}
CONVERSATION_ID = re.compile(r"^[CGDZ][A-Z0-9]{4,}$")


class SlackError(Exception):
    """Answered as `{"ok": false, "error": code}`."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class SlackStandIn(LocalServer):
    def __init__(self, signing_secret: str = "test-signing-secret") -> None:
        super().__init__()
        self.signing_secret = signing_secret
        self.calls: list[Call] = []
        self.responses: list[dict[str, Any]] = []
        """What the app posted to response URLs."""
        self.uploads: dict[str, bytes] = {}
        self.files: dict[str, bytes] = {}
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.fail_next: list[tuple[str, int, str, int | None]] = []
        """(method, HTTP status, error, retry_after): the next calls of `method` fail so."""
        self.max_blocks = 50
        """Like Slack, a message with more blocks is refused (invalid_blocks)."""
        self.sockets: list[web.WebSocketResponse] = []
        self.acks: dict[str, dict[str, Any]] = {}
        self.locales: dict[str, str] = {}
        """Each user's Slack locale (users.info with include_locale); en-US unless set."""
        self._ts = itertools.count(1)

    async def start(self) -> None:
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # the SDK reads some methods (users.info) with GET
        app.router.add_post("/response/{id}", self._response)
        app.router.add_post("/upload/{id}", self._upload)
        app.router.add_get("/files/{id}", self._file)
        app.router.add_get("/socket", self._socket)
        await self.serve(app)

    async def stop(self) -> None:
        for socket in self.sockets:
            await socket.close()
        await super().stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    # -- Web API ----------------------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = {}
        sent = dict(request.query)
        if request.content_type == "application/json":
            sent.update(await request.json())
        else:
            sent.update((await request.post()).items())
        for key, value in sent.items():
            params[key] = json.loads(value) if key in JSON_FIELDS and isinstance(value, str) else value
        for index, (failing, status, error, retry_after) in enumerate(self.fail_next):
            if failing == method:
                del self.fail_next[index]
                headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
                return web.json_response({"ok": False, "error": error}, status=status, headers=headers)
        if not request.headers.get("Authorization", "").startswith("Bearer x"):
            return web.json_response({"ok": False, "error": "not_authed"})
        self.calls.append(Call(method, params, dict(request.headers)))
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        try:
            result = handler(params)
        except SlackError as error:
            return web.json_response({"ok": False, "error": error.code})
        finally:
            await self.changed()
        await self.answer_late(method)
        return web.json_response({"ok": True, **result})

    def _m_auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": "https://test.slack.com/", "team": "Test", "user": "collectbot", "team_id": TEAM_ID,
                "user_id": BOT_USER, "bot_id": "B0BOT", "is_enterprise_install": False}

    def _m_users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user: dict[str, Any] = {"id": str(params["user"]), "team_id": TEAM_ID, "name": str(params["user"]).lower()}
        if str(params.get("include_locale", "")).lower() in ("1", "true"):
            user["locale"] = self.locales.get(user["id"], "en-US")
        return {"user": user}

    def _post(self, params: dict[str, Any], ephemeral: bool = False) -> dict[str, Any]:
        channel = str(params["channel"])
        if channel.startswith("U") and not ephemeral:
            channel = "D" + channel[1:]  # like Slack: a message to a user goes to their direct-message channel
        if len(params.get("blocks") or []) > self.max_blocks:
            raise SlackError("invalid_blocks")
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        message = {"type": "message", "text": params.get("text", ""), "blocks": params.get("blocks", []), "ts": ts,
                   "user": BOT_USER, "ephemeral": ephemeral, "to": params.get("user")}
        self.messages[(channel, ts)] = message
        return {"channel": channel, "ts": ts, "message": message}

    def _m_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._post(params)

    def _m_chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"message_ts": self._post(params, ephemeral=True)["ts"]}

    def _m_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (str(params["channel"]), str(params["ts"]))
        if key not in self.messages:
            raise SlackError("message_not_found")
        self.messages[key].update(text=params.get("text", ""), blocks=params.get("blocks", []))
        return {"channel": key[0], "ts": key[1]}

    def _m_conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"channel": {"id": "D" + str(params.get("users", "X"))[1:]}}

    def _m_views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"view": {"id": "V" + uuid.uuid4().hex[:8], **params["view"]}}

    def _m_views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"view": params["view"]}

    def _m_views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"view": {"id": "VHOME", **params["view"]}}

    def _m_files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = "F" + uuid.uuid4().hex[:8]
        return {"upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        files = params["files"] if isinstance(params["files"], list) else json.loads(params["files"])
        if "channel_id" in params and not CONVERSATION_ID.match(str(params["channel_id"])):
            raise SlackError("invalid_arguments")  # like Slack: a conversation id, never a user id
        return {"files": [{"id": f["id"], "title": f.get("title", ""), "size": len(self.uploads.get(f["id"], b""))} for f in files]}

    def _m_apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": f"ws://127.0.0.1:{self.port}/socket"}

    async def _upload(self, request: web.Request) -> web.Response:
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            part = next(iter(form.values()))
            self.uploads[request.match_info["id"]] = part.file.read() if isinstance(part, web.FileField) else str(part).encode()
        else:
            self.uploads[request.match_info["id"]] = await request.read()
        return web.Response(text="OK - uploaded")

    async def _file(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization", "") != "Bearer xoxb-test-token":
            return web.Response(status=403)
        return web.Response(body=self.files[request.match_info["id"]])

    async def _response(self, request: web.Request) -> web.Response:
        self.responses.append({"id": request.match_info["id"], **await request.json()})
        await self.changed()
        return web.Response(text="ok")

    # -- Socket Mode -------------------------------------------------------------------------------
    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.sockets.append(socket)
        await socket.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0APP"},
                                "debug_info": {"host": "standin", "approximate_connection_time": 3600}})
        await self.changed()
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                ack = json.loads(message.data)
                if "envelope_id" in ack:
                    self.acks[ack["envelope_id"]] = ack
                    await self.changed()
        return socket

    async def push(self, kind: str, payload: dict[str, Any], retry: int = 0) -> str:
        """Send an envelope (slash_commands, interactive, events_api) to the connected app."""
        envelope_id = uuid.uuid4().hex
        await self.wait_for(lambda: self.sockets)
        await self.sockets[-1].send_json({"envelope_id": envelope_id, "type": kind, "payload": payload,
                                          "accepts_response_payload": kind != "events_api", "retry_attempt": retry,
                                          "retry_reason": "timeout" if retry else ""})
        return envelope_id

    # -- signed HTTP requests to the app -------------------------------------------------------------
    def signed_headers(self, body: str, timestamp: int | None = None, secret: str | None = None,
                       content_type: str = "application/x-www-form-urlencoded") -> dict[str, str]:
        timestamp = int(time.time()) if timestamp is None else timestamp
        base = f"v0:{timestamp}:{body}".encode()
        signature = "v0=" + hmac.new((secret or self.signing_secret).encode(), base, hashlib.sha256).hexdigest()
        return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature, "Content-Type": content_type}

    def slash_command(self, user: str, text: str, channel: str = "C0SALES") -> dict[str, str]:
        return {"token": "legacy", "team_id": TEAM_ID, "team_domain": "test", "channel_id": channel, "channel_name": "sales",
                "user_id": user, "user_name": user.lower(), "command": "/collect", "text": text, "api_app_id": "A0APP",
                "response_url": f"{self.url}/response/{uuid.uuid4().hex[:8]}", "trigger_id": "trigger." + uuid.uuid4().hex[:6]}

    @staticmethod
    def form(fields: dict[str, str]) -> str:
        return urlencode(fields)

    # -- reading ------------------------------------------------------------------------------------
    def calls_of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def posted_to(self, channel: str) -> list[dict[str, Any]]:
        return [message for (chan, _), message in self.messages.items() if chan == channel]


def block_text(blocks: list[dict[str, Any]]) -> str:
    """Every text in a message's blocks, for assertions."""
    parts: list[str] = []
    for block in blocks:
        if "text" in block and isinstance(block["text"], dict):
            parts.append(block["text"]["text"])
        for item in block.get("fields", []) + block.get("elements", []):
            text = item.get("text")
            parts.append(text["text"] if isinstance(text, dict) else str(text or ""))
    return "\n".join(parts)
