"""Event latency: an operator's status change reaching 300 live WebSocket clients, beside one.

Starts the real server (``python -m server_stub serve``, uvicorn) on a free port with a fresh
database holding one domain with an operator and a supervisor, signs both in through
``POST /api/auth/login``, and opens the event stream (``/api/events``) the way the desktop
client does (first frame: the access token). Then, for each round, the operator switches
between ready and away with ``PUT /api/operator/status``; every client notes when the
``operator.changed`` event with the new status arrives. A round's latency per client is the
time from the start of the request to that arrival, so it holds the request, the database
commit, the bus's fan-out and the client's receipt. Rounds run one after another: the next
starts when every client has its event.

The same run measures one connected client (the baseline) and then ``--clients`` of them.
The clients share this process's event loop, so their own receive work is in the numbers too.

Goal (issue 6): p99 ≤ 100 ms with 300 clients.

    .venv/bin/python -m bench.events_bench [--clients 300] [--rounds 40]
    .venv/bin/python -m bench.events_bench --database-url postgresql://pult@127.0.0.1:55432/db
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass, field

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench.server import Server, running_server, sign_in

DOMAIN = "events.bench"
PASSWORD = "Bench-pass-2024"
GOAL_P99_MS = 100.0


def seed(env: dict[str, str]) -> None:
    """A migrated database with a domain, its operator and its supervisor."""
    from server_stub.store import provision
    from server_stub.store.db import make_engine, make_session_factory, session_scope
    from server_stub.store.migrate import upgrade

    database_url = env["PULT_DATABASE_URL"]
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            domain = provision.create_domain(session, DOMAIN)
            provision.create_user(
                session, domain, "operator", PASSWORD, "Оператор", is_operator=True
            )
            provision.create_user(
                session, domain, "supervisor", PASSWORD, "Супервизор", is_supervisor=True
            )
    finally:
        engine.dispose()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Round:
    """What every client waits for now, and when the request that causes it started."""

    status: str = ""
    started: float = 0.0
    pending: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)
    latencies: list[float] = field(default_factory=list)


class Listener:
    def __init__(self, ws: ClientConnection, current: list[Round]) -> None:
        self.ws = ws
        self.current = current
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        async for raw in self.ws:
            arrived = time.perf_counter()
            # Cheap filter first: every client parses only the event it waits for.
            if not isinstance(raw, str) or '"operator.changed"' not in raw:
                continue
            message = json.loads(raw)
            rnd = self.current[0]
            if rnd.pending and message["data"].get("status") == rnd.status and rnd.started:
                rnd.latencies.append(arrived - rnd.started)
                rnd.pending -= 1
                if rnd.pending == 0:
                    rnd.done.set()


async def open_stream(base: str, token: str, current: list[Round]) -> Listener:
    ws = await connect(base.replace("http", "ws", 1) + "/api/events", open_timeout=60)
    await ws.send(json.dumps({"token": token}))
    hello = json.loads(await ws.recv())
    if hello.get("type") != "hello":
        raise RuntimeError(f"the event stream refused: {hello}")
    listener = Listener(ws, current)
    listener.task = asyncio.create_task(listener.run())
    return listener


@dataclass
class Result:
    latencies: list[float]  # seconds, one per client and round
    server_cpu: float  # seconds of the server's CPU per round
    client_cpu: float  # seconds of this process's CPU per round (the clients' side)


async def measure(server: Server, clients: int, rounds: int, warm_up: int) -> Result:
    """What ``rounds`` status changes cost when ``clients`` listen."""
    base = server.base
    operator = sign_in(base, f"operator@{DOMAIN}", PASSWORD)
    supervisor = sign_in(base, f"supervisor@{DOMAIN}", PASSWORD)
    current = [Round()]
    listeners: list[Listener] = []
    gate = asyncio.Semaphore(32)  # the server's handshake and token check, a few at a time

    async def one() -> None:
        async with gate:
            listeners.append(await open_stream(base, supervisor, current))

    await asyncio.gather(*(one() for _ in range(clients)))
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {operator}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        me = await http.get("/api/operator/me")
        me.raise_for_status()
        # Each round changes the status: a status set again may well announce nothing.
        flip = {"ready": "away", "away": "ready"}
        status = str(me.json()["status"])
        cpu = (0.0, 0.0)
        try:
            for n in range(warm_up + rounds):
                if n == warm_up:
                    cpu = (cpu_seconds(server.pid), time.process_time())
                status = flip.get(status, "ready")
                rnd = Round(status=status, pending=clients)
                current[0] = rnd
                rnd.started = time.perf_counter()
                r = await http.put("/api/operator/status", json={"status": rnd.status})
                r.raise_for_status()
                await asyncio.wait_for(rnd.done.wait(), 30)
                if n >= warm_up:
                    latencies += rnd.latencies
            server_cpu = (cpu_seconds(server.pid) - cpu[0]) / rounds
            client_cpu = (time.process_time() - cpu[1]) / rounds
        finally:
            for listener in listeners:
                await listener.ws.close()
                if listener.task is not None:
                    listener.task.cancel()
    return Result(latencies, server_cpu, client_cpu)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def describe(label: str, result: Result) -> dict[str, float]:
    ms = [v * 1000 for v in result.latencies]
    stats = {
        "p50": statistics.median(ms),
        "p99": percentile(ms, 99),
        "max": max(ms),
    }
    print(
        f"{label:12} p50 {stats['p50']:7.1f} ms   p99 {stats['p99']:7.1f} ms   "
        f"max {stats['max']:7.1f} ms   ({len(ms)} deliveries)\n"
        f"{'':12} CPU per change: server {result.server_cpu * 1000:6.1f} ms, "
        f"clients {result.client_cpu * 1000:6.1f} ms"
    )
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Pult event latency: 1 vs many clients")
    parser.add_argument("--clients", type=int, default=300, help="connected clients")
    parser.add_argument("--rounds", type=int, default=40, help="status changes measured")
    parser.add_argument("--warm-up", type=int, default=4, help="status changes not counted")
    parser.add_argument(
        "--database-url", default="", help="run against this database (default: SQLite)"
    )
    args = parser.parse_args(argv)
    if args.clients < 1 or args.rounds < 1 or args.warm_up < 0:
        parser.error("--clients and --rounds must be at least 1, --warm-up at least 0")

    # No billing ticks: nothing else on the server's threads.
    with running_server(
        "pult-events-bench-", args.database_url, seed, PULT_BILLING_TICK_SECONDS="0"
    ) as server:
        one = asyncio.run(measure(server, 1, args.rounds, args.warm_up))
        many = asyncio.run(measure(server, args.clients, args.rounds, args.warm_up))

    print(f"{args.rounds} status changes (after {args.warm_up} not counted), one at a time")
    base_stats = describe("1 client", one)
    many_stats = describe(f"{args.clients} clients", many)
    print(
        f"ratio {args.clients}/1: p50 ×{many_stats['p50'] / base_stats['p50']:.1f}, "
        f"p99 ×{many_stats['p99'] / base_stats['p99']:.1f}"
    )
    good = many_stats["p99"] <= GOAL_P99_MS
    print(
        f"goal: p99 ≤ {GOAL_P99_MS:.0f} ms with {args.clients} clients: "
        f"{'met' if good else 'NOT met'}"
    )
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
