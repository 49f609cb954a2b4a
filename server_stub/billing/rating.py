"""Call rating: the price of one answered call from the rate table.

The number's digits are matched against the table's prefixes, longest first; a rate for the
call's own direction beats a direction-less one of the same length. The billed time is the
duration rounded up to the rate's increment, but at least its minimum.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from server_stub.billing.money import Kopecks, mul_div
from server_stub.billing.tariff import FREE_DIRECTIONS, Rate


@dataclass(frozen=True)
class Rated:
    amount: Kopecks
    billed_seconds: int
    prefix: str | None  # None: a free call (no rate applied)


FREE = Rated(0, 0, None)


class NoRate(LookupError):
    """A paid call whose number matches no rate: refused rather than given away."""


class RateTable:
    def __init__(self, rates: Iterable[Rate]) -> None:
        self._rates: dict[tuple[str | None, str], Rate] = {}
        for rate in rates:
            self._rates[(rate.direction, rate.prefix)] = rate
        self._max = max((len(p) for _, p in self._rates), default=0)

    def find(self, direction: str, number: str) -> Rate | None:
        digits = number[1:] if number.startswith("+") else number
        rates = self._rates
        for length in range(min(len(digits), self._max), -1, -1):
            prefix = digits[:length]
            rate = rates.get((direction, prefix)) or rates.get((None, prefix))
            if rate is not None:
                return rate
        return None


def billed_seconds(rate: Rate, duration: int) -> int:
    if duration <= 0:
        return 0
    increments = -(-duration // rate.increment)
    return max(rate.minimum, increments * rate.increment)


def rate_call(table: RateTable, direction: str, number: str, duration: int) -> Rated:
    if direction in FREE_DIRECTIONS or duration <= 0:
        return FREE
    rate = table.find(direction, number)
    if rate is None:
        raise NoRate(number)
    seconds = billed_seconds(rate, duration)
    return Rated(mul_div(rate.per_minute, seconds, 60), seconds, rate.prefix)


def first_unit_cost(table: RateTable, direction: str, number: str) -> Kopecks | None:
    """What the first billed increment costs (None: no rate) — the least a call needs."""
    if direction in FREE_DIRECTIONS:
        return 0
    rate = table.find(direction, number)
    if rate is None:
        return None
    return mul_div(rate.per_minute, max(rate.minimum, rate.increment), 60)
