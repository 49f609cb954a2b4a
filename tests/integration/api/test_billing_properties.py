"""Hypothesis on the database: whatever happens, the balance equals the sum of the ledger,
replayed CDRs never charge twice, and a service quote equals the charge that follows."""

from __future__ import annotations

import contextlib
import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server_stub.store import billing_calls, billing_ops, billing_work, provision
from server_stub.store.billing_ledger import Refusal
from server_stub.store.models import Domain, PaymentScheme
from server_stub.store.models_billing import LedgerEntry, RatedCall

START = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)
_names = itertools.count()

ops = st.lists(
    st.one_of(
        st.tuples(st.just("top_up"), st.integers(1, 500_000)),
        st.tuples(st.just("call"), st.integers(0, 5), st.integers(0, 4000)),
        st.tuples(
            st.just("service"),
            st.sampled_from(["recording", "fmc", "caller_id"]),
            st.integers(0, 4),
        ),
        st.tuples(st.just("promised"), st.integers(4_000, 600_000)),
        st.tuples(st.just("hours"), st.integers(1, 60)),
    ),
    max_size=14,
)


def _ledger_ok(db: Session, domain_id: int) -> None:
    db.expire_all()
    entries = db.scalars(
        select(LedgerEntry).where(LedgerEntry.domain_id == domain_id).order_by(LedgerEntry.id)
    ).all()
    running = 0
    for e in entries:
        running += e.amount_kopecks
        assert e.balance_after_kopecks == running
    domain = db.get(Domain, domain_id)
    assert domain is not None and domain.balance_kopecks == running


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=ops, scheme=st.sampled_from(list(PaymentScheme)))
def test_balance_is_the_sum_of_the_ledger(
    db: Session, steps: list[tuple], scheme: PaymentScheme
) -> None:  # type: ignore[type-arg]
    domain = provision.create_domain(db, f"p{next(_names)}.test")
    domain.payment_scheme = scheme
    db.commit()
    now = START
    for step in steps:
        kind = step[0]
        try:
            if kind == "top_up":
                billing_ops.top_up(db, domain.id, step[1], now)
            elif kind == "call":
                # call ids repeat on purpose: a replay must not charge again
                billing_calls.rate_call(
                    db,
                    domain.id,
                    f"{domain.id}-{step[1]}",
                    "mobile",
                    "+79161234567",
                    now,
                    step[2],
                    now=now,
                )
            elif kind == "service":
                if step[2]:
                    before = billing_ops.quote_service(db, domain.id, step[1], step[2], now)
                    n = db.scalar(select(func.max(LedgerEntry.id))) or 0
                    quote, _ = billing_ops.set_service(db, domain.id, step[1], step[2], now)
                    assert quote == before
                    db.flush()
                    charged = -sum(
                        db.scalars(
                            select(LedgerEntry.amount_kopecks).where(
                                LedgerEntry.id > n, LedgerEntry.code == step[1]
                            )
                        ).all()
                    )
                    assert charged == quote.due_now
                else:
                    with contextlib.suppress(LookupError):
                        billing_ops.disable_service(db, domain.id, step[1], now)
            elif kind == "promised":
                billing_ops.take_promised(db, domain.id, step[1], now)
            else:
                now += timedelta(hours=step[1])
                db.commit()
                billing_work.run_due_work(db, now)
            db.commit()
        except Refusal:
            db.rollback()
        _ledger_ok(db, domain.id)
    calls = (
        db.scalar(
            select(func.count()).select_from(RatedCall).where(RatedCall.domain_id == domain.id)
        )
        or 0
    )
    charged_calls = (
        db.scalar(
            select(func.count(func.distinct(LedgerEntry.ref))).where(
                LedgerEntry.domain_id == domain.id, LedgerEntry.kind == "call"
            )
        )
        or 0
    )
    entries = (
        db.scalar(
            select(func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.domain_id == domain.id, LedgerEntry.kind == "call")
        )
        or 0
    )
    assert entries == charged_calls <= calls  # one entry per charged call id, at most
