"""``python -m tests.ui.operator.screens OUTDIR``: the operator workstation (an offered call,
a message) and the supervisor's monitor on a real X server, saved as PNG. The server is the
real app (demo domain, temporary SQLite) under uvicorn in a thread, as in conftest.py."""

from __future__ import annotations

import asyncio
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy import select

from desktop.api.client import PultClient
from desktop.operator import crm_panel
from desktop.operator.supervisor_workspace import SupervisorWorkspace
from desktop.operator.workspace import OperatorWorkspace
from desktop.qt import QtWidgets
from server_stub.api.app import create_app
from server_stub.demo import DOMAIN, PASSWORD, load_demo
from server_stub.settings import Settings
from server_stub.store.db import make_engine, make_session_factory
from server_stub.store.migrate import upgrade
from server_stub.store.models import CallGroup
from tests.ui.operator.qloop import SteadyLoop

EDGE = {"X-Pult-Edge-Token": "screens-edge"}


def wait(loop: asyncio.AbstractEventLoop, condition: object, timeout: float = 40.0) -> None:
    async def poll() -> None:
        deadline = time.monotonic() + timeout
        while not condition():  # type: ignore[operator]
            if time.monotonic() > deadline:
                raise SystemExit(f"the window did not get there in time: {condition}")
            await asyncio.sleep(0.05)

    loop.run_until_complete(poll())


def save(widget: QtWidgets.QWidget, path: Path) -> None:
    if not widget.grab().save(str(path)):
        raise SystemExit(f"could not write {path}")
    print(path)


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    app = QtWidgets.QApplication(sys.argv[:1])
    loop = SteadyLoop(app)
    asyncio.set_event_loop(loop)
    crm_panel.web_view_usable = lambda: False  # a screenshot must not depend on Chromium
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'pult.sqlite3'}"
        upgrade(url)
        engine = make_engine(url)
        with make_session_factory(engine)() as session:
            load_demo(session)
            session.commit()
            sales = session.execute(select(CallGroup.id).where(CallGroup.name == "Продажи"))
            sales_id = int(sales.scalar_one())
        settings = Settings(
            data_dir=Path(tmp) / "data", secret_key="screens-secret-key-that-is-long-enough-1234"
        )
        server_app = create_app(settings, engine)
        server_app.state.edge_token = EDGE["X-Pult-Edge-Token"]
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        server = uvicorn.Server(uvicorn.Config(server_app, log_level="warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)

        def client(login: str) -> PultClient:
            c = PultClient(base)
            loop.run_until_complete(c.login(f"{login}@{DOMAIN}", PASSWORD))
            return c

        boss_client = client("orlova")
        boss = SupervisorWorkspace(boss_client)
        popov = OperatorWorkspace(client("popov"))
        others = [OperatorWorkspace(client(n)) for n in ("lebedeva", "volkova")]
        for ws in (boss, popov, *others):
            ws.resize(1200, 780)
            ws.show()
            ws.start()
        wait(loop, lambda: popov.user_id is not None and all(o.user_id for o in others))
        # Popov first: the longest idle takes the first (VIP) call.
        popov.status.request("ready")
        wait(loop, lambda: popov.me.get("status") == "ready")
        time.sleep(1.1)
        others[0].status.request("ready")
        others[1].status.request("away")
        wait(loop, lambda: others[0].me.get("status") == "ready")
        body = {
            "title": "Новый прайс",
            "text": "С понедельника действуют новые цены.",
            "group_ids": [sales_id],
        }
        loop.run_until_complete(boss_client.request("POST", "/api/operator-messages", json=body))
        for n, caller in enumerate(("+79161112233", "+74952223344", "+74993334455")):
            httpx.post(
                f"{base}/api/acd/calls",
                json={
                    "domain": DOMAIN,
                    "group_id": sales_id,
                    "call_id": f"shot-{n}",
                    "caller": caller,
                },
                headers=EDGE,
            )
        wait(
            loop,
            lambda: (
                popov.offer_panel.isVisible() and "Вектор" in popov.offer_panel.caller_label.text()
            ),
        )
        wait(loop, lambda: popov.tabs.tabText(1) == "Сообщения (1)")
        save(popov, out / "operator.png")
        boss.table.select(popov.user_id or 0)
        wait(loop, lambda: any(t.row.get("waiting") for t in boss.tiles.tiles.values()))
        save(boss, out / "supervisor.png")
        boss.tabs.setCurrentIndex(1)
        wait(loop, lambda: boss.sent.table.rowCount() == 1)
        boss.sent.select(int(boss.sent.items[0]["id"]))
        wait(loop, lambda: boss.sent.unread_list.count() > 0)
        save(boss, out / "supervisor-messages.png")
        for ws in (boss, popov, *others):
            ws.stream.stop()
        loop.run_until_complete(asyncio.sleep(0.1))
        server.should_exit = True
        thread.join(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1])))
