"""The edge's per-call requests (``POST /api/sip/route`` and ``/api/sip/events``) without
FastAPI's routing and dependency machinery.

Those two requests come with every call, and matching the path against all routes, solving
the dependencies (each sync one a hop to a worker thread and back) and encoding the answer
cost the server more CPU than the route decision itself. This ASGI middleware answers a
well-formed request from the edge (its token, a body the endpoint's model accepts) with the
very same handler in one worker-thread hop; anything else — a wrong or missing token, a body
that does not validate — goes on to the regular endpoint, which answers it as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server_stub.api.errors import ApiError, language
from server_stub.api.routes import sip
from server_stub.api.sip_auth import require_edge

Handler = Callable[[Any, Session], dict[str, Any]]
FAST: dict[str, tuple[type[BaseModel], Handler]] = {
    "/api/sip/route": (sip.RouteRequest, sip._route),
    "/api/sip/events": (sip.EventBatch, sip._events),
}


def _run(handler: Handler, body: BaseModel, factory: sessionmaker[Session]) -> dict[str, Any]:
    session = factory()
    try:
        return handler(body, session)
    finally:
        # As the regular endpoint's session dependency: whatever was not committed is undone.
        session.rollback()
        session.close()


class EdgeFastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fast = (
            FAST.get(scope["path"])
            if scope["type"] == "http" and scope["method"] == "POST"
            else None
        )
        if fast is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        try:
            require_edge(request)
        except ApiError:
            await self.app(scope, receive, send)  # the endpoint refuses it the usual way
            return
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        raw = b"".join(chunks)
        model, handler = fast
        try:
            body = model.model_validate_json(raw)
        except ValidationError:
            await self.app(scope, _replay(raw, receive), send)  # the endpoint's own 422
            return
        try:
            result = await run_in_threadpool(
                _run, handler, body, scope["app"].state.session_factory
            )
            status = 200
        except ApiError as exc:
            result, status = exc.body(language(request)), exc.status
        content = json.dumps(
            result, ensure_ascii=False, allow_nan=False, separators=(",", ":")
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(content)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})


def _replay(raw: bytes, rest: Receive) -> Receive:
    """The body already read, then whatever the connection says next (a disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}
        return await rest()

    return receive
