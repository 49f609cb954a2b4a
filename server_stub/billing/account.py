"""Ledger rules: payment schemes, the lowest balance allowed, blocking and unblocking.

Decisions (the manual leaves them open):
- advance: the balance may not go below zero for anything the customer chooses (a service,
  a call); fees that are owed anyway (the promised payment at expiry, the last seconds of a
  call) may take it below zero.
- credit: the same with the floor at ``−credit_limit``; a credit domain with no limit set
  has no floor (it behaves like unlimited until a limit is set).
- unlimited: no floor, never financially blocked.
- daily fees are charged at the start of each day (in advance). An advance domain whose
  balance cannot cover the day is financially blocked instead and is not charged while
  blocked; a credit domain is charged and blocked when the balance reaches the limit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from server_stub.billing.money import Kopecks, day_share


class Scheme(StrEnum):
    ADVANCE = "advance"
    CREDIT = "credit"
    UNLIMITED = "unlimited"


@dataclass(frozen=True)
class Line:
    """One recurring fee of a domain: ``quantity × unit`` per month."""

    code: str
    name_ru: str
    name_en: str
    quantity: int
    unit_monthly: Kopecks

    @property
    def monthly(self) -> Kopecks:
        return self.quantity * self.unit_monthly


def floor(scheme: Scheme, credit_limit: Kopecks | None) -> Kopecks | None:
    """The lowest balance a chosen spend may leave (None: no floor)."""
    if scheme == Scheme.ADVANCE:
        return 0
    if scheme == Scheme.CREDIT and credit_limit is not None:
        return -credit_limit
    return None


def can_spend(
    scheme: Scheme, balance: Kopecks, credit_limit: Kopecks | None, amount: Kopecks
) -> bool:
    low = floor(scheme, credit_limit)
    return low is None or balance - amount >= low


def day_charges(lines: Iterable[Line], day: date) -> list[tuple[Line, Kopecks]]:
    """The day's share of every recurring fee (lines costing nothing are left out)."""
    out = []
    for line in lines:
        amount = day_share(line.monthly, day)
        if amount:
            out.append((line, amount))
    return out


class DayOutcome(StrEnum):
    CHARGE = "charge"  # debit the day's fees
    CHARGE_AND_BLOCK = "charge_and_block"  # credit: debit, then the limit is reached
    BLOCK = "block"  # advance: not enough money; block, charge nothing
    SKIP = "skip"  # already blocked: service suspended, nothing charged


def day_outcome(
    scheme: Scheme, balance: Kopecks, credit_limit: Kopecks | None, blocked: bool, total: Kopecks
) -> DayOutcome:
    if scheme == Scheme.UNLIMITED:
        return DayOutcome.CHARGE
    if blocked:
        return DayOutcome.SKIP
    if scheme == Scheme.ADVANCE:
        return DayOutcome.CHARGE if balance >= total else DayOutcome.BLOCK
    if credit_limit is not None and balance - total <= -credit_limit:
        return DayOutcome.CHARGE_AND_BLOCK
    return DayOutcome.CHARGE


def may_unblock(
    scheme: Scheme, balance: Kopecks, credit_limit: Kopecks | None, today_total: Kopecks
) -> bool:
    """A financially blocked domain is unblocked once it can pay today's fees (after a top-up)."""
    if scheme == Scheme.UNLIMITED:
        return True
    if scheme == Scheme.ADVANCE:
        return balance >= today_total
    low = -credit_limit if credit_limit is not None else None
    return low is None or balance - today_total > low


def credit_warning_due(balance: Kopecks, credit_limit: Kopecks) -> bool:
    """«Приближение к пределу»: 90 % of the limit used (the manual gives no threshold)."""
    return balance <= -(credit_limit * 9 // 10)
