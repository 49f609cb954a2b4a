"""The FastAPI application factory."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from sqlalchemy import Engine, text
from starlette.types import Receive, Scope, Send

from server_stub import __version__
from server_stub.api import errors, scheduler
from server_stub.api.eventbus import EventBus
from server_stub.api.routes import MODULES
from server_stub.api.sip_fast import EdgeFastPath
from server_stub.settings import Settings, get_settings
from server_stub.store import billing_sync, registry  # noqa: F401  (registry: every table)
from server_stub.store.db import make_engine, make_session_factory


class PultApp(FastAPI):
    """FastAPI with the edge's per-call requests answered before its middleware stack.

    Every layer of that stack (error and telemetry middleware, the body limit, the exception
    middleware) wraps each ``send`` of every request; for the two requests that come with
    every call those layers cost the server more than the ring plan (bench/sip_bench.py).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._edge = EdgeFastPath(super().__call__)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        await self._edge(scope, receive, send)


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or make_engine(settings.resolved_database_url())
    app = PultApp(
        title="Pult server",
        version=__version__,
        description="Routing, operator state, configuration and billing of the Pult virtual PBX.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=scheduler.lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    billing_sync.install(app.state.session_factory)
    app.state.secret_key = settings.resolved_secret_key()
    app.state.bus = EventBus(capacity=settings.event_buffer_size)
    errors.install(app)

    @app.get("/api/health", tags=["health"], operation_id="health")
    def health(request: Request) -> dict[str, Any]:
        with request.app.state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__, "database": engine.dialect.name}

    for module in MODULES:
        app.include_router(module.router, prefix="/api")
    return app
