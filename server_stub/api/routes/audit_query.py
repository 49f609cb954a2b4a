"""The action history query shared by the domain log, the pool log and their CSV export.

Scopes (who sees which rows):
- a domain admin: rows about their domain (``domain_id``), whoever the actor was (users, pool
  admins acting "as admin", the system);
- a pool supervisor: rows of their pool made by pool admins, plus pool-level rows with no
  domain (e.g. a failed login to a pool admin account): the pool cabinet's own log (spec §6.9:
  the domain log is a separate one). Domain users' own changes stay in their domain log even
  though those rows carry the pool id too;
- a sub-group admin: the same, limited to rows whose actor is a sub-group admin (spec §6.4,
  L735 "actions of sub-group admins"; chosen over §4.9's "any pool user sees the full list"
  because it is the narrower reading, and a supervisor's work on admins and rights is not a
  sub-group admin's business).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, false, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from server_stub.api.deps import POOL_SUPERVISOR, Principal
from server_stub.api.errors import field_error
from server_stub.store.models import AuditEntry, PoolAdmin, PoolRole

QUICK_PERIODS = (1, 7, 30, 45)  # «За сегодня», «За 7 дней», «За 30 дней», «За 45 дней»


class AuditItem(BaseModel):
    id: int
    at: datetime
    address: str
    actor_login: str
    actor_kind: str
    on_behalf_of: str | None
    action: str
    object_type: str
    object_id: str | None
    object_name: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditPage(BaseModel):
    items: list[AuditItem]
    total: int
    loaded: int  # offset + items: "loaded N of M" above an infinitely scrolling table
    offset: int
    limit: int


def _utc(value: datetime | None) -> datetime | None:
    # A time without a zone is taken as UTC, the zone everything is stored in.
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class AuditFilters:
    since: datetime | None = None
    until: datetime | None = None
    actor: str | None = None
    object_type: str | None = None
    object_name: str | None = None
    action: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = []
        if self.since is not None:
            conds.append(AuditEntry.at >= self.since)
        if self.until is not None:
            conds.append(AuditEntry.at <= self.until)
        if self.actor:
            conds.append(AuditEntry.actor_login.icontains(self.actor, autoescape=True))
        if self.object_type:
            conds.append(AuditEntry.object_type == self.object_type)
        if self.object_name:
            conds.append(AuditEntry.object_name.icontains(self.object_name, autoescape=True))
        if self.action:
            conds.append(AuditEntry.action == self.action)
        return conds


def audit_filters(
    date_from: Annotated[
        datetime | None, Query(alias="from", description="ISO datetime, inclusive")
    ] = None,
    date_to: Annotated[datetime | None, Query(alias="to", description="ISO datetime")] = None,
    days: Annotated[int | None, Query(description="quick period: 1, 7, 30 or 45 days")] = None,
    actor: Annotated[str | None, Query(max_length=100, description="login substring")] = None,
    object_type: Annotated[str | None, Query(max_length=64)] = None,
    object_name: Annotated[str | None, Query(max_length=100, description="substring")] = None,
    action: Annotated[str | None, Query(max_length=32)] = None,
) -> AuditFilters:
    """``days`` counts back from now (a rolling window, so "1" is the last 24 hours); it
    combines with ``from``/``to`` (all conditions apply)."""
    since, until = _utc(date_from), _utc(date_to)
    if days is not None:
        if days not in QUICK_PERIODS:
            raise field_error(
                "days", "допустимы периоды 1, 7, 30 и 45 дней", "allowed periods: 1, 7, 30, 45 days"
            )
        quick = datetime.now(UTC) - timedelta(days=days)
        since = quick if since is None else max(since, quick)
    if since is not None and until is not None and since > until:
        raise field_error(
            "to", "конец периода раньше его начала", "the end of the period is before its start"
        )
    return AuditFilters(
        since=since,
        until=until,
        actor=(actor or "").strip() or None,
        object_type=object_type or None,
        object_name=(object_name or "").strip() or None,
        action=action or None,
    )


def domain_scope(principal: Principal) -> list[ColumnElement[bool]]:
    return [AuditEntry.domain_id == principal.domain_id]


def subgroup_admin_ids(session: Session, pool_id: int) -> set[int]:
    """Every sub-group admin the pool ever had: today's, plus deleted ones known from their
    creation rows (the role is immutable, so the creation row stays true)."""
    ids = set(
        session.execute(
            select(PoolAdmin.id).where(
                PoolAdmin.pool_id == pool_id, PoolAdmin.role == PoolRole.SUBGROUP_ADMIN
            )
        ).scalars()
    )
    created = session.execute(
        select(AuditEntry.object_id, AuditEntry.after).where(
            AuditEntry.pool_id == pool_id,
            AuditEntry.object_type == "pool_admin",
            AuditEntry.action == "create",
        )
    ).all()
    for object_id, after in created:
        if after and after.get("role") == PoolRole.SUBGROUP_ADMIN.value and object_id:
            ids.add(int(object_id))
    return ids


def pool_scope(session: Session, principal: Principal) -> list[ColumnElement[bool]]:
    if principal.pool_id is None:
        return [false()]
    conds: list[ColumnElement[bool]] = [
        AuditEntry.pool_id == principal.pool_id,
        or_(AuditEntry.actor_kind == "pool_admin", AuditEntry.domain_id.is_(None)),
    ]
    if not principal.has(POOL_SUPERVISOR):
        conds.append(AuditEntry.actor_id.in_(subgroup_admin_ids(session, principal.pool_id)))
    return conds


def statement(scope: list[ColumnElement[bool]], filters: AuditFilters) -> Select[Any]:
    return select(AuditEntry).where(*scope, *filters.conditions())


def page(session: Session, stmt: Select[Any], offset: int, limit: int) -> AuditPage:
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(
        stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).offset(offset).limit(limit)
    ).scalars()
    items = [AuditItem.model_validate(r, from_attributes=True) for r in rows]
    return AuditPage(
        items=items, total=total, loaded=offset + len(items), offset=offset, limit=limit
    )


_HEADERS = {
    "ru": [
        "Дата и время (UTC)",
        "IP-адрес",
        "Пользователь",
        "Тип пользователя",
        "От имени",
        "Действие",
        "Тип объекта",
        "ID объекта",
        "Объект",
        "Было",
        "Стало",
    ],
    "en": [
        "Date and time (UTC)",
        "IP address",
        "User",
        "User kind",
        "On behalf of",
        "Action",
        "Object type",
        "Object ID",
        "Object",
        "Before",
        "After",
    ],
}


def _json(value: dict[str, Any] | None) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def csv_rows(factory: sessionmaker[Session], stmt: Select[Any], lang: str) -> Iterator[str]:
    """The CSV text in chunks, read in batches from a session of its own (the request's
    session is gone once the streaming starts). A BOM first, so Excel reads UTF-8 Cyrillic."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    buf.write("\ufeff")
    writer.writerow(_HEADERS.get(lang, _HEADERS["ru"]))
    session = factory()
    try:
        ordered = stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        result = session.execute(ordered.execution_options(yield_per=500)).scalars()
        for n, e in enumerate(result, start=1):
            writer.writerow(
                [
                    e.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                    e.address,
                    e.actor_login,
                    e.actor_kind,
                    e.on_behalf_of or "",
                    e.action,
                    e.object_type,
                    e.object_id or "",
                    e.object_name,
                    _json(e.before),
                    _json(e.after),
                ]
            )
            if n % 500 == 0:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
        yield buf.getvalue()
    finally:
        session.close()
