"""Pool cabinet: the pool's administrators (spec §6.8, supervisor only) and the caller's own
profile (§6.5, any pool admin).

Rules chosen where the spec is silent: a supervisor can neither delete nor block themselves,
and the pool's last active supervisor can never be deleted or blocked (a pool nobody can
administer would need the provider to step in). Role and login are immutable: sending a
different value is a 422 naming the field, sending the current one is harmless.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from server_stub.api import audit
from server_stub.api.deps import Principal, SessionDep
from server_stub.api.errors import ApiError, Text, bilingual_value_error, conflict, field_error
from server_stub.api.routes.pool_common import (
    CleanName,
    Email,
    PoolCaller,
    PoolSupervisorCaller,
    flush,
    pool_admin,
    pool_id_of,
)
from server_stub.api.security import hash_password, login_problem, password_problem
from server_stub.phones import BadNumber, to_e164
from server_stub.store.models import PoolAdmin, PoolRole, RefreshToken, Subgroup

router = APIRouter(tags=["pool"])


class SubgroupRef(BaseModel):
    id: int
    name: str


class AdminRead(BaseModel):
    id: int
    login: str
    display_name: str
    email: str
    phone: str
    role: PoolRole
    blocked: bool
    allowed_subgroup_ids: list[int]
    allowed_subgroups: list[SubgroupRef]


def _phone(value: str | None) -> str | None:
    if value is None or not value.strip():
        return "" if value is not None else None
    try:
        return to_e164(value)
    except BadNumber as exc:
        raise bilingual_value_error(exc.ru, exc.en) from None


class _Profile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: CleanName | None = None
    email: Email | None = None
    phone: str | None = Field(default=None, max_length=32)
    password: str | None = Field(default=None, max_length=128)

    _phone_ok = field_validator("phone")(_phone)


class AdminCreate(_Profile):
    login: str = Field(max_length=64)
    display_name: CleanName
    email: Email
    phone: str | None = Field(default="", max_length=32)
    password: str = Field(max_length=128)
    role: PoolRole = PoolRole.SUBGROUP_ADMIN  # the form's default: «Администратор групп»
    blocked: bool = False
    allowed_subgroup_ids: list[int] = Field(default_factory=list, max_length=1000)


class AdminUpdate(_Profile):
    login: str | None = None
    role: PoolRole | None = None
    blocked: bool | None = None
    allowed_subgroup_ids: list[int] | None = Field(default=None, max_length=1000)


class ProfileUpdate(_Profile):
    """Own profile: only these four fields; anything else is an unknown field (422)."""


def _read(session: Session, admin: PoolAdmin) -> AdminRead:
    ids = list(admin.allowed_subgroup_ids or [])
    rows = session.execute(
        select(Subgroup.id, Subgroup.name).where(Subgroup.pool_id == admin.pool_id)
    ).all()
    names = {sid: name for sid, name in rows}
    return AdminRead(
        id=admin.id,
        login=admin.login,
        display_name=admin.display_name,
        email=admin.email,
        phone=admin.phone,
        role=admin.role,
        blocked=admin.blocked,
        allowed_subgroup_ids=ids,
        allowed_subgroups=[SubgroupRef(id=i, name=names[i]) for i in ids if i in names],
    )


def _check_password(password: str) -> None:
    problem = password_problem(password)
    if problem is not None:
        raise field_error("password", *problem)


def _check_subgroups(session: Session, pool_id: int, ids: list[int]) -> list[int]:
    known = set(session.execute(select(Subgroup.id).where(Subgroup.pool_id == pool_id)).scalars())
    unknown = [i for i in ids if i not in known]
    if unknown:
        listed = ", ".join(str(i) for i in unknown[:20])
        raise field_error(
            "allowed_subgroup_ids",
            f"подгруппы не найдены в пуле: {listed}",
            f"sub-groups not in the pool: {listed}",
        )
    return sorted(set(ids))


def _revoke_sessions(session: Session, admin_id: int) -> None:
    # A blocked, deleted or re-passworded admin must not keep refreshing old sessions.
    session.execute(
        update(RefreshToken).where(RefreshToken.subject == f"p:{admin_id}").values(revoked=True)
    )


def _is_last_active_supervisor(session: Session, admin: PoolAdmin) -> bool:
    if admin.role != PoolRole.SUPERVISOR or admin.blocked:
        return False
    others = session.execute(
        select(func.count())
        .select_from(PoolAdmin)
        .where(
            PoolAdmin.pool_id == admin.pool_id,
            PoolAdmin.role == PoolRole.SUPERVISOR,
            PoolAdmin.blocked.is_(False),
            PoolAdmin.id != admin.id,
        )
    ).scalar_one()
    return int(others) == 0


def _last_supervisor() -> ApiError:
    return ApiError(
        409,
        "last_supervisor",
        Text(
            "Это последний активный супервизор пула: его нельзя удалить или заблокировать",
            "This is the pool's last active supervisor: it cannot be deleted or blocked",
        ),
    )


def _self_action() -> ApiError:
    return ApiError(
        409,
        "self_action",
        Text(
            "Нельзя удалить или заблокировать собственную учётную запись",
            "You cannot delete or block your own account",
        ),
    )


def _apply_profile(admin: PoolAdmin, data: dict[str, Any]) -> bool:
    """Set the profile fields; True when the password changed."""
    for key in ("display_name", "email", "phone"):
        if key in data:
            if data[key] is None:
                raise field_error(key, "обязательное поле", "this field is required")
            setattr(admin, key, data[key])
    password = data.get("password")
    if "password" in data:
        if password is None:
            raise field_error("password", "обязательное поле", "this field is required")
        _check_password(password)
        admin.password_hash = hash_password(password)
        return True
    return False


def _audit(
    session: Session,
    principal: Principal,
    action: str,
    admin: PoolAdmin,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    audit.record(
        session,
        principal,
        action,
        "pool_admin",
        admin.id,
        admin.login,
        before,
        after,
        pool_id=admin.pool_id,
    )


def _audit_update(
    session: Session,
    principal: Principal,
    admin: PoolAdmin,
    before: dict[str, Any],
    password_changed: bool,
) -> None:
    after = audit.snapshot(admin)
    if password_changed:
        # The masked hash reads "***" on both sides, so say explicitly that it changed.
        before, after = before | {"password_changed": False}, after | {"password_changed": True}
    if after != before:
        _audit(session, principal, "update", admin, before, after)


@router.get("/pool/admins", response_model=list[AdminRead], operation_id="pool_list_admins")
def list_admins(session: SessionDep, principal: PoolSupervisorCaller) -> list[AdminRead]:
    admins = session.execute(
        select(PoolAdmin)
        .where(PoolAdmin.pool_id == pool_id_of(principal))
        .order_by(PoolAdmin.login)
    ).scalars()
    return [_read(session, a) for a in admins]


@router.get("/pool/admins/{admin_id}", response_model=AdminRead, operation_id="pool_get_admin")
def get_admin(admin_id: int, session: SessionDep, principal: PoolSupervisorCaller) -> AdminRead:
    return _read(session, pool_admin(session, principal, admin_id))


@router.post(
    "/pool/admins", response_model=AdminRead, status_code=201, operation_id="pool_create_admin"
)
def create_admin(
    body: AdminCreate, session: SessionDep, principal: PoolSupervisorCaller
) -> AdminRead:
    pool_id = pool_id_of(principal)
    problem = login_problem(body.login)
    if problem is not None:
        raise field_error("login", *problem)
    # Globally unique: the pool login form has no domain or pool field (§6.2).
    if session.execute(select(PoolAdmin.id).where(PoolAdmin.login == body.login)).first():
        raise conflict(
            "login", f"логин «{body.login}» уже занят", f"the login '{body.login}' is already taken"
        )
    _check_password(body.password)
    supervisor = body.role == PoolRole.SUPERVISOR
    admin = PoolAdmin(
        pool_id=pool_id,
        login=body.login,
        display_name=body.display_name,
        email=body.email,
        phone=body.phone or "",
        password_hash=hash_password(body.password),
        role=body.role,
        blocked=body.blocked,
        # Sub-groups matter only to a sub-group admin; a supervisor manages everything.
        allowed_subgroup_ids=[]
        if supervisor
        else _check_subgroups(session, pool_id, body.allowed_subgroup_ids),
    )
    session.add(admin)
    flush(session)
    _audit(session, principal, "create", admin, None, audit.snapshot(admin))
    session.commit()
    return _read(session, admin)


@router.patch("/pool/admins/{admin_id}", response_model=AdminRead, operation_id="pool_update_admin")
def update_admin(
    admin_id: int, body: AdminUpdate, session: SessionDep, principal: PoolSupervisorCaller
) -> AdminRead:
    admin = pool_admin(session, principal, admin_id)
    data = body.model_dump(exclude_unset=True)
    if data.get("role") is not None and data["role"] != admin.role:
        raise field_error(
            "role", "роль администратора изменить нельзя", "an administrator's role cannot change"
        )
    if data.get("login") is not None and data["login"] != admin.login:
        raise field_error("login", "логин изменить нельзя", "the login cannot change")
    before = audit.snapshot(admin)
    password_changed = _apply_profile(admin, data)
    revoke = password_changed
    if data.get("blocked") is True and not admin.blocked:
        if _is_last_active_supervisor(session, admin):
            raise _last_supervisor()
        if admin.id == principal.id:
            raise _self_action()
        admin.blocked = True
        revoke = True
    elif data.get("blocked") is False:
        admin.blocked = False
    if data.get("allowed_subgroup_ids") is not None and admin.role == PoolRole.SUBGROUP_ADMIN:
        admin.allowed_subgroup_ids = _check_subgroups(
            session, admin.pool_id, data["allowed_subgroup_ids"]
        )
    if revoke:
        _revoke_sessions(session, admin.id)
    flush(session)
    _audit_update(session, principal, admin, before, password_changed)
    session.commit()
    return _read(session, admin)


@router.delete(
    "/pool/admins/{admin_id}",
    status_code=204,
    response_class=Response,
    operation_id="pool_delete_admin",
)
def delete_admin(admin_id: int, session: SessionDep, principal: PoolSupervisorCaller) -> Response:
    admin = pool_admin(session, principal, admin_id)
    if _is_last_active_supervisor(session, admin):
        raise _last_supervisor()
    if admin.id == principal.id:
        raise _self_action()
    before = audit.snapshot(admin)
    _revoke_sessions(session, admin.id)
    session.delete(admin)
    flush(session)
    _audit(session, principal, "delete", admin, before, None)
    session.commit()
    return Response(status_code=204)


def _me(session: Session, principal: Principal) -> PoolAdmin:
    return pool_admin(session, principal, principal.id)


@router.get("/pool/me", response_model=AdminRead, operation_id="pool_get_me")
def get_me(session: SessionDep, principal: PoolCaller) -> AdminRead:
    return _read(session, _me(session, principal))


@router.patch("/pool/me", response_model=AdminRead, operation_id="pool_update_me")
def update_me(body: ProfileUpdate, session: SessionDep, principal: PoolCaller) -> AdminRead:
    """Own profile: display name, e-mail, phone, password (status, role and sub-groups are the
    supervisor's business, through the admin form)."""
    admin = _me(session, principal)
    before = audit.snapshot(admin)
    password_changed = _apply_profile(admin, body.model_dump(exclude_unset=True))
    flush(session)
    _audit_update(session, principal, admin, before, password_changed)
    session.commit()
    return _read(session, admin)
