"""Scheduled billing work, as one function of ``now`` (testable without waiting).

``run_due_work`` should run about once a minute (the periodic debit of calls in progress needs
that granularity; the rest is idempotent: a day is charged once, a promised payment is debited
once, a warning is sent once until the balance recovers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server_stub.store import billing_calls, billing_ops
from server_stub.store.models import Domain


@dataclass
class WorkDone:
    domains_accrued: int = 0
    promised_debited: int = 0
    calls_to_cut: list[str] = field(default_factory=list)
    credit_warnings: list[tuple[int, str, int]] = field(default_factory=list)  # id, e-mail, limit


def run_due_work(session: Session, now: datetime) -> WorkDone:
    """Do everything that is due and commit; each domain's accrual is its own transaction."""
    done = WorkDone()
    ids = session.scalars(select(Domain.id).order_by(Domain.id)).all()
    for domain_id in ids:
        # Counting users syncs the bill with users created outside the billing hooks.
        billing_ops.users_changed(session, domain_id, now)
        billing_ops.operators_changed(session, domain_id, now)
        session.commit()
        done.domains_accrued += 1
    done.promised_debited = billing_ops.expire_promised(session, now)
    session.commit()
    done.calls_to_cut = billing_calls.debit_calls_in_progress(session, now)
    session.commit()
    warned = billing_ops.credit_warnings(session)
    done.credit_warnings = [(d.id, d.notification_email, limit) for d, limit in warned]
    session.commit()
    return done
