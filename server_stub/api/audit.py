"""Action history: one append-only row per login and per change, written in the same
transaction as the change itself (so a change without its audit row cannot be committed)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from server_stub.api.deps import Principal
from server_stub.store.models import AuditEntry

# Columns whose values never appear in the history; a change to them shows as "***".
SECRET_COLUMNS = frozenset({"password_hash", "sip_ha1", "sip_ha1b", "token_hash"})


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(obj: Any) -> dict[str, Any]:
    """The row's column values, secrets masked: the "before"/"after" of an audit entry."""
    mapper = inspect(obj).mapper
    out: dict[str, Any] = {}
    for attr in mapper.column_attrs:
        key = attr.key
        out[key] = "***" if key in SECRET_COLUMNS else _plain(getattr(obj, key))
    return out


def diff(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Keep only the keys that changed, so the history shows what was edited."""
    if before is None or after is None:
        return before, after
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def record(
    session: Session,
    actor: Principal | None,
    action: str,
    object_type: str,
    object_id: Any = None,
    object_name: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    *,
    domain_id: int | None = None,
    pool_id: int | None = None,
    actor_login: str | None = None,
    address: str | None = None,
) -> AuditEntry:
    if action == "update":
        before, after = diff(before, after)
    entry = AuditEntry(
        domain_id=domain_id if domain_id is not None else (actor.domain_id if actor else None),
        pool_id=pool_id if pool_id is not None else (actor.pool_id if actor else None),
        actor_kind=actor.kind if actor else "anonymous",
        actor_id=actor.id if actor else None,
        actor_login=actor_login or (actor.login if actor else ""),
        on_behalf_of=actor.on_behalf_of if actor else None,
        address=address if address is not None else (actor.address if actor else ""),
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        object_name=object_name[:300],
        before=before,
        after=after,
    )
    session.add(entry)
    return entry
