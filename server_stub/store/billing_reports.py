"""Read-only billing views: the month statement, ledger and payment pages, the dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, desc, func, select
from sqlalchemy.orm import Session

from server_stub.store.models import Domain, User
from server_stub.store.models_billing import LedgerEntry, Payment, RatedCall


@dataclass(frozen=True)
class Statement:
    opening: int
    income: int
    spend: int
    spend_today: int
    current: int


def month_start(domain: Domain, now: datetime) -> datetime:
    zone = ZoneInfo(domain.timezone)
    local = now.astimezone(zone)
    return datetime.combine(local.date().replace(day=1), time(0), zone)


def day_start(domain: Domain, now: datetime) -> datetime:
    zone = ZoneInfo(domain.timezone)
    return datetime.combine(now.astimezone(zone).date(), time(0), zone)


def _sum(session: Session, stmt: Select[Any]) -> int:
    return int(session.scalar(stmt) or 0)


def statement(session: Session, domain: Domain, now: datetime) -> Statement:
    """start + income − spend = current, as in the manual's samples."""
    start = month_start(domain, now)
    base = select(func.coalesce(func.sum(LedgerEntry.amount_kopecks), 0)).where(
        LedgerEntry.domain_id == domain.id, LedgerEntry.at >= start
    )
    income = _sum(session, base.where(LedgerEntry.amount_kopecks > 0))
    spend = -_sum(session, base.where(LedgerEntry.amount_kopecks < 0))
    today = -_sum(
        session,
        base.where(LedgerEntry.amount_kopecks < 0, LedgerEntry.at >= day_start(domain, now)),
    )
    current = domain.balance_kopecks
    return Statement(current - income + spend, income, spend, today, current)


def spend_by_kind(session: Session, domain: Domain, now: datetime) -> dict[str, int]:
    rows = session.execute(
        select(LedgerEntry.code, func.sum(LedgerEntry.amount_kopecks))
        .where(
            LedgerEntry.domain_id == domain.id,
            LedgerEntry.at >= month_start(domain, now),
            LedgerEntry.amount_kopecks < 0,
        )
        .group_by(LedgerEntry.code)
    ).all()
    return {code: -int(total) for code, total in rows}


def top_talkers(
    session: Session, domain: Domain, now: datetime, limit: int = 5
) -> list[tuple[User, int]]:
    """Users with the most talk time this month (rated calls carrying a user id)."""
    total = func.sum(RatedCall.duration_seconds).label("talk")
    rows = session.execute(
        select(User, total)
        .join(RatedCall, RatedCall.user_id == User.id)
        .where(
            User.domain_id == domain.id,
            RatedCall.domain_id == domain.id,
            RatedCall.answered_at >= month_start(domain, now),
        )
        .group_by(User.id)
        .order_by(desc("talk"), User.id)
        .limit(limit)
    ).all()
    return [(user, int(talk)) for user, talk in rows]


def ledger_page(
    session: Session,
    domain_id: int,
    start: datetime | None,
    end: datetime | None,
    q: str | None,
    offset: int,
    limit: int,
) -> tuple[list[LedgerEntry], int]:
    stmt = select(LedgerEntry).where(LedgerEntry.domain_id == domain_id)
    if start is not None:
        stmt = stmt.where(LedgerEntry.at >= start)
    if end is not None:
        stmt = stmt.where(LedgerEntry.at < end)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            func.lower(LedgerEntry.operation_ru).like(like)
            | func.lower(LedgerEntry.operation_en).like(like)
        )
    total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = session.scalars(stmt.order_by(LedgerEntry.id.desc()).offset(offset).limit(limit)).all()
    return list(rows), total


def payment_page(
    session: Session,
    domain_id: int,
    start: datetime | None,
    end: datetime | None,
    offset: int,
    limit: int,
) -> tuple[list[Payment], int]:
    stmt = select(Payment).where(Payment.domain_id == domain_id)
    if start is not None:
        stmt = stmt.where(Payment.at >= start)
    if end is not None:
        stmt = stmt.where(Payment.at < end)
    total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = session.scalars(
        stmt.order_by(Payment.at.desc(), Payment.id.desc()).offset(offset).limit(limit)
    ).all()
    return list(rows), total
