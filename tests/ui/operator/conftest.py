"""The operator and supervisor workspaces against a REAL server.

The FastAPI app (fresh migrated database, demo domain) runs under uvicorn on a free local port
in a thread: the workspaces need its WebSocket event stream, which ``httpx.ASGITransport``
cannot carry. The test plays the SIP edge with the edge token, as tests/integration/api does.
"""

from __future__ import annotations

import asyncio
import gc
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.api.client import PultClient
from server_stub.demo import ADMIN_PASSWORD, DOMAIN, PASSWORD, load_demo
from server_stub.store.models import CallGroup

EDGE_TOKEN = "edge-secret"


@dataclass
class Live:
    url: str
    app: FastAPI
    db: Session

    def group_id(self, name: str) -> int:
        return int(self.db.execute(select(CallGroup.id).where(CallGroup.name == name)).scalar_one())

    def edge(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = httpx.post(
            f"{self.url}/api/acd{path}", json=body, headers={"X-Pult-Edge-Token": EDGE_TOKEN}
        )
        assert r.is_success, r.text
        return dict(r.json())

    def call(self, call_id: str, caller: str, group: str = "Продажи") -> dict[str, Any]:
        body = {"domain": DOMAIN, "group_id": self.group_id(group), "call_id": call_id}
        return self.edge("/calls", body | {"caller": caller})


@pytest.fixture
def loop(qapp: object) -> Iterator[asyncio.AbstractEventLoop]:
    """The qasync loop that stays running for its trailing ``processEvents`` (qloop.py)."""
    from tests.ui.operator.qloop import SteadyLoop

    event_loop = SteadyLoop(qapp)
    asyncio.set_event_loop(event_loop)
    yield event_loop
    event_loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture
def live(app: FastAPI, db: Session) -> Iterator[Live]:
    load_demo(db)
    db.commit()
    app.state.edge_token = EDGE_TOKEN
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # Python may collect garbage in whichever thread allocates: Qt objects left over from an
    # earlier test must not be destroyed in the server's thread (Qt aborts or crashes), so
    # collect them here, and collect nothing while the server thread runs.
    gc.collect()
    gc.disable()
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", ws="websockets-sansio", lifespan="on")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    yield Live(f"http://127.0.0.1:{port}", app, db)
    server.should_exit = True
    thread.join(15)
    sock.close()
    gc.enable()


@pytest.fixture
def sign_in(live: Live, loop: asyncio.AbstractEventLoop) -> Iterator[Callable[[str], PultClient]]:
    clients: list[PultClient] = []

    def make(login: str) -> PultClient:
        client = PultClient(live.url)
        password = ADMIN_PASSWORD if login == "admin" else PASSWORD
        loop.run_until_complete(client.login(f"{login}@{DOMAIN}", password))
        clients.append(client)
        return client

    yield make
    for client in clients:
        loop.run_until_complete(client.aclose())


@pytest.fixture(autouse=True)
def local_settings(tmp_path: Path) -> Iterator[None]:
    from desktop.operator import workspace

    workspace.data_dir = tmp_path
    yield
    workspace.data_dir = None


def wait_for(
    loop: asyncio.AbstractEventLoop, condition: Callable[[], object], timeout: float = 10.0
) -> None:
    """Run the application's loop until ``condition()`` holds (the GUI keeps painting)."""

    async def poll() -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for the window to show it; {_errors()}")
            await asyncio.sleep(0.02)

    loop.run_until_complete(poll())


def settle(loop: asyncio.AbstractEventLoop) -> None:
    """Until every request the windows started has finished and Qt has drawn it.

    Qt events are processed only inside the running loop: a task stepped from a bare
    ``processEvents()`` would find no running loop (httpx and asyncio need one).
    """
    from desktop.operator import tasks

    for _ in range(3):
        loop.run_until_complete(tasks.idle())
        loop.run_until_complete(asyncio.sleep(0.02))


def stop_streams(loop: asyncio.AbstractEventLoop, *streams: Any) -> None:
    """End the windows' event streams while the loop runs (a task must not outlive it)."""
    for stream in streams:
        stream.stop()
    loop.run_until_complete(asyncio.sleep(0.05))


def _errors() -> str:
    """What the windows say went wrong (for the failure message of a timed-out wait)."""
    from desktop.qt import QtWidgets

    said = [
        f"{label.objectName()}: {label.text()}"
        for widget in QtWidgets.QApplication.topLevelWidgets()
        for label in widget.findChildren(QtWidgets.QLabel)
        if label.objectName().endswith("error") and label.text()
    ]
    return "; ".join(said) or "no error shown"
