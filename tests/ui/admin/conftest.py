"""The admin panel against a REAL server: the FastAPI app on a fresh migrated database with
the demo domain, reached through ``httpx.ASGITransport`` (no port, same event loop)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from desktop.admin.widgets import dialogs, tasks
from desktop.api.client import PultClient
from server_stub.demo import ADMIN_PASSWORD, DOMAIN, load_demo

ADMIN = f"admin@{DOMAIN}"


@pytest.fixture
def demo(db: Session) -> Session:
    load_demo(db)
    db.commit()
    return db


@pytest.fixture
def api(app: FastAPI, demo: Session, loop: asyncio.AbstractEventLoop) -> Iterator[PultClient]:
    client = PultClient("http://pult.test", transport=httpx.ASGITransport(app=app))
    loop.run_until_complete(client.login(ADMIN, ADMIN_PASSWORD))
    yield client
    loop.run_until_complete(client.aclose())


@pytest.fixture(autouse=True)
def answers() -> Iterator[None]:
    """Every question is answered «yes» unless a test says otherwise."""
    dialogs.answer = True
    dialogs.asked.clear()
    yield
    dialogs.answer = None
    dialogs.next_file = None


@pytest.fixture
def workspace(api: PultClient, qtbot: Any, loop: asyncio.AbstractEventLoop) -> Any:
    from desktop.admin.workspace import AdminWorkspace

    ws = AdminWorkspace(api)
    qtbot.addWidget(ws)
    ws.resize(1200, 800)
    ws.show()
    settle(loop)
    return ws


def settle(loop: asyncio.AbstractEventLoop) -> None:
    """Wait until every request the panel started has finished and Qt has drawn it."""
    from desktop.qt import QtWidgets

    for _ in range(3):
        loop.run_until_complete(tasks.idle())
        QtWidgets.QApplication.processEvents()
    loop.run_until_complete(tasks.idle())


def fresh(loop: asyncio.AbstractEventLoop, api: PultClient, path: str, **params: Any) -> Any:
    """What the server holds now (checked through the API, as any client would)."""
    return loop.run_until_complete(api.request("GET", path, params=params or None))
