"""Real SIP: the Pult server (uvicorn subprocess, temp SQLite), Kamailio, pjsua2 agents.

Everything listens on 127.0.0.1 on free ports. Tests that need a running PBX are skipped when
Kamailio or pjsua2 is missing (``scripts/common.sh`` installs both).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from server_stub.sip.edge import Edge, EdgeConfig, kamailio_binary
from server_stub.store.db import make_engine, make_session_factory
from server_stub.store.migrate import upgrade
from tests.factories import SECRET, World, make_world

try:
    import pjsua2  # noqa: F401

    HAVE_PJSUA = True
except ImportError:
    HAVE_PJSUA = False

from tests.sip.fixtures import agent_factory  # noqa: F401

REPO = Path(__file__).resolve().parents[3]
EDGE_TOKEN = "edge-test-token"


def free_port() -> int:
    """A port free for both UDP and TCP (Kamailio listens on both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = int(tcp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port")


class ServerProcess:
    """``python -m server_stub serve`` on a free port; stop() and start() again keep the DB."""

    def __init__(self, db_url: str, data_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db_url = db_url
        self.data_dir = data_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data_dir / "server.log"

    def start(self) -> None:
        env = dict(
            os.environ,
            PULT_DATABASE_URL=self.db_url,
            PULT_DATA_DIR=str(self.data_dir),
            PULT_SECRET_KEY=SECRET,
            PULT_EDGE_TOKEN=EDGE_TOKEN,
            # Billing's clock would charge the test domains at an unpredictable moment.
            PULT_BILLING_TICK_SECONDS="0",
        )
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "server_stub", "serve", "--no-migrate"]  # noqa: RUF005
                + ["--host", "127.0.0.1", "--port", str(self.port)],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            try:
                if httpx.get(self.url + "/api/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not start\n" + self.log.read_text()[-3000:])

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def unsent_events(spool: Path) -> int:
    """Events waiting in the edge's spool: the journals' lines after their ".sent" offsets."""
    total = 0
    for journal in spool.glob("*.jsonl"):
        sent = journal.with_name(journal.name + ".sent")
        offset = int(sent.read_text() or 0) if sent.exists() else 0
        total += journal.read_bytes()[offset:].count(b"\n")
    return total


@dataclass
class Pbx:
    """A running server + edge over one database, and helpers the tests share."""

    world: World
    server: ServerProcess
    edge: Edge
    session_factory: Any

    @property
    def registrar(self) -> str:
        return f"sip:{self.edge.cfg.address}:{self.edge.cfg.port}"

    def session(self) -> Session:
        return self.session_factory()  # type: ignore[no-any-return]

    def cdrs(self, **params: Any) -> list[dict[str, Any]]:
        resp = httpx.get(
            self.server.url + "/api/cdrs",
            params={"lang": "en", **params},
            headers=self.world.a.headers("admin"),
            timeout=5,
        )
        resp.raise_for_status()
        return list(resp.json()["items"])

    def wait_cdr(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        seen: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            seen = self.cdrs()
            for cdr in seen:
                if predicate(cdr):
                    return cdr
            time.sleep(0.2)
        raise AssertionError(f"no matching CDR in {timeout} s; have {seen}")


def make_pbx(tmp_path: Path, **edge_options: Any) -> Iterator[Pbx]:
    if kamailio_binary() is None or not HAVE_PJSUA:
        pytest.skip("needs kamailio (scripts/common.sh installs it) and pjsua2")
    db_path = tmp_path / "pult.sqlite3"
    db_url = f"sqlite:///{db_path}"
    upgrade(db_url)
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    with factory() as session:
        world = make_world(session)
        for tenant in (world.a, world.b):
            for obj in (
                tenant.domain,
                tenant.admin,
                tenant.supervisor,
                tenant.operator,
                tenant.user,
            ):
                session.refresh(obj)  # loaded now, usable after the session is gone
        session.expunge_all()
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    server = ServerProcess(db_url, data_dir)
    server.start()
    cfg = EdgeConfig(
        server_url=server.url,
        token=EDGE_TOKEN,
        run_dir=tmp_path / "edge",
        port=free_port(),
        debug=int(os.environ.get("PULT_TEST_KAMAILIO_DEBUG", "2")),
        **edge_options,
    )
    edge = Edge(cfg)
    edge.start()
    try:
        yield Pbx(world, server, edge, factory)
    finally:
        edge.stop()
        server.stop()
        engine.dispose()


@pytest.fixture
def pbx(tmp_path: Path) -> Iterator[Pbx]:
    yield from make_pbx(tmp_path)
