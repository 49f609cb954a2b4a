"""``python -m tests.ui.admin.screens OUTDIR``: every admin section on a real X server, saved as
PNG. The server is the real app on a temporary SQLite database with the demo domain."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from desktop.admin.widgets import tasks
from desktop.api.client import PultClient
from desktop.qt import QEventLoop, QtWidgets
from server_stub.api.app import create_app
from server_stub.demo import ADMIN_PASSWORD, load_demo
from server_stub.settings import Settings
from server_stub.store.db import make_engine, make_session_factory
from server_stub.store.migrate import upgrade


def demo_app(folder: Path) -> object:
    url = f"sqlite:///{folder / 'pult.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        load_demo(session)
        session.commit()
        from server_stub.store.models import Domain
        from server_stub.store.models_calls import Cdr

        domain = session.query(Domain).filter_by(name="demo.pult").one()
        now = datetime.now(UTC)
        session.add_all(
            Cdr(
                call_id=f"shot-{i}", domain_id=domain.id, direction="incoming",
                caller=f"+7916555{i:04d}", called="+74951234567",
                started_at=now - timedelta(minutes=7 * i), duration_seconds=17 * i % 600,
                result=("answered", "missed", "busy")[i % 3],
                answered_by="popov" if i % 3 == 0 else "",
                trace=[["Входящий на +74951234567", "Incoming to +74951234567"],
                       ["Правило 1: группа Продажи", "Rule 1: group Sales"]],
            )
            for i in range(120)
        )  # fmt: skip
        session.commit()
    settings = Settings(data_dir=folder / "data", secret_key="screens-secret-key-long-enough-1234")
    return create_app(settings, engine)


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    app = QtWidgets.QApplication(sys.argv[:1])
    loop = QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory() as tmp:
        server = demo_app(Path(tmp))
        client = PultClient("http://pult.test", transport=httpx.ASGITransport(app=server))  # type: ignore[arg-type]
        loop.run_until_complete(client.login("admin@demo.pult", ADMIN_PASSWORD))
        from desktop.admin.workspace import AdminWorkspace

        ws = AdminWorkspace(client)
        ws.resize(1280, 800)
        ws.show()
        for key in ws.sections:
            section = ws.open(key)
            for _ in range(3):
                loop.run_until_complete(tasks.idle())
                app.processEvents()
            table = getattr(section, "table", None)
            if key in ("users", "groups", "numbers", "schedules", "cdrs") and table is not None:
                table.selectRow(0)
            if key == "simulate":
                section.form.widgets["caller"].setText("+79161112233")  # type: ignore[attr-defined]
                section.form.widgets["called"].setText("+74951234567")  # type: ignore[attr-defined]
                section.simulate()  # type: ignore[attr-defined]
            for _ in range(3):
                loop.run_until_complete(tasks.idle())
                app.processEvents()
            path = out / f"admin-{key}.png"
            if not ws.grab().save(str(path)):
                raise SystemExit(f"could not write {path}")
            print(path)
        loop.run_until_complete(client.aclose())
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
