"""Routes: the live event stream, WebSocket ``/api/events``.

Protocol (JSON text frames):

1. The client's first message is ``{"token": ..., "since": <int>?, "epoch": <str>?}``. The
   token is not taken from the query string because URLs end up in proxy and access logs.
   No valid token within ``AUTH_TIMEOUT_SECONDS`` → close 4401; a caller not acting in a
   domain (a pool admin who has not opened one) → close 4403.
2. The server answers ``{"type": "hello", "epoch", "seq"}``.
3. With ``since`` (and the ``epoch`` it belongs to) the server sends the missed events, or
   ``{"type": "resync", "epoch", "seq"}`` when it cannot (server restarted, buffer too short):
   the client reloads its state and keeps listening.
4. Then live events ``{"seq", "epoch", "type", "at", "data"}``, only those of the caller's
   domain and audience. ``{"type": "ping"}`` is answered with ``{"type": "pong"}``; other
   client messages are ignored (room for later protocol additions).
5. A client too slow to keep up gets ``resync`` and close 4408; it reconnects without
   ``since`` and reloads.

Every refusal sends ``{"type": "error", "code", "message"}`` (language from the handshake's
``Accept-Language``) before the close frame, whose reason carries the same message.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, FastAPI, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from server_stub.api.deps import Principal, principal_from_token
from server_stub.api.errors import ApiError, Text
from server_stub.api.eventbus import Event, EventBus, Subscription, identity, visible_to

router = APIRouter(tags=["events"])

# Module-level so tests can shorten them.
AUTH_TIMEOUT_SECONDS = 10.0
QUEUE_SIZE = 1000

CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_SLOW = 4408

_NOT_AUTHENTICATED = Text("Требуется вход в систему", "Authentication required")
_NO_TOKEN = Text("Не получен токен доступа", "No access token was received")
_NO_DOMAIN = Text("Сначала откройте домен", "Open a domain first")
_TOO_SLOW = Text("Клиент не успевает получать события", "The client is too slow to receive events")


@dataclass(frozen=True)
class _Hello:
    principal: Principal
    since: int | None
    epoch: str | None


class _Refused(Exception):
    def __init__(self, close_code: int, code: str, text: Text) -> None:
        super().__init__(code)
        self.close_code = close_code
        self.code = code
        self.text = text


def _language(websocket: WebSocket) -> str:
    first = websocket.headers.get("accept-language", "").lower().split(",")[0].strip()
    return "en" if first.startswith("en") else "ru"


async def _receive(websocket: WebSocket) -> Any:
    """The next client message parsed as JSON (None if it is not JSON)."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    raw = message.get("text")
    if raw is None:
        raw = (message.get("bytes") or b"").decode("utf-8", errors="replace")
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _principal(app: FastAPI, token: str, address: str) -> Principal | None:
    session = app.state.session_factory()
    try:
        return principal_from_token(session, token, app.state.secret_key, address)
    except ApiError:
        return None
    finally:
        session.rollback()
        session.close()


async def _authenticate(websocket: WebSocket) -> _Hello:
    try:
        first = await asyncio.wait_for(_receive(websocket), AUTH_TIMEOUT_SECONDS)
    except TimeoutError:
        raise _Refused(CLOSE_UNAUTHORIZED, "not_authenticated", _NO_TOKEN) from None
    token = first.get("token") if isinstance(first, dict) else None
    if not isinstance(token, str) or not token:
        raise _Refused(CLOSE_UNAUTHORIZED, "not_authenticated", _NO_TOKEN)
    since = first.get("since")
    # bool is an int in Python; "since": true is a client bug, not position 1.
    if since is not None and (not isinstance(since, int) or isinstance(since, bool)):
        raise _Refused(
            CLOSE_BAD_REQUEST,
            "validation_error",
            Text("«since» должно быть целым числом", "'since' must be an integer"),
        )
    epoch = first.get("epoch")
    if epoch is not None and not isinstance(epoch, str):
        raise _Refused(
            CLOSE_BAD_REQUEST,
            "validation_error",
            Text("«epoch» должно быть строкой", "'epoch' must be a string"),
        )
    address = websocket.client.host if websocket.client else ""
    principal = await run_in_threadpool(_principal, websocket.app, token, address)
    if principal is None:
        raise _Refused(CLOSE_UNAUTHORIZED, "not_authenticated", _NOT_AUTHENTICATED)
    if principal.domain_id is None:
        raise _Refused(CLOSE_FORBIDDEN, "forbidden", _NO_DOMAIN)
    return _Hello(principal, since, epoch)


