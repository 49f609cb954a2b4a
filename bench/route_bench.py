"""Routing decisions per second on a large domain, beside a baseline measured in the same run.

Domain: 1,000 users, 50 groups, 200 numbers with 20 rules each (schedule and prefix
conditions; the matching rule is deep in the list, so most conditions are evaluated).
Baseline: the same loop doing only the lookups every decision starts with (the number and the
caller), so the ratio shows the engine's own cost on this machine, whatever its speed.

    .venv/bin/python bench/route_bench.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from server_stub.routing.config import (
    Algorithm,
    Condition,
    DomainCfg,
    ForwardRule,
    GroupCfg,
    Member,
    NumberCfg,
    Rule,
    Target,
    TargetKind,
    UserCfg,
)
from server_stub.routing.engine import Call, route

GOAL = 20_000
WEEK = {
    "working": [[d, "09:00", "18:00"] for d in range(5)],
    "extra": [{"name": "Обед", "intervals": [[d, "13:00", "14:00"] for d in range(5)]}],
}


def build_domain(rng: random.Random) -> DomainCfg:
    users = tuple(
        UserCfg(
            id=i,
            login=f"user{i}",
            extension=str(1000 + i),
            voicemail=i % 3 == 0,
            forwarding=(
                ForwardRule(priority=10, sip=True),
                ForwardRule(priority=20, number=f"+7916{i:07d}", schedule=WEEK),
            ),
            is_operator=i % 4 == 0,
        )
        for i in range(1, 1001)
    )
    algorithms = list(Algorithm)
    groups = tuple(
        GroupCfg(
            id=g,
            name=f"group{g}",
            extension=str(5000 + g),
            algorithm=algorithms[g % len(algorithms)],
            members=tuple(Member(rng.randint(1, 1000), rng.choice((10, 20))) for _ in range(10)),
            voicemail=True,
        )
        for g in range(1, 51)
    )
    numbers = []
    for n in range(200):
        rules = []
        for r in range(1, 20):
            rules.append(
                Rule(
                    r,
                    Target(TargetKind.GROUP, rng.randint(1, 50)),
                    Condition(
                        schedule=WEEK,
                        when=rng.choice(("working", "Обед")),
                        prefixes=(f"{300 + r}",),
                    ),
                )
            )
        rules.append(Rule(20, Target(TargetKind.USER, rng.randint(1, 1000))))
        numbers.append(NumberCfg(e164=f"+7495{1000000 + n:07d}", rules=tuple(rules)))
    return DomainCfg(
        id=1,
        name="big.pult",
        users=users,
        groups=groups,
        numbers=tuple(numbers),
        default_outgoing_number="+74951000000",
    )


def calls(rng: random.Random, cfg: DomainCfg, count: int) -> list[Call]:
    out = []
    for _ in range(count):
        kind = rng.random()
        if kind < 0.6:
            number = rng.choice(cfg.numbers).e164
            out.append(
                Call(
                    caller=f"+7{rng.choice(('343', '812', '495'))}{rng.randint(1000000, 9999999)}",
                    called=number,
                    source="trunk",
                )
            )
        elif kind < 0.9:
            out.append(
                Call(caller=str(rng.randint(1001, 2000)), called=str(rng.randint(1001, 2000)))
            )
        else:
            out.append(
                Call(
                    caller=str(rng.randint(1001, 2000)),
                    called=f"+7495{rng.randint(1000000, 9999999)}",
                )
            )
    return out


def run(seconds: float, fn: object, work: list[Call], cfg: DomainCfg, at: datetime) -> float:
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for call in work:
            fn(call, cfg, at)  # type: ignore[operator]
        done += len(work)
    return done / (time.perf_counter() - start)


def baseline(call: Call, cfg: DomainCfg, at: datetime) -> None:
    cfg.number(call.called) if call.source == "trunk" else cfg.user_by_extension(call.caller)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    rng = random.Random(42)
    cfg = build_domain(rng)
    work = calls(rng, cfg, 2000)
    at = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))
    moments = [at + timedelta(hours=h) for h in (0, 3, 10)]
    base = run(args.seconds, baseline, work, cfg, at)
    rates = [run(args.seconds / len(moments), route, work, cfg, m) for m in moments]
    rate = sum(rates) / len(rates)
    print(
        f"domain: {len(cfg.users)} users, {len(cfg.groups)} groups, "
        f"{len(cfg.numbers)} numbers x {len(cfg.numbers[0].rules)} rules"
    )
    print(f"baseline (lookups only): {base:,.0f} calls/s")
    print(f"routing decisions:       {rate:,.0f} decisions/s (one core; goal >= {GOAL:,})")
    print(f"decisions/baseline = {rate / base:.4f}")
    print(f"goal met: {'yes' if rate >= GOAL else 'NO'}")


if __name__ == "__main__":
    main()
