"""Price quotes shown before a change that alters the bill (users, operators, options).

Pure: Decimal roubles (users) or integer kopecks (``quote_change``) in and out; no database, no
web framework. The ledger charges exactly what ``quote_change`` returns (billing.store calls the
same function), so the quote a person confirms is the charge that follows.

The manual shows «Ежемесячная плата увеличится на 63.54 ₽ … за первый день: 2.69 ₽», but
63.54 / 2.69 ≈ 23.6 matches neither a 30-day month nor any remaining-days count, so the sample
cannot be reproduced and we use the rule the finance section states for monthly fees
(pro-rated to the days left in the month):

- extra users = users beyond the tariff's included ones, before and after the change:
  ``extra(n) = max(0, n - users_included)``;
- ``monthly_delta = (extra(users_now + users_new) - extra(users_now)) × extra_user_monthly``;
- ``connection_fee = users_new × connection_fee_per_user`` (one-off);
- ``today_charge`` = today's share of the new monthly fee minus today's share of the old one.
  Monthly fees are accrued per day (billing.money.day_share: cumulative half-up rounding, so
  the days of a month add up to the fee exactly), and the ledger's sample rows («Заказ звонка
  Подключение −1.00», then «Абонентская плата −0.03») show that connecting charges the
  current day only; the following days are charged by the daily accrual.

Example: one extra user at 300.00 ₽ on 21 November (30 days) →
``today_charge = round(300 × 21/30) − round(300 × 20/30) = 10.00 ₽``. The connection fee is
charged in full at once. A decrease is not refunded for the current day (the manual's
«Отключение» rows are 0.00).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from server_stub.billing.money import Kopecks, day_share, parse_rub, to_decimal

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
    unit = parse_rub(to_kopecks(extra_user_monthly))
    extra_before = max(0, users_now - users_included)
    extra_after = max(0, users_now + users_new - users_included)
    quote = quote_change(
        unit * extra_before,
        unit * extra_after,
        parse_rub(to_kopecks(connection_fee)) * users_new,
        today,
    )
    return UserQuote(
        monthly_delta=to_decimal(quote.monthly_delta),
        connection_fee=to_decimal(quote.connection_fee),
        today_charge=to_decimal(quote.today_charge),
    )


@dataclass(frozen=True)
class ChangeQuote:
    """A change of one recurring fee, in kopecks: what the dialog shows and the ledger charges."""

    monthly_delta: Kopecks
    connection_fee: Kopecks
    today_charge: Kopecks

    @property
    def due_now(self) -> Kopecks:
        return self.connection_fee + self.today_charge


def quote_change(
    old_monthly: Kopecks, new_monthly: Kopecks, connection_fee: Kopecks, today: date
) -> ChangeQuote:
    for amount in (old_monthly, new_monthly, connection_fee):
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise TypeError("kopecks must be int, never float")
    today_charge = max(0, day_share(new_monthly, today) - day_share(old_monthly, today))
    return ChangeQuote(new_monthly - old_monthly, connection_fee, today_charge)
