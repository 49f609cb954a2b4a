"""Billing throughput in-process, each beside a baseline measured in the same run.

1. CDR rating: 200,000 finished calls (mixed directions, 8 % free, random durations) are rated
   against the default rate table and posted to an in-memory running balance per domain.
   Baseline: the same loop only reading each CDR's fields. Goal: ≥ 50,000 CDRs/s per core.
2. Month close for 10,000 users (1,000 domains × 10 users, each with a base fee, extra users,
   operators and two per-user options): every day's fee shares of the month for every line,
   the ledger posting and the month statement per domain. Baseline: reading the same lines for
   every day. Goal: ≤ 2 s.

    .venv/bin/python bench/billing_bench.py
"""

from __future__ import annotations

import random
import time
from datetime import date, timedelta

from server_stub.billing.account import Line, day_charges
from server_stub.billing.money import days_in_month
from server_stub.billing.rating import RateTable, rate_call
from server_stub.billing.tariff import DEFAULT_TARIFF

CDRS = 200_000
DOMAINS = 1_000
USERS_PER_DOMAIN = 10
CDR_GOAL = 50_000
CLOSE_GOAL_S = 2


def _cdrs(rng: random.Random) -> list[tuple[int, str, str, int]]:
    kinds = [
        ("mobile", "+7916{:07d}"),
        ("long_distance", "+7812{:07d}"),
        ("local", "+7495{:07d}"),
        ("international", "+44207{:07d}"),
        ("internal", "1{:04d}"),
    ]
    out = []
    for i in range(CDRS):
        direction, pattern = kinds[i % 5] if i % 12 else kinds[4]
        number = pattern.format(rng.randrange(10**7) if "{:07d}" in pattern else i % 10_000)
        out.append((rng.randrange(DOMAINS), direction, number, rng.randrange(0, 1800)))
    return out


def bench_rating(cdrs: list[tuple[int, str, str, int]]) -> tuple[float, float]:
    table = RateTable(DEFAULT_TARIFF.rates)
    balances = [0] * DOMAINS
    t0 = time.perf_counter()
    seen = 0
    for domain, direction, number, seconds in cdrs:
        seen += seconds + len(number) + len(direction) + domain
    base = time.perf_counter() - t0
    t0 = time.perf_counter()
    for domain, direction, number, seconds in cdrs:
        balances[domain] -= rate_call(table, direction, number, seconds).amount
    work = time.perf_counter() - t0
    assert seen and sum(balances) < 0
    return CDRS / base, CDRS / work


def _lines(d: int) -> list[Line]:
    return [
        Line("vpbx", "АТС", "PBX", 1, 130000),
        Line("extra_user", "Пользователь", "User", d % 4, 30000),
        Line("operator", "Оператор", "Operator", d % 3, 25000),
        Line("recording", "Запись", "Recording", USERS_PER_DOMAIN // 2, 7000),
        Line("fmc", "FMC", "FMC", d % USERS_PER_DOMAIN, 8333),
    ]


def bench_month_close(month: date) -> tuple[float, float]:
    domains = [_lines(d) for d in range(DOMAINS)]
    days = [month + timedelta(n) for n in range(days_in_month(month))]
    t0 = time.perf_counter()
    touched = 0
    for lines in domains:
        for _day in days:
            for line in lines:
                touched += line.quantity
    base = time.perf_counter() - t0
    t0 = time.perf_counter()
    closing = []
    for lines in domains:
        balance = opening = 1_000_000
        spend = 0
        for day in days:
            for _line, amount in day_charges(lines, day):
                balance -= amount  # the posting: one ledger row with its running balance
                spend += amount
        assert opening - spend == balance  # the statement identity
        assert spend == sum(line.monthly for line in lines)  # day shares add up exactly
        closing.append(balance)
    work = time.perf_counter() - t0
    assert touched and len(closing) == DOMAINS
    return base, work


def main() -> None:
    rng = random.Random(7)
    cdrs = _cdrs(rng)
    base_rate, rate = bench_rating(cdrs)
    print(
        f"CDR rating: {rate:,.0f} CDRs/s (goal ≥ {CDR_GOAL:,}); "
        f"baseline reading the same rows: {base_rate:,.0f} rows/s; "
        f"{'OK' if rate >= CDR_GOAL else 'BELOW GOAL'}"
    )
    base, work = bench_month_close(date(2026, 1, 1))
    users = DOMAINS * USERS_PER_DOMAIN
    print(
        f"Month close, {users:,} users ({DOMAINS:,} domains, 31 days): {work:.3f} s "
        f"(goal ≤ {CLOSE_GOAL_S} s); baseline reading the same lines: {base:.3f} s; "
        f"{'OK' if work <= CLOSE_GOAL_S else 'ABOVE GOAL'}"
    )


if __name__ == "__main__":
    main()
