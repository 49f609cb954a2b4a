"""Call authorisation: may this domain start this paid call now? Each refusal has its reason.

Checks, in order: the block, money (the first billed increment must fit above the scheme's
floor), the daily spend cap and the number of simultaneous paid calls (the last two guard
against toll fraud: a stolen SIP password dialling premium numbers all night).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from server_stub.billing import texts
from server_stub.billing.account import Scheme, floor
from server_stub.billing.money import Kopecks
from server_stub.billing.rating import RateTable, first_unit_cost
from server_stub.billing.tariff import FREE_DIRECTIONS


@dataclass(frozen=True)
class AuthState:
    scheme: Scheme
    balance: Kopecks
    credit_limit: Kopecks | None
    block: str  # "none" | "financial" | "administrative"
    rates: RateTable
    spent_today: Kopecks = 0
    spent_on: date | None = None  # the day spent_today belongs to
    daily_cap: Kopecks | None = None
    paid_calls_now: int = 0
    concurrent_cap: int | None = None


def authorize(state: AuthState, direction: str, number: str, now: datetime) -> texts.Msg | None:
    if direction in FREE_DIRECTIONS:
        return None
    if state.block == "administrative":
        return texts.BLOCKED_ADMINISTRATIVE
    if state.block == "financial":
        return texts.BLOCKED_FINANCIAL
    cost = first_unit_cost(state.rates, direction, number)
    if cost is None:
        return texts.NO_RATE
    low = floor(state.scheme, state.credit_limit)
    if low is not None and state.balance - max(cost, 1) < low:
        return texts.NO_MONEY if state.scheme == Scheme.ADVANCE else texts.CREDIT_LIMIT_REACHED
    spent = state.spent_today if state.spent_on == now.date() else 0
    if state.daily_cap is not None and spent + cost > state.daily_cap:
        return texts.DAILY_CAP
    if state.concurrent_cap is not None and state.paid_calls_now >= state.concurrent_cap:
        return texts.CONCURRENT_CAP
    return None
