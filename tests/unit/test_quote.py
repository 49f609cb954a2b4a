"""The user price quote: Decimal kopecks computed by hand, half-up rounding, included users.

Today's charge is today's share of the monthly fee (monthly fees are accrued per day; see
server_stub/billing/quote.py), so each expected value below is round(M×d/D) − round(M×(d−1)/D).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from server_stub.billing.quote import days_left_including, kopecks_to_roubles, quote_users

FEE = Decimal("300.00")


def _quote(now: int, new: int, today: date, included: int = 10, **kw: Decimal) -> dict[str, str]:
    return quote_users(
        users_now=now,
        users_new=new,
        users_included=included,
        extra_user_monthly=kw.get("monthly", FEE),
        connection_fee=kw.get("connection", Decimal("0")),
        today=today,
    ).as_strings()


def test_one_extra_user_on_21_november_pays_one_thirtieth() -> None:
    # 300 × 21/30 − 300 × 20/30 = 210.00 − 200.00 = 10.00
    q = _quote(now=10, new=1, today=date(2026, 11, 21))
    assert q == {"monthly_delta": "300.00", "connection_fee": "0.00", "today_charge": "10.00"}


def test_users_within_the_included_ones_cost_nothing_monthly() -> None:
    q = _quote(now=3, new=5, today=date(2026, 11, 21), connection=Decimal("150.00"))
    assert q["monthly_delta"] == "0.00" and q["today_charge"] == "0.00"
    assert q["connection_fee"] == "750.00"  # 5 × 150, charged even for included users


def test_only_the_users_beyond_the_included_ones_are_billed() -> None:
    # 8 now + 5 new with 10 included: 3 extra × 300 = 900; 1 February: 900 / 28 = 32.142… → 32.14
    q = _quote(now=8, new=5, today=date(2026, 2, 1))
    assert q["monthly_delta"] == "900.00" and q["today_charge"] == "32.14"


def test_last_day_of_a_31_day_month_rounds_to_kopecks() -> None:
    # 900 − round(900 × 30/31 = 870.967…) = 900 − 870.97 = 29.03
    q = _quote(now=8, new=5, today=date(2026, 1, 31))
    assert q["today_charge"] == "29.03"


def test_today_charge_rounds_half_up_not_to_even() -> None:
    # 0.05 × 3/30 = 0.005 exactly: half-up gives 0.01 (banker's rounding 0.00); day 2 gave 0.00
    q = _quote(now=10, new=1, today=date(2026, 11, 3), monthly=Decimal("0.05"))
    assert q["today_charge"] == "0.01"


def test_leap_february_counts_29_days() -> None:
    assert days_left_including(date(2028, 2, 29)) == (1, 29)
    assert days_left_including(date(2027, 2, 1)) == (28, 28)
    # 300 − round(300 × 28/29 = 289.655…) = 300 − 289.66 = 10.34
    assert _quote(now=10, new=1, today=date(2028, 2, 29))["today_charge"] == "10.34"


def test_money_must_be_decimal() -> None:
    with pytest.raises(TypeError):
        quote_users(
            users_now=1,
            users_new=1,
            users_included=0,
            extra_user_monthly=300.0,  # type: ignore[arg-type]
            connection_fee=Decimal(0),
            today=date(2026, 11, 21),
        )


def test_kopecks_convert_exactly() -> None:
    assert kopecks_to_roubles(30000) == Decimal("300.00")
    assert kopecks_to_roubles(6354) == Decimal("63.54")
