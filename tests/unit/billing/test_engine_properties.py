"""Hypothesis properties of the pure billing engine (money, day shares, rating, quotes)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server_stub.billing.account import Line, day_charges
from server_stub.billing.money import (
    MoneyError,
    day_share,
    days_in_month,
    fmt_rub,
    mul_div,
    parse_rub,
    rest_of_month,
)
from server_stub.billing.quote import quote_change
from server_stub.billing.rating import FREE, NoRate, RateTable, rate_call
from server_stub.billing.tariff import DEFAULT_TARIFF, Rate

kopecks = st.integers(min_value=-(10**12), max_value=10**12)
fees = st.integers(min_value=0, max_value=10**9)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


@given(kopecks)
def test_format_and_parse_are_inverse(k: int) -> None:
    assert parse_rub(fmt_rub(k)) == k


def test_parse_refuses_floats_and_fractions_of_a_kopeck() -> None:
    with pytest.raises(MoneyError):
        parse_rub(1.5)  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        parse_rub("1.005")
    assert parse_rub(Decimal("-0.05")) == -5


@given(kopecks, st.integers(0, 10**6), st.integers(1, 10**6))
def test_mul_div_is_half_up_exact(a: int, num: int, den: int) -> None:
    exact = Decimal(a) * num / den
    got = mul_div(a, num, den)
    assert abs(Decimal(got) - exact) <= Decimal("0.5")
    if abs(Decimal(got) - exact) == Decimal("0.5"):
        assert abs(got) > abs(exact)  # ties go away from zero


@given(fees, days)
def test_day_shares_of_a_month_add_up_to_the_fee(monthly: int, day: date) -> None:
    first = day.replace(day=1)
    total = sum(day_share(monthly, first + timedelta(d)) for d in range(days_in_month(day)))
    assert total == monthly


@given(fees, days)
def test_rest_of_month_is_the_sum_of_the_remaining_day_shares(monthly: int, day: date) -> None:
    remaining = range(day.day, days_in_month(day) + 1)
    assert rest_of_month(monthly, day) == sum(
        day_share(monthly, day.replace(day=d)) for d in remaining
    )


@given(st.lists(st.tuples(st.integers(0, 50), fees), max_size=8), days)
def test_day_charges_are_the_lines_day_shares(items: list[tuple[int, int]], day: date) -> None:
    lines = [Line(f"c{i}", "x", "x", q, u) for i, (q, u) in enumerate(items)]
    charged = dict((line.code, amount) for line, amount in day_charges(lines, day))
    for line in lines:
        assert charged.get(line.code, 0) == day_share(line.monthly, day)


@given(fees, fees, fees, days)
def test_quote_today_is_the_increase_of_todays_share(
    old: int, new: int, conn: int, day: date
) -> None:
    q = quote_change(old, new, conn, day)
    assert q.monthly_delta == new - old
    assert q.today_charge == max(0, day_share(new, day) - day_share(old, day))
    assert q.due_now == conn + q.today_charge


def test_quote_refuses_float() -> None:
    with pytest.raises(TypeError):
        quote_change(0, 100.0, 0, date(2026, 1, 1))  # type: ignore[arg-type]


TABLE = RateTable(DEFAULT_TARIFF.rates)


@given(
    st.sampled_from(["internal", "inter_domain", "private_route", "toll_free"]),
    st.integers(0, 10**5),
)
def test_free_directions_cost_nothing(direction: str, seconds: int) -> None:
    assert rate_call(TABLE, direction, "+74951234567", seconds) == FREE


@given(st.integers(1, 10**5), st.integers(1, 600), st.integers(0, 600), st.integers(0, 10**4))
def test_billed_time_covers_the_call_in_whole_increments(
    seconds: int, increment: int, minimum: int, price: int
) -> None:
    table = RateTable([Rate("7", price, increment, minimum)])
    rated = rate_call(table, "mobile", "+79161234567", seconds)
    assert rated.billed_seconds >= max(seconds, minimum)
    assert rated.billed_seconds == minimum or rated.billed_seconds % increment == 0
    assert rated.billed_seconds - seconds < increment or rated.billed_seconds == minimum
    assert rated.amount == mul_div(price, rated.billed_seconds, 60)


def test_longest_prefix_and_direction_win() -> None:
    table = RateTable([Rate("7", 250), Rate("79", 190, direction="mobile"), Rate("7916", 100)])
    assert table.find("mobile", "+79161112233").prefix == "7916"  # type: ignore[union-attr]
    assert table.find("mobile", "+79261112233").prefix == "79"  # type: ignore[union-attr]
    assert table.find("long_distance", "+79261112233").prefix == "7"  # type: ignore[union-attr]


def test_an_unrated_paid_number_is_refused_not_free() -> None:
    with pytest.raises(NoRate):
        rate_call(RateTable([Rate("7", 100)]), "international", "+441234567890", 60)


def test_a_65_second_mobile_call_is_two_minutes() -> None:
    rated = rate_call(TABLE, "mobile", "+79161234567", 65)
    assert (rated.billed_seconds, rated.amount) == (120, 380)
