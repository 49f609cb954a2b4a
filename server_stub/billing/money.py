"""Money as whole kopecks (``int``): exact, fast, and never a float.

Roubles appear only at the edges, as ``Decimal`` or as two-decimal strings ("1234.56"); the
engine itself adds and compares integers. Rounding is always half-up, the way a bill reads.
"""

from __future__ import annotations

import calendar
from datetime import date
from decimal import Decimal, InvalidOperation

Kopecks = int


class MoneyError(ValueError):
    """A value that is not an exact amount of roubles and kopecks."""


def parse_rub(value: str | Decimal | int) -> Kopecks:
    """'123.45', Decimal('123.45') or 123 → kopecks; a fraction of a kopeck is refused."""
    if isinstance(value, bool) or not isinstance(value, str | Decimal | int):
        raise MoneyError("money must be a string, Decimal or int, never float")
    try:
        amount = Decimal(value) if not isinstance(value, Decimal) else value
    except InvalidOperation as exc:
        raise MoneyError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise MoneyError(f"not an amount: {value!r}")
    scaled = amount * 100
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"more than two decimals: {value!r}")
    return int(scaled)


def fmt_rub(kopecks: Kopecks) -> str:
    """12345 → '123.45', -5 → '-0.05' (JSON carries money as strings: no binary fractions)."""
    sign = "-" if kopecks < 0 else ""
    whole, part = divmod(abs(kopecks), 100)
    return f"{sign}{whole}.{part:02d}"


def to_decimal(kopecks: Kopecks) -> Decimal:
    return Decimal(kopecks).scaleb(-2)


def mul_div(amount: Kopecks, num: int, den: int) -> Kopecks:
    """``amount × num / den`` rounded half-up (away from zero on .5), in integers only."""
    if den <= 0:
        raise ValueError("denominator must be positive")
    product = amount * num
    sign = -1 if product < 0 else 1
    q, r = divmod(abs(product), den)
    if 2 * r >= den:
        q += 1
    return sign * q


def days_in_month(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def day_share(monthly: Kopecks, day: date) -> Kopecks:
    """Today's part of a monthly fee, so that the days of a month add up to the fee exactly.

    Cumulative rounding: ``round(M × d / D) − round(M × (d−1) / D)``; a plain ``M / D`` per day
    would leave or add a few kopecks at the end of every month.
    """
    total = days_in_month(day)
    return mul_div(monthly, day.day, total) - mul_div(monthly, day.day - 1, total)


def rest_of_month(monthly: Kopecks, day: date) -> Kopecks:
    """The fee for the days left in the month counting today (the sum of their day shares)."""
    total = days_in_month(day)
    return monthly - mul_div(monthly, day.day - 1, total)