async def _catch_up(websocket: WebSocket, bus: EventBus, hello: _Hello) -> int:
    """Send what the client missed (or resync); return the last sequence it now accounts for.

    Live events up to that sequence are already in the subscription queue too (it was opened
    first, so nothing falls between replay and live) and must be skipped.
    """
    watermark = bus.last_seq
    await websocket.send_json({"type": "hello", "epoch": bus.epoch, "seq": watermark})
    if hello.since is None:
        return watermark
    # Sequence numbers mean nothing without the epoch they were counted in, so a client
    # that does not say which epoch its "since" belongs to reloads rather than guesses.
    missed = bus.replay(hello.epoch, hello.since) if hello.epoch is not None else None
    if missed is None:
        watermark = bus.last_seq
        await websocket.send_json({"type": "resync", "epoch": bus.epoch, "seq": watermark})
        return watermark
    p = hello.principal
    me = identity(p.roles, p.user_id)
    for event in missed:
        if visible_to(event, p.domain_id, me):
            await websocket.send_text(event.wire_text(bus.epoch))
    # replay() returns everything after "since" up to the newest event.
    return missed[-1].seq if missed else hello.since


async def _stream(
    websocket: WebSocket, bus: EventBus, sub: Subscription, hello: _Hello, watermark: int
) -> None:
    p = hello.principal
    me = identity(p.roles, p.user_id)
    receiver: asyncio.Task[Any] = asyncio.create_task(_receive(websocket))
    getter: asyncio.Task[Event] = asyncio.create_task(sub.queue.get())
    try:
        while True:
            done, _ = await asyncio.wait({receiver, getter}, return_when=asyncio.FIRST_COMPLETED)
            if receiver in done:
                message = receiver.result()  # raises WebSocketDisconnect when the client left
                if isinstance(message, dict) and message.get("type") == "ping":
                    await websocket.send_json({"type": "pong"})
                receiver = asyncio.create_task(_receive(websocket))
            if getter in done:
                event: Event | None = getter.result()
                # Everything already queued goes out before waiting again: one change often
                # publishes several events, and each wait costs two tasks per client.
                while event is not None:
                    if sub.overflowed:
                        await websocket.send_json(
                            {"type": "resync", "epoch": bus.epoch, "seq": bus.last_seq}
                        )
                        raise _Refused(CLOSE_TOO_SLOW, "too_slow", _TOO_SLOW)
                    if event.seq > watermark and visible_to(event, p.domain_id, me):
                        await websocket.send_text(event.wire_text(bus.epoch))
                    event = sub.queue.get_nowait() if not sub.queue.empty() else None
                getter = asyncio.create_task(sub.queue.get())
    finally:
        receiver.cancel()
        getter.cancel()


async def _refuse(websocket: WebSocket, refused: _Refused) -> None:
    message = refused.text.pick(_language(websocket))
    try:
        await websocket.send_json({"type": "error", "code": refused.code, "message": message})
        await websocket.close(refused.close_code, message)
    except (WebSocketDisconnect, RuntimeError):
        pass  # the client is already gone


@router.websocket("/events")
async def events(websocket: WebSocket) -> None:
    await websocket.accept()
    bus: EventBus = websocket.app.state.bus
    sub: Subscription | None = None
    try:
        hello = await _authenticate(websocket)
        sub = bus.subscribe(QUEUE_SIZE)
        watermark = await _catch_up(websocket, bus, hello)
        await _stream(websocket, bus, sub, hello, watermark)
    except _Refused as refused:
        await _refuse(websocket, refused)
    except WebSocketDisconnect:
        pass
    finally:
        if sub is not None:
            bus.unsubscribe(sub)
