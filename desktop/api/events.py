"""The server's live event stream (WebSocket ``/api/events``) on the qasync loop.

Protocol (server_stub/api/routes/events.py): the first frame carries the access token and,
after a reconnect, the last ``seq`` and ``epoch`` seen, so the server replays what was missed.
When it cannot (server restarted, buffer too short) it says ``resync`` and the listener reloads
its state over REST. The first connection always reloads: events only describe changes.

It knows no Qt: the workspaces give it two callbacks. A dropped connection is retried with a
growing pause; an expired token is refreshed through the :class:`PultClient` (close 4401).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

from desktop.api.client import ApiError, NotSignedIn, PultClient, ServerUnreachable

log = logging.getLogger(__name__)

CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
#: Pauses between reconnection attempts (the last one repeats).
RETRY_SECONDS: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0, 10.0)

EventHandler = Callable[[str, dict[str, Any]], None]


def stream_url(server: str) -> str:
    """``http://host:8080`` → ``ws://host:8080/api/events`` (https → wss)."""
    if server.startswith("https://"):
        return "wss://" + server[len("https://") :] + "/api/events"
    return "ws://" + server.removeprefix("http://") + "/api/events"


class EventStream:
    """``on_event(type, data)`` for every event; ``on_reload()`` when state must be re-read.

    ``on_connected(bool)`` (optional) tells the window whether it is live.
    """

    def __init__(
        self,
        client: PultClient,
        on_event: EventHandler,
        on_reload: Callable[[], None],
        on_connected: Callable[[bool], None] | None = None,
    ) -> None:
        self.client = client
        self.on_event = on_event
        self.on_reload = on_reload
        self.on_connected = on_connected
        self.epoch: str | None = None
        self.seq: int | None = None
        self.connected = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> asyncio.Task[None]:
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self.run())
        return self._task

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._set_connected(False)

    async def run(self) -> None:
        attempt = 0
        while True:
            try:
                await self._session()
                attempt = 0  # a session that ended cleanly reconnects at once
            except asyncio.CancelledError:
                raise
            except _Stop:
                self._set_connected(False)
                return
            except Exception as exc:
                log.info("event stream: %s", exc)
            self._set_connected(False)
            await asyncio.sleep(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])
            attempt += 1

    async def _session(self) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed

        session = self.client.session
        if session is None:
            raise _Stop
        hello: dict[str, Any] = {"token": session.access_token}
        if self.epoch is not None and self.seq is not None:
            hello |= {"since": self.seq, "epoch": self.epoch}
        lang = self.client._http.headers.get("Accept-Language", "ru")
        try:
            async with connect(
                stream_url(self.client.server),
                additional_headers={"Accept-Language": lang},
                open_timeout=10,
            ) as ws:
                await ws.send(json.dumps(hello))
                replaying = "since" in hello
                async for raw in ws:
                    self._handle(json.loads(raw), replaying)
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else None
            if code == CLOSE_FORBIDDEN:
                raise _Stop from exc
            if code == CLOSE_UNAUTHORIZED:
                try:
                    await self.client.refresh()
                except (ApiError, NotSignedIn) as refused:
                    raise _Stop from refused  # the session is over; signing in again helps
                except ServerUnreachable:
                    pass
            raise

    def _handle(self, message: Any, replaying: bool) -> None:
        if not isinstance(message, dict):
            return
        kind = message.get("type")
        if kind == "hello":
            self._set_connected(True)
            if not replaying:
                # Nothing is replayed: what happened before now is only in the REST state.
                self._position(message)
                self.on_reload()
            return
        if kind == "resync":
            self._position(message)
            self.on_reload()
            return
        if kind in ("pong", "error") or "seq" not in message:
            return
        self._position(message)
        data = message.get("data")
        try:
            self.on_event(str(kind), data if isinstance(data, dict) else {})
        except Exception:
            # One bad handler must not cut the stream for the others.
            log.exception("event handler failed for %s", kind)

    def _position(self, message: dict[str, Any]) -> None:
        seq = message.get("seq")
        if isinstance(seq, int) and not isinstance(seq, bool):
            self.seq = seq
        epoch = message.get("epoch")
        if isinstance(epoch, str):
            self.epoch = epoch

    def _set_connected(self, value: bool) -> None:
        if self.connected == value:
            return
        self.connected = value
        if self.on_connected is not None:
            with contextlib.suppress(RuntimeError):  # the window may already be gone
                self.on_connected(value)


class _Stop(Exception):
    """Reconnecting cannot help (signed out, or no domain to listen to)."""
