"""Promised payment (manual §6.1.1): who may take one, how much, and when it may be repeated.

- advance scheme only; any balance state, blocked included;
- 50 – 5 000 ₽; the balance grows by the amount; the term is 5 days, after which the amount
  is debited whatever the balance;
- a new one only after top-ups (payments other than promised ones) since the previous one
  was given add up to at least its amount;
- on a financially blocked domain the balance after the payment must cover the monthly fee
  pro-rated to the days left in the month (decision: ``balance + amount``, because money
  already owed cannot unblock anything).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from server_stub.billing import texts
from server_stub.billing.account import Scheme
from server_stub.billing.money import Kopecks

MIN_AMOUNT: Kopecks = 5_000
MAX_AMOUNT: Kopecks = 500_000
TERM = timedelta(days=5)


@dataclass(frozen=True)
class Previous:
    created_at: datetime
    amount: Kopecks
    topped_up_since: Kopecks

    @property
    def closed(self) -> bool:
        return self.topped_up_since >= self.amount


def refusal(
    *,
    scheme: Scheme,
    amount: Kopecks,
    previous: Previous | None,
    blocked: bool,
    balance: Kopecks,
    rest_of_month_fee: Kopecks,
    tz: tzinfo,
) -> texts.Msg | None:
    if scheme != Scheme.ADVANCE:
        return texts.PROMISED_ADVANCE_ONLY
    if not MIN_AMOUNT <= amount <= MAX_AMOUNT:
        return texts.PROMISED_RANGE
    if previous is not None and not previous.closed:
        return texts.promised_not_closed(previous.created_at.astimezone(tz), previous.amount)
    if blocked and balance + amount < rest_of_month_fee:
        return texts.PROMISED_TOO_SMALL_WHILE_BLOCKED
    return None


def expires_at(created_at: datetime) -> datetime:
    return created_at + TERM
