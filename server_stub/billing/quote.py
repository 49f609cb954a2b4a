"""Price quote shown before users are created (one user or a bulk import).

Pure: Decimal roubles in, Decimal roubles out; no database, no web framework.

The manual shows «Ежемесячная плата увеличится на 63.54 ₽ … за первый день: 2.69 ₽», but
63.54 / 2.69 ≈ 23.6 matches neither a 30-day month nor any remaining-days count, so the sample
cannot be reproduced and we use the rule the finance section states for monthly fees
(pro-rated to the days left in the month):

- extra users = users beyond the tariff's included ones, before and after the change:
  ``extra(n) = max(0, n - users_included)``;
- ``monthly_delta = (extra(users_now + users_new) - extra(users_now)) × extra_user_monthly``;
- ``connection_fee = users_new × connection_fee_per_user`` (one-off);
- ``today_charge = monthly_delta × days_left / days_in_month`` where ``days_left`` counts the
  remaining days of the month *including today*, rounded half-up to kopecks.

Example: one extra user at 300.00 ₽ on 21 November (30 days; 21..30 = 10 days left) →
``today_charge = 300 × 10 / 30 = 100.00 ₽``. The connection fee is charged in full at once.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

KOPECK = Decimal("0.01")


def kopecks_to_roubles(kopecks: int) -> Decimal:
    return (Decimal(kopecks) / 100).quantize(KOPECK)


def to_kopecks(amount: Decimal) -> Decimal:
    """Round half-up to whole kopecks (the way a bill shows money)."""
    return amount.quantize(KOPECK, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class UserQuote:
    monthly_delta: Decimal
    connection_fee: Decimal
    today_charge: Decimal

    def as_strings(self) -> dict[str, str]:
        """Two-decimal strings (JSON has no decimal type and floats would lose kopecks)."""
        return {
            "monthly_delta": f"{self.monthly_delta:.2f}",
            "connection_fee": f"{self.connection_fee:.2f}",
            "today_charge": f"{self.today_charge:.2f}",
        }


def days_left_including(today: date) -> tuple[int, int]:
    """(days left in the month counting today, days in the month)."""
    days_in_month = calendar.monthrange(today.year, today.month)[1]
    return days_in_month - today.day + 1, days_in_month


def quote_users(
    *,
    users_now: int,
    users_new: int,
    users_included: int,
    extra_user_monthly: Decimal,
    connection_fee: Decimal,
    today: date,
) -> UserQuote:
    """What adding ``users_new`` users costs; see the module docstring for the formula."""
    if users_now < 0 or users_new < 0 or users_included < 0:
        raise ValueError("user counts cannot be negative")
    for amount in (extra_user_monthly, connection_fee):
        if not isinstance(amount, Decimal):
            raise TypeError("money must be Decimal, never float")
    extra_before = max(0, users_now - users_included)
    extra_after = max(0, users_now + users_new - users_included)
    monthly = to_kopecks(extra_user_monthly * (extra_after - extra_before))
    days_left, days_in_month = days_left_including(today)
    today_charge = to_kopecks(monthly * days_left / days_in_month)
    return UserQuote(
        monthly_delta=monthly,
        connection_fee=to_kopecks(connection_fee * users_new),
        today_charge=today_charge,
    )
