"""Pool cabinet: sub-groups and group operations on domains (spec §6.7), supervisor only.

The built-in «Без группы» is every domain's default home: it can be neither renamed nor
deleted, and "remove from group" means moving domains back into it.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server_stub.api import audit
from server_stub.api.deps import Principal, SessionDep
from server_stub.api.errors import ApiError, Text, bilingual_value_error, conflict, field_error
from server_stub.api.routes.pool_common import (
    PoolSupervisorCaller,
    SubgroupName,
    flush,
    pool_id_of,
    pool_subgroup,
)
from server_stub.store import provision
from server_stub.store.models import Domain, PoolAdmin, Subgroup

router = APIRouter(tags=["pool"])


class SubgroupRead(BaseModel):
    id: int
    name: str
    is_default: bool
    domain_count: int


class SubgroupWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: SubgroupName


class MoveRequest(BaseModel):
    """Move domains into an existing sub-group, into a new one, or back to «Без группы»
    (``subgroup_id`` of the default sub-group is the «Удалить из группы» operation)."""

    model_config = ConfigDict(extra="forbid")
    domain_ids: list[int] = Field(min_length=1, max_length=10_000)
    subgroup_id: int | None = None
    new_subgroup_name: SubgroupName | None = None

    @model_validator(mode="after")
    def _one_target(self) -> MoveRequest:
        if (self.subgroup_id is None) == (self.new_subgroup_name is None):
            raise bilingual_value_error(
                "Укажите либо существующую подгруппу, либо имя новой",
                "Give either an existing sub-group or the name of a new one",
            )
        return self


class MoveResult(BaseModel):
    moved: int
    subgroup: SubgroupRead


def _read(session: Session, sg: Subgroup) -> SubgroupRead:
    count = session.execute(
        select(func.count()).select_from(Domain).where(Domain.subgroup_id == sg.id)
    ).scalar_one()
    return SubgroupRead(id=sg.id, name=sg.name, is_default=sg.is_default, domain_count=count)


def _ensure_unique_name(session: Session, pool_id: int, name: str, exclude_id: int | None) -> None:
    # Case-insensitive (in Python, so Cyrillic folds on SQLite too): «Продажи» and «продажи»
    # side by side would confuse anyone choosing a group from a drop-down.
    names = session.execute(
        select(Subgroup.id, Subgroup.name).where(Subgroup.pool_id == pool_id)
    ).all()
    if any(sid != exclude_id and n.casefold() == name.casefold() for sid, n in names):
        raise conflict(
            "name",
            f"подгруппа «{name}» уже существует",
            f"the sub-group '{name}' already exists",
        )


def _default_protected() -> ApiError:
    return ApiError(
        409,
        "default_subgroup",
        Text(
            f"Подгруппу «{provision.DEFAULT_SUBGROUP}» нельзя переименовать или удалить",
            f"The built-in sub-group '{provision.DEFAULT_SUBGROUP}' cannot be renamed or deleted",
        ),
    )


def _create(session: Session, principal: Principal, name: str) -> Subgroup:
    pool_id = pool_id_of(principal)
    _ensure_unique_name(session, pool_id, name, None)
    sg = Subgroup(pool_id=pool_id, name=name, is_default=False)
    session.add(sg)
    flush(session)
    audit.record(
        session,
        principal,
        "create",
        "subgroup",
        sg.id,
        sg.name,
        None,
        audit.snapshot(sg),
        pool_id=pool_id,
    )
    return sg


def _move_domain(session: Session, principal: Principal, domain: Domain, target: Subgroup) -> bool:
    if domain.subgroup_id == target.id:
        return False
    old = session.get(Subgroup, domain.subgroup_id) if domain.subgroup_id else None
    before = audit.snapshot(domain) | {"subgroup": old.name if old else None}
    domain.subgroup_id = target.id
    after = audit.snapshot(domain) | {"subgroup": target.name}
    audit.record(
        session,
        principal,
        "update",
        "domain",
        domain.id,
        domain.name,
        before,
        after,
        domain_id=domain.id,
        pool_id=pool_id_of(principal),
    )
    return True


@router.get(
    "/pool/subgroups", response_model=list[SubgroupRead], operation_id="pool_list_subgroups"
)
def list_subgroups(session: SessionDep, principal: PoolSupervisorCaller) -> list[SubgroupRead]:
    rows = session.execute(
        select(Subgroup).where(Subgroup.pool_id == pool_id_of(principal))
    ).scalars()
    return sorted((_read(session, sg) for sg in rows), key=lambda s: (s.name.casefold(), s.id))


@router.post(
    "/pool/subgroups",
    response_model=SubgroupRead,
    status_code=201,
    operation_id="pool_create_subgroup",
)
def create_subgroup(
    body: SubgroupWrite, session: SessionDep, principal: PoolSupervisorCaller
) -> SubgroupRead:
    """A new, empty sub-group; domains join it through group operations."""
    sg = _create(session, principal, body.name)
    session.commit()
    return _read(session, sg)


@router.patch(
    "/pool/subgroups/{subgroup_id}",
    response_model=SubgroupRead,
    operation_id="pool_rename_subgroup",
)
def rename_subgroup(
    subgroup_id: int, body: SubgroupWrite, session: SessionDep, principal: PoolSupervisorCaller
) -> SubgroupRead:
    sg = pool_subgroup(session, principal, subgroup_id)
    if sg.is_default:
        raise _default_protected()
    if body.name != sg.name:
        _ensure_unique_name(session, sg.pool_id, body.name, sg.id)
        before = audit.snapshot(sg)
        sg.name = body.name
        flush(session)
        audit.record(
            session,
            principal,
            "update",
            "subgroup",
            sg.id,
            sg.name,
            before,
            audit.snapshot(sg),
            pool_id=sg.pool_id,
        )
        session.commit()
    return _read(session, sg)


@router.delete(
    "/pool/subgroups/{subgroup_id}",
    status_code=204,
    response_class=Response,
    operation_id="pool_delete_subgroup",
)
def delete_subgroup(
    subgroup_id: int, session: SessionDep, principal: PoolSupervisorCaller
) -> Response:
    """Its domains move to «Без группы»; admins lose the right to it (no dangling ids)."""
    sg = pool_subgroup(session, principal, subgroup_id)
    if sg.is_default:
        raise _default_protected()
    default = provision.default_subgroup(session, sg.pool_id)
    domains = session.execute(select(Domain).where(Domain.subgroup_id == sg.id)).scalars().all()
    for domain in domains:
        _move_domain(session, principal, domain, default)
    admins = session.execute(select(PoolAdmin).where(PoolAdmin.pool_id == sg.pool_id)).scalars()
    for admin in admins:
        if sg.id in (admin.allowed_subgroup_ids or []):
            before = audit.snapshot(admin)
            admin.allowed_subgroup_ids = [i for i in admin.allowed_subgroup_ids if i != sg.id]
            audit.record(
                session,
                principal,
                "update",
                "pool_admin",
                admin.id,
                admin.login,
                before,
                audit.snapshot(admin),
                pool_id=sg.pool_id,
            )
    flush(session)
    before = audit.snapshot(sg) | {"domain_ids": [d.id for d in domains]}
    session.delete(sg)
    flush(session)
    audit.record(
        session,
        principal,
        "delete",
        "subgroup",
        subgroup_id,
        sg.name,
        before,
        None,
        pool_id=sg.pool_id,
    )
    session.commit()
    return Response(status_code=204)


@router.post("/pool/domains/move", response_model=MoveResult, operation_id="pool_move_domains")
def move_domains(
    body: MoveRequest, session: SessionDep, principal: PoolSupervisorCaller
) -> MoveResult:
    """Group operations: all-or-nothing, so one unknown domain id moves nothing."""
    pool_id = pool_id_of(principal)
    wanted = set(body.domain_ids)
    domains = (
        session.execute(select(Domain).where(Domain.pool_id == pool_id, Domain.id.in_(wanted)))
        .scalars()
        .all()
    )
    missing = sorted(wanted - {d.id for d in domains})
    if missing:
        listed = ", ".join(str(i) for i in missing[:20])
        raise field_error(
            "domain_ids",
            f"домены не найдены в пуле: {listed}",
            f"domains not in the pool: {listed}",
        )
    if body.subgroup_id is not None:
        try:
            target = pool_subgroup(session, principal, body.subgroup_id)
        except ApiError:
            raise field_error(
                "subgroup_id", "подгруппа не найдена", "the sub-group was not found"
            ) from None
    else:
        assert body.new_subgroup_name is not None
        target = _create(session, principal, body.new_subgroup_name)
    moved = sum(_move_domain(session, principal, d, target) for d in domains)
    flush(session)
    session.commit()
    return MoveResult(moved=moved, subgroup=_read(session, target))
