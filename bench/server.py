"""What the benchmarks that talk to a real server share: a fresh server process on a free port
and signing in to it.

    with running_server("pult-bench-", database_url, prepare) as server:
        token = sign_in(server.base, "admin@bench.local", PASSWORD)
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Server:
    base: str
    pid: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_up(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer within 60 s:\n{log.read_text()}")


@contextmanager
def running_server(
    prefix: str,
    database_url: str,
    prepare: Callable[[dict[str, str]], None],
    **extra_env: str,
) -> Iterator[Server]:
    """``python -m server_stub serve`` with a fresh data folder (SQLite in it unless
    ``database_url``); ``prepare(env)`` migrates and seeds first. Stopped afterwards."""
    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    port = free_port()
    # Nothing from the caller's own setup (database, key) leaks into the run.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULT_")}
    env |= {
        "PULT_DATA_DIR": str(data_dir),
        "PULT_PORT": str(port),
        "PULT_DATABASE_URL": database_url or f"sqlite:///{data_dir / 'pult.sqlite3'}",
        **extra_env,
    }
    log = data_dir / "server.log"
    server: subprocess.Popen[bytes] | None = None
    try:
        prepare(env)
        with log.open("wb") as out:
            server = subprocess.Popen(
                [sys.executable, "-m", "server_stub", "serve", "--no-migrate"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, server, log)
        yield Server(base, server.pid)
    finally:
        if server is not None and server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(data_dir, ignore_errors=True)


def sign_in(base: str, login: str, password: str) -> str:
    """An access token from ``POST /api/auth/login``."""
    r = httpx.post(
        f"{base}/api/auth/login", json={"login": login, "password": password}, timeout=30
    )
    r.raise_for_status()
    token: str = r.json()["access_token"]
    return token
