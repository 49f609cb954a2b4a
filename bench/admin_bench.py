"""Time to first paint of the admin call history: 100,000 calls against an empty table.

Two real servers (the FastAPI app, each on its own temporary SQLite database with the demo
domain) in one run: one holds 100,000 CDRs of the last 30 days, the other none. For each, the
admin panel opens the call-history section (7-day preset) and the clock stops when the table
has painted its first page. Goal: ≤ 300 ms with 100,000 rows, and the ratio to the empty table
shows that the lazy model does not load what is not on screen.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/admin_bench.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import httpx
from sqlalchemy import insert, select

from desktop.admin.widgets import tasks
from desktop.api.client import PultClient
from desktop.qt import QEventLoop, QtWidgets
from server_stub.api.app import create_app
from server_stub.demo import ADMIN_PASSWORD, load_demo
from server_stub.settings import Settings
from server_stub.store.db import make_engine, make_session_factory
from server_stub.store.migrate import upgrade
from server_stub.store.models import Domain
from server_stub.store.models_calls import Cdr

ROWS = 100_000
RUNS = 5
GOAL_MS = 300


def server(folder: Path, rows: int) -> Any:
    url = f"sqlite:///{folder / 'pult.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        load_demo(session)
        session.commit()
        domain_id = session.execute(
            select(Domain.id).where(Domain.name == "demo.pult")
        ).scalar_one()
        now = datetime.now(UTC)
        batch = 10_000
        for start in range(0, rows, batch):
            session.execute(
                insert(Cdr),
                [
                    {
                        "call_id": f"bench-{i}",
                        "domain_id": domain_id,
                        "direction": "incoming",
                        "source": "trunk",
                        "caller": f"+7916{i:07d}",
                        "called": "+74951234567",
                        # 100,000 calls spread over 30 days: about 23,000 in the 7-day view.
                        "started_at": now - timedelta(seconds=26 * i),
                        "duration_seconds": i % 600,
                        "result": "answered",
                        "trace": [["Входящий вызов", "Incoming call"]],
                        "updated_at": now,
                    }
                    for i in range(start, min(rows, start + batch))
                ],
            )
        session.commit()
    settings = Settings(data_dir=folder / "data", secret_key="bench-secret-key-long-enough-123456")
    return create_app(settings, engine)


def first_paint_ms(loop: asyncio.AbstractEventLoop, app: Any) -> tuple[float, int]:
    from desktop.admin.workspace import AdminWorkspace

    client = PultClient("http://bench", transport=httpx.ASGITransport(app=app))
    loop.run_until_complete(client.login("admin@demo.pult", ADMIN_PASSWORD))
    workspace = AdminWorkspace(client)
    workspace.resize(1280, 800)
    workspace.show()
    loop.run_until_complete(tasks.idle())
    QtWidgets.QApplication.processEvents()
    started = time.perf_counter()
    section = workspace.open("cdrs")
    loop.run_until_complete(tasks.idle())
    section.table.viewport().repaint()  # type: ignore[attr-defined]
    elapsed = (time.perf_counter() - started) * 1000
    total = section.model.total or 0  # type: ignore[attr-defined]
    workspace.close()
    workspace.deleteLater()
    loop.run_until_complete(client.aclose())
    return elapsed, total


def main() -> int:
    qt = QtWidgets.QApplication(sys.argv[:1])
    loop = QEventLoop(qt)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        t0 = time.perf_counter()
        full, empty = server(Path(a), ROWS), server(Path(b), 0)
        print(f"setup: {ROWS:,} CDRs inserted in {time.perf_counter() - t0:.1f} s")
        first_paint_ms(loop, empty)  # warm-up: imports, first widget creation
        full_ms, empty_ms = [], []
        shown = 0
        for _ in range(RUNS):
            ms, _total = first_paint_ms(loop, empty)
            empty_ms.append(ms)
            ms, shown = first_paint_ms(loop, full)
            full_ms.append(ms)
    f, e = statistics.median(full_ms), statistics.median(empty_ms)
    print(f"empty call history:           {e:7.1f} ms to first paint (median of {RUNS})")
    print(f"{ROWS:,} calls ({shown:,} in view): {f:7.1f} ms to first paint (median of {RUNS})")
    print(
        f"ratio full / empty: {f / e:.2f}; "
        f"goal ≤ {GOAL_MS} ms: {'met' if f <= GOAL_MS else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
