"""Shared rules of the company directory: users, call groups and pickup groups.

Users and call groups share one extension space per domain (spec 01 §9.2), so the check lives
here and both route modules use it. Name uniqueness is case-insensitive and compared in
Python: SQLite's ``lower()`` folds only ASCII, and "Операторы" / "операторы" are one group to
a person. The sets compared are small (a domain's groups).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Request
from pydantic import AfterValidator, BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server_stub.api import audit, crud
from server_stub.api.crud import flush as flush  # re-exported: one rule for conflicts
from server_stub.api.deps import Principal
from server_stub.api.errors import (
    ApiError,
    FieldProblem,
    Text,
    bilingual_value_error,
    conflict,
    not_found,
)
from server_stub.store.models import CallGroup, Domain, GroupMember, PickupGroup, User

# (action, object type, object id, object name, before, after) of one audit row.
AuditRow = tuple[str, str, int, str, dict[str, Any] | None, dict[str, Any] | None]

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _email(value: str) -> str:
    # Deliberately permissive (corporate ".local" domains are real): the address is only
    # used for notifications, and a typo shows up as a bounce, not as a security problem.
    value = value.strip()
    if value and not _EMAIL_RE.match(value):
        raise bilingual_value_error(
            "Неверный адрес электронной почты", "This is not a valid e-mail address"
        )
    return value


def _clean_name(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise bilingual_value_error("Поле не может быть пустым", "The value must not be empty")
    return value


Email = Annotated[str, Field(max_length=254), AfterValidator(_email)]
CleanName = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_clean_name)]
GroupName = Annotated[str, Field(min_length=1, max_length=120), AfterValidator(_clean_name)]


# --- domain and context --------------------------------------------------------------------


def domain_of(session: Session, principal: Principal) -> Domain:
    domain = session.get(Domain, principal.domain_id)
    if domain is None:
        raise not_found("domain")
    return domain


def record_and_commit(
    session: Session,
    request: Request,
    principal: Principal,
    rows: Sequence[AuditRow],
    events: Sequence[tuple[str, dict[str, Any]]],
) -> None:
    """Audit rows (action, type, id, name, before, after), commit, then publish the events.

    The audit rows go into the same transaction as the change: one cannot exist without the
    other. Events are published only after the commit so no client sees an uncommitted state.
    """
    for action, object_type, object_id, name, before, after in rows:
        audit.record(session, principal, action, object_type, object_id, name, before, after)
    flush(session)
    session.commit()
    for type_, data in events:
        crud.publish(request, type_, principal.domain_id, data)


# --- extensions ----------------------------------------------------------------------------


def check_extension(
    session: Session,
    domain_id: int,
    extension: str,
    *,
    user_id: int | None = None,
    group_id: int | None = None,
) -> None:
    """Refuse an extension used by another user or call group of the domain (409, named)."""
    users = select(User.id).where(User.domain_id == domain_id, User.extension == extension)
    if user_id is not None:
        users = users.where(User.id != user_id)
    groups = select(CallGroup.id).where(
        CallGroup.domain_id == domain_id, CallGroup.extension == extension
    )
    if group_id is not None:
        groups = groups.where(CallGroup.id != group_id)
    if session.execute(users.limit(1)).first() is not None:
        raise conflict(
            "extension",
            f"внутренний номер {extension} уже занят пользователем",
            f"extension {extension} is already used by a user",
        )
    if session.execute(groups.limit(1)).first() is not None:
        raise conflict(
            "extension",
            f"внутренний номер {extension} уже занят группой",
            f"extension {extension} is already used by a call group",
        )


def check_unique_name(
    session: Session,
    model: type[CallGroup] | type[PickupGroup],
    domain_id: int,
    name: str,
    exclude_id: int | None = None,
) -> None:
    rows = session.execute(select(model.id, model.name).where(model.domain_id == domain_id)).all()
    folded = name.casefold()
    if any(n.casefold() == folded and i != exclude_id for i, n in rows):
        raise conflict(
            "name",
            f"группа «{name}» уже существует",
            f"a group named '{name}' already exists",
        )


# --- lookups scoped to the domain ----------------------------------------------------------


def domain_users(session: Session, domain_id: int, ids: list[int], field: str) -> list[User]:
    """The users with these ids, all of this domain, or a 404 that says nothing about others.

    Ids of another domain and ids that do not exist get the same answer, so a caller learns
    nothing about other tenants.
    """
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    found = {
        u.id: u
        for u in session.execute(
            select(User).where(User.domain_id == domain_id, User.id.in_(wanted))
        ).scalars()
    }
    missing = [i for i in wanted if i not in found]
    if missing:
        ids_text = ", ".join(str(i) for i in missing)
        raise ApiError(
            404,
            "not_found",
            Text(f"Пользователи не найдены: {ids_text}", f"Users not found: {ids_text}"),
            [
                FieldProblem(
                    field,
                    Text(f"пользователи не найдены: {ids_text}", f"users not found: {ids_text}"),
                )
            ],
        )
    return [found[i] for i in wanted]


def domain_group(session: Session, domain_id: int, group_id: int) -> CallGroup:
    group = session.execute(
        select(CallGroup).where(CallGroup.domain_id == domain_id, CallGroup.id == group_id)
    ).scalar_one_or_none()
    if group is None:
        raise not_found("group")
    return group


def domain_pickup_group(session: Session, domain_id: int, pickup_id: int) -> PickupGroup:
    group = session.execute(
        select(PickupGroup).where(PickupGroup.domain_id == domain_id, PickupGroup.id == pickup_id)
    ).scalar_one_or_none()
    if group is None:
        raise not_found("pickup group")
    return group


# --- memberships ---------------------------------------------------------------------------


class GroupRef(BaseModel):
    id: int
    name: str
    priority: int


def groups_by_user(session: Session, user_ids: list[int]) -> dict[int, list[GroupRef]]:
    """Each user's call groups in one query (the list page shows them for every row)."""
    out: dict[int, list[GroupRef]] = defaultdict(list)
    if not user_ids:
        return out
    rows = session.execute(
        select(GroupMember.user_id, CallGroup.id, CallGroup.name, GroupMember.priority)
        .join(CallGroup, CallGroup.id == GroupMember.group_id)
        .where(GroupMember.user_id.in_(user_ids))
        .order_by(CallGroup.name, CallGroup.id)
    ).all()
    for user_id, group_id, name, priority in rows:
        out[user_id].append(GroupRef(id=group_id, name=name, priority=priority))
    return out


def active_admin_count(session: Session, domain_id: int) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(User)
            .where(User.domain_id == domain_id, User.is_admin.is_(True), User.active.is_(True))
        ).scalar_one()
    )


def last_admin_error() -> ApiError:
    return ApiError(
        409,
        "last_admin",
        Text(
            "В домене должен остаться хотя бы один активный администратор",
            "The domain must keep at least one active administrator",
        ),
    )


def user_snapshot(session: Session, user: User) -> dict[str, Any]:
    """The audit "before/after" of a user: its columns (secrets masked) plus its groups."""
    snap = audit.snapshot(user)
    snap["group_ids"] = sorted(
        session.execute(select(GroupMember.group_id).where(GroupMember.user_id == user.id))
        .scalars()
        .all()
    )
    return snap
