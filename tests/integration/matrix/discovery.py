"""Every endpoint of the app, read from the app itself, so the matrices follow the code.

The app is built once on a throwaway in-memory engine (nothing is queried while routes are
listed). A route that the tables in ``table.py`` do not know makes the matrix tests fail: no
endpoint can be added without saying who may call it, how to call it and what it records.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import BaseRoute, Route, WebSocketRoute

from server_stub.settings import Settings
from server_stub.store.db import make_engine
from tests.factories import SECRET

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PARAM = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # as routed, e.g. "/api/groups/{group_id}/members/{user_id}"
    operation_id: str
    int_params: tuple[str, ...]  # path parameters typed int, in path order
    other_params: tuple[str, ...]  # path parameters of any other type
    has_body: bool  # a JSON body or a form (file upload)
    is_form: bool

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def mutating(self) -> bool:
        return self.method in MUTATING

    def __str__(self) -> str:
        return self.key


def _route_contexts(app: FastAPI) -> list[tuple[str, set[str], BaseRoute]]:
    """(effective path, methods, original route) for every route, however routers nest."""
    try:
        from fastapi.routing import iter_route_contexts  # FastAPI >= 0.16x: lazy sub-routers
    except ImportError:  # pragma: no cover - older FastAPI flattens routes itself
        return [
            (getattr(r, "path", ""), set(getattr(r, "methods", None) or ()), r) for r in app.routes
        ]
    out = []
    for rc in iter_route_contexts(app.routes):
        out.append((rc.path or "", set(rc.methods or ()), rc.original_route))
    return out


def _endpoint(path: str, method: str, route: BaseRoute) -> Endpoint:
    names = _PARAM.findall(path)
    ints: list[str] = []
    others: list[str] = []
    has_body = is_form = False
    op_id = ""
    if isinstance(route, APIRoute):
        op_id = route.operation_id or ""
        types: dict[str, Any] = {
            p.name: p.field_info.annotation for p in route.dependant.path_params
        }
        for name in names:
            (ints if types.get(name) is int else others).append(name)
        has_body = route.body_field is not None
        is_form = bool(route.dependant.body_params) and any(
            type(p.field_info).__name__ in ("File", "Form") for p in route.dependant.body_params
        )
    else:
        others = names
    return Endpoint(method, path, op_id, tuple(ints), tuple(others), has_body, is_form)


@cache
def app_for_listing() -> FastAPI:
    from server_stub.api.app import create_app

    data = Path(tempfile.mkdtemp(prefix="pult-matrix-"))
    return create_app(Settings(data_dir=data, secret_key=SECRET), make_engine("sqlite://"))


@cache
def endpoints() -> tuple[Endpoint, ...]:
    found: list[Endpoint] = []
    for path, methods, route in _route_contexts(app_for_listing()):
        if isinstance(route, APIWebSocketRoute | WebSocketRoute):
            continue
        if not isinstance(route, APIRoute | Route):
            continue
        for method in sorted(methods - {"HEAD", "OPTIONS"}):
            found.append(_endpoint(path, method, route))
    return tuple(sorted(found, key=lambda e: (e.path, e.method)))


@cache
def websocket_paths() -> tuple[str, ...]:
    return tuple(
        sorted(
            path
            for path, _, route in _route_contexts(app_for_listing())
            if isinstance(route, APIWebSocketRoute | WebSocketRoute)
        )
    )
