"""API throughput: an authenticated list page beside ``/api/health``, measured in the same run.

Starts the real server (``python -m server_stub serve``, uvicorn) on a free port with a fresh
data folder, creates a domain and its admin with the CLI, signs in through
``POST /api/auth/login``, adds VIP numbers so the list has data, then for a fixed time per
phase lets a few concurrent clients fetch:

- ``GET /api/health`` (one ``SELECT 1``): the baseline of this machine and server stack;
- ``GET /api/vip-numbers?limit=50``: token check, principal lookup, count and page query.

The ratio list/health is what to compare between commits: absolute rates depend on the machine.

    .venv/bin/python -m bench.api_bench [--seconds 5] [--clients 8] [--records 200]
    .venv/bin/python -m bench.api_bench --seconds 1          # quick smoke run
    .venv/bin/python -m bench.api_bench --database-url postgresql://pult@127.0.0.1:55432/db
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from dataclasses import dataclass

import httpx

from bench.server import ROOT, running_server, sign_in

DOMAIN = "bench.local"
LOGIN = "admin"
PASSWORD = "Bench-pass-2024"
LIST_PATH = "/api/vip-numbers?limit=50"


@dataclass(frozen=True)
class Rate:
    requests: int
    failures: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def cli(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "server_stub", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def prepare(env: dict[str, str]) -> None:
    """A migrated database with one domain admin."""
    cli(env, "migrate")
    cli(env, "create-admin", "--domain", DOMAIN, "--login", LOGIN, "--password", PASSWORD)


async def seed(base: str, headers: dict[str, str], count: int) -> None:
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        gate = asyncio.Semaphore(8)

        async def one(n: int) -> None:
            async with gate:
                body = {"e164": f"+7495111{n:04d}", "priority": 1 + n % 999}
                r = await client.post("/api/vip-numbers", json=body)
                r.raise_for_status()

        await asyncio.gather(*(one(n) for n in range(count)))
        listed = (await client.get(LIST_PATH)).json()
        if listed["total"] != count or len(listed["items"]) != min(50, count):
            raise RuntimeError(f"seeding failed: the list shows {listed['total']} of {count}")


async def measure(
    base: str, path: str, headers: dict[str, str], clients: int, seconds: float
) -> Rate:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=30
    ) as client:

        async def worker(deadline: float) -> tuple[int, int]:
            done = failed = 0
            while time.perf_counter() < deadline:
                r = await client.get(path)
                if r.status_code == 200:
                    done += 1
                else:
                    failed += 1
            return done, failed

        # Warm-up: open the keep-alive connections and the server's first-use paths.
        await asyncio.gather(*(worker(time.perf_counter() + 0.3) for _ in range(clients)))
        start = time.perf_counter()
        results = await asyncio.gather(*(worker(start + seconds) for _ in range(clients)))
        elapsed = time.perf_counter() - start
    return Rate(sum(d for d, _ in results), sum(f for _, f in results), elapsed)


async def run(base: str, args: argparse.Namespace) -> tuple[Rate, Rate]:
    headers = {"Authorization": f"Bearer {sign_in(base, f'{LOGIN}@{DOMAIN}', PASSWORD)}"}
    await seed(base, headers, args.records)
    health = await measure(base, "/api/health", {}, args.clients, args.seconds)
    listing = await measure(base, LIST_PATH, headers, args.clients, args.seconds)
    return health, listing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Pult API throughput: list vs health")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each phase")
    parser.add_argument("--clients", type=int, default=8, help="concurrent connections")
    parser.add_argument(
        "--records", type=int, default=200, help="VIP numbers to create (at most 9999)"
    )
    parser.add_argument(
        "--database-url", default="", help="run against this database (default: SQLite)"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.records <= 9999:
        parser.error("--records must be between 1 and 9999 (the numbers are +7495111NNNN)")
    if args.clients < 1 or args.seconds <= 0:
        parser.error("--clients must be at least 1 and --seconds above 0")

    with running_server("pult-bench-", args.database_url, prepare) as server:
        health, listing = asyncio.run(run(server.base, args))

    print(f"clients: {args.clients}, {args.seconds:g} s per phase, {args.records} VIP numbers")
    for path, rate in (("/api/health", health), (LIST_PATH, listing)):
        print(f"GET {path:<28} {rate.per_second:9.1f} req/s ({rate.requests} requests)")
    ratio = listing.per_second / health.per_second if health.per_second else 0.0
    print(f"list/health = {ratio:.2f}")
    failures = health.failures + listing.failures
    if failures:
        print(f"error: {failures} requests did not answer 200", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
