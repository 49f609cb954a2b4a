"""Calls and money: rating a finished call once, debiting calls in progress, re-rating.

``rate_call`` is idempotent by call id: the rated-calls row (primary key ``call_id``) and the
ledger entry are written in one transaction under the domain lock, so a replayed or concurrent
CDR event finds the row and charges nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from server_stub.billing import rating
from server_stub.billing.account import floor
from server_stub.billing.authorize import AuthState
from server_stub.billing.rating import RateTable
from server_stub.store import billing_ledger as L
from server_stub.store.models import Domain
from server_stub.store.models_billing import ActiveCall, BillingAccount, LedgerEntry, RatedCall


@dataclass(frozen=True)
class CallCharge:
    call_id: str
    amount: int  # the whole call's price
    billed_seconds: int
    charged_now: int  # what this request debited (0 on a replay)
    replay: bool


def _describe(direction: str, number: str) -> tuple[str, str]:
    names = {
        "local": ("Местный вызов", "Local call"),
        "long_distance": ("Междугородный вызов", "Long-distance call"),
        "mobile": ("Вызов на мобильный", "Mobile call"),
        "international": ("Международный вызов", "International call"),
    }
    ru, en = names.get(direction, ("Вызов", "Call"))
    return f"{ru} {number}", f"{en} {number}"


def rate_call(
    session: Session,
    domain_id: int,
    call_id: str,
    direction: str,
    number: str,
    answered_at: datetime,
    duration_seconds: int,
    *,
    user_id: int | None = None,
    now: datetime | None = None,
    rates: RateTable | None = None,
) -> CallCharge:
    """Charge one finished call exactly once (the caller commits)."""
    now = now or datetime.now(answered_at.tzinfo)
    domain = L.lock_domain(session, domain_id)
    seen = session.get(RatedCall, call_id)
    if seen is not None:
        if seen.domain_id != domain_id:
            # Call ids are unique across the platform: the same id for another domain is an
            # error of the sender, not a replay (and must not hide an unbilled call).
            raise L.Refusal(
                "call_id_taken",
                (
                    "Вызов с таким идентификатором уже тарифицирован в другом домене",
                    "A call with this id was already rated for another domain",
                ),
                field="call_id",
            )
        return CallCharge(call_id, seen.amount_kopecks, seen.billed_seconds, 0, True)
    acc = L.account(session, domain)
    table = rates or L.rate_table(session, L.tariff_of(acc))
    try:
        rated = rating.rate_call(table, direction, number, duration_seconds)
    except rating.NoRate:
        rated = rating.FREE  # routing refuses unrated numbers; a CDR that slipped through is free
    active = session.get(ActiveCall, call_id)
    already = active.debited_kopecks if active is not None else 0
    due = rated.amount - already
    if due:
        ru, en = _describe(direction, number)
        L.post(
            session,
            domain,
            amount=-due,
            code="call",
            kind="call",
            ru=ru,
            en=en,
            at=now,
            quantity=rated.billed_seconds,
            ref=f"call:{call_id}",
        )
    if active is not None:
        session.delete(active)
    session.add(
        RatedCall(
            call_id=call_id,
            domain_id=domain_id,
            user_id=user_id,
            direction=direction,
            number=number,
            answered_at=answered_at,
            duration_seconds=max(0, duration_seconds),
            billed_seconds=rated.billed_seconds,
            amount_kopecks=rated.amount,
            rated_at=now,
        )
    )
    session.flush()
    return CallCharge(call_id, rated.amount, rated.billed_seconds, due, False)


def rate_call_once(session: Session, *args: object, **kwargs: object) -> CallCharge:
    """``rate_call`` and commit; a concurrent writer of the same call id wins and we replay."""
    for attempt in range(3):
        try:
            charge = rate_call(session, *args, **kwargs)  # type: ignore[arg-type]
            session.commit()
            return charge
        except (IntegrityError, OperationalError):
            session.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def call_started(
    session: Session,
    domain_id: int,
    call_id: str,
    direction: str,
    number: str,
    answered_at: datetime,
) -> None:
    """Register a paid call in progress (for periodic debit and the concurrent-call cap)."""
    if session.get(ActiveCall, call_id) is None and session.get(RatedCall, call_id) is None:
        session.add(
            ActiveCall(
                call_id=call_id,
                domain_id=domain_id,
                direction=direction,
                number=number,
                answered_at=answered_at,
                debited_kopecks=0,
            )
        )
        session.flush()


def debit_calls_in_progress(session: Session, now: datetime) -> list[str]:
    """Debit what each paid call has used so far; returns the calls to cut (money ran out).

    A call is cut when the balance, after paying for the time used, cannot pay the next
    increment above the scheme's floor.
    """
    cut: list[str] = []
    calls = session.scalars(select(ActiveCall).order_by(ActiveCall.domain_id)).all()
    tables: dict[int, RateTable] = {}
    for call in calls:
        domain = L.lock_domain(session, call.domain_id)
        acc = L.account(session, domain)
        table = tables.get(domain.id) or L.rate_table(session, L.tariff_of(acc))
        tables[domain.id] = table
        elapsed = int((now - call.answered_at).total_seconds())
        try:
            used = rating.rate_call(table, call.direction, call.number, elapsed).amount
        except rating.NoRate:
            continue
        due = used - call.debited_kopecks
        if due > 0:
            ru, en = _describe(call.direction, call.number)
            L.post(
                session,
                domain,
                amount=-due,
                code="call",
                kind="call",
                ru=ru,
                en=en,
                at=now,
                quantity=elapsed,
                ref=f"call:{call.call_id}:progress",
            )
            call.debited_kopecks = used
        low = floor(L.scheme(domain), acc.credit_limit_kopecks)
        next_unit = rating.first_unit_cost(table, call.direction, call.number) or 0
        if low is not None and domain.balance_kopecks - next_unit < low:
            cut.append(call.call_id)
    session.flush()
    return cut


def _day_start(domain: Domain, now: datetime) -> datetime:
    zone = ZoneInfo(domain.timezone)
    local = now.astimezone(zone)
    return datetime.combine(local.date(), time(0), zone)


def auth_state(session: Session, domain_id: int, now: datetime) -> AuthState:
    """What ``billing.authorize`` needs, read from the database (no lock: a snapshot)."""
    domain = session.get(Domain, domain_id)
    if domain is None:
        raise LookupError(domain_id)
    acc = session.get(BillingAccount, domain_id) or BillingAccount(tariff_code="default")
    start = _day_start(domain, now)
    spent = -int(
        session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount_kopecks), 0)).where(
                LedgerEntry.domain_id == domain_id,
                LedgerEntry.kind == "call",
                LedgerEntry.at >= start,
            )
        )
        or 0
    )
    calls = int(
        session.scalar(
            select(func.count()).select_from(ActiveCall).where(ActiveCall.domain_id == domain_id)
        )
        or 0
    )
    return AuthState(
        scheme=L.scheme(domain),
        balance=domain.balance_kopecks,
        credit_limit=acc.credit_limit_kopecks,
        block=domain.block_state.value,
        rates=L.rate_table(session, L.tariff_of(acc)),
        spent_today=spent,
        spent_on=now.astimezone(ZoneInfo(domain.timezone)).date(),
        daily_cap=acc.daily_cap_kopecks,
        paid_calls_now=calls,
        concurrent_cap=acc.concurrent_cap,
    )


# --- re-rating -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rerate:
    calls: int
    changed: int
    old_total: int
    new_total: int

    @property
    def difference(self) -> int:
        return self.new_total - self.old_total


def rerate(
    session: Session,
    domain_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    apply: bool,
) -> Rerate:
    """Price the period's calls with the current rates; with ``apply`` post the differences."""
    domain = L.lock_domain(session, domain_id) if apply else session.get(Domain, domain_id)
    assert domain is not None
    acc = (
        L.account(session, domain)
        if apply
        else (session.get(BillingAccount, domain_id) or BillingAccount(tariff_code="default"))
    )
    table = L.rate_table(session, L.tariff_of(acc))
    calls = session.scalars(
        select(RatedCall)
        .where(
            RatedCall.domain_id == domain_id,
            RatedCall.answered_at >= start,
            RatedCall.answered_at < end,
        )
        .order_by(RatedCall.answered_at)
    ).all()
    old = new = changed = 0
    for call in calls:
        try:
            rated = rating.rate_call(table, call.direction, call.number, call.duration_seconds)
        except rating.NoRate:
            rated = rating.FREE
        old += call.amount_kopecks
        new += rated.amount
        if rated.amount != call.amount_kopecks:
            changed += 1
            if apply:
                ru, en = _describe(call.direction, call.number)
                L.post(
                    session,
                    domain,
                    amount=call.amount_kopecks - rated.amount,
                    code="call",
                    kind="rerate",
                    ru=f"Перерасчёт: {ru}",
                    en=f"Re-rating: {en}",
                    at=now,
                    quantity=rated.billed_seconds,
                    ref=f"rerate:{call.call_id}",
                )
                call.amount_kopecks = rated.amount
                call.billed_seconds = rated.billed_seconds
    if apply:
        session.flush()
    return Rerate(len(calls), changed, old, new)
