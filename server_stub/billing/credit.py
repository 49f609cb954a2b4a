"""Credit limit (manual §6.1.2): the «Минимальный баланс» a credit domain may fall to.

The limit is stored as a positive magnitude: the balance may fall to ``−limit``. The checks
run in the order a person fixes them: the scheme, the block, then the amount.
"""

from __future__ import annotations

from dataclasses import dataclass

from server_stub.billing import texts
from server_stub.billing.account import Scheme
from server_stub.billing.money import Kopecks

MIN_LIMIT: Kopecks = 100_000
MAX_LIMIT: Kopecks = 50_000_000


@dataclass(frozen=True)
class Decision:
    refusal: texts.Msg | None
    scheme_after: Scheme  # unlimited switches to credit when a limit is set


def set_limit(scheme: Scheme, financially_blocked: bool, amount: Kopecks) -> Decision:
    if scheme == Scheme.ADVANCE:
        return Decision(texts.CREDIT_ONLY, scheme)
    if financially_blocked:
        return Decision(texts.CREDIT_WHILE_BLOCKED, scheme)
    if not MIN_LIMIT <= amount <= MAX_LIMIT:
        return Decision(texts.CREDIT_RANGE, scheme)
    return Decision(None, Scheme.CREDIT)
