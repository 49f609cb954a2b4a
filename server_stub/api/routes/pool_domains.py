"""Pool cabinet: the domain list grouped by sub-group, the domain info card, renaming a domain
and setting its routing number (spec §6.6, §6.7 "Переименовать домен", §6.4)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server_stub.api import audit
from server_stub.api.crud import publish
from server_stub.api.deps import Principal, SessionDep
from server_stub.api.errors import bilingual_value_error, conflict, field_error, forbidden
from server_stub.api.routes.pool_common import (
    CleanName,
    PoolCaller,
    can_manage,
    flush,
    is_supervisor,
    pool_domain,
    pool_id_of,
    pool_of,
)
from server_stub.billing.money import fmt_rub
from server_stub.store.models import Domain, DomainPool, Number, NumberKind, Subgroup, User

router = APIRouter(tags=["pool"])


class PoolDomainRow(BaseModel):
    id: int
    name: str
    display_name: str
    routing_number: str | None
    account_number: str
    subgroup_id: int | None
    manageable: bool


class SubgroupBlock(BaseModel):
    id: int
    name: str
    is_default: bool
    manageable: bool
    domain_count: int
    domains: list[PoolDomainRow]


class DomainList(BaseModel):
    routing_number_length: int
    total: int
    groups: list[SubgroupBlock]


class Counters(BaseModel):
    users: int
    operators: int
    landline_numbers: int
    toll_free_numbers: int


class DomainInfo(PoolDomainRow):
    subgroup_name: str
    balance: str
    block_state: str
    notification_email: str
    counters: Counters


class DomainPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: CleanName | None = None
    routing_number: str | None = Field(default=None, max_length=16)

    @field_validator("routing_number")
    @classmethod
    def _digits(cls, value: str | None) -> str | None:
        if value is not None and not value.isdigit():
            raise bilingual_value_error(
                "Маршрутный номер состоит только из цифр", "A routing number consists of digits"
            )
        return value


def _row(principal: Principal, domain: Domain) -> PoolDomainRow:
    return PoolDomainRow(
        id=domain.id,
        name=domain.name,
        display_name=domain.display_name,
        routing_number=domain.routing_number,
        account_number=domain.account_number,
        subgroup_id=domain.subgroup_id,
        manageable=can_manage(principal, domain),
    )


def _matches(domain: Domain, needle: str) -> bool:
    # Matched in Python: casefold() treats Cyrillic display names the same on SQLite and PG.
    hay = (domain.name, domain.display_name, domain.routing_number or "")
    return any(needle in h.casefold() for h in hay)


@router.get("/pool/domains", response_model=DomainList, operation_id="pool_list_domains")
def list_domains(
    session: SessionDep,
    principal: PoolCaller,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> DomainList:
    """Every domain of the pool (a sub-group admin sees all, manages only the allowed ones).

    Sub-groups are alphabetical; for a sub-group admin the manageable ones come first. Without a
    search every sub-group is listed (an empty new one too); with a search only those with hits.
    """
    pool = pool_of(session, principal)
    subgroups = session.execute(select(Subgroup).where(Subgroup.pool_id == pool.id)).scalars()
    domains = list(session.execute(select(Domain).where(Domain.pool_id == pool.id)).scalars().all())
    needle = (q or "").strip().casefold()
    if needle:
        domains = [d for d in domains if _matches(d, needle)]
    by_group: dict[int | None, list[Domain]] = {}
    for domain in domains:
        by_group.setdefault(domain.subgroup_id, []).append(domain)
    supervisor = is_supervisor(principal)
    blocks = []
    for sg in subgroups:
        members = sorted(by_group.get(sg.id, []), key=lambda d: (d.name.casefold(), d.id))
        if needle and not members:
            continue
        blocks.append(
            SubgroupBlock(
                id=sg.id,
                name=sg.name,
                is_default=sg.is_default,
                manageable=supervisor or sg.id in principal.allowed_subgroup_ids,
                domain_count=len(members),
                domains=[_row(principal, d) for d in members],
            )
        )
    blocks.sort(key=lambda b: (not b.manageable, b.name.casefold(), b.id))
    return DomainList(
        routing_number_length=pool.routing_number_length, total=len(domains), groups=blocks
    )


def _count(session: Session, stmt: Any) -> int:
    return int(session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one())


def _info(session: Session, principal: Principal, domain: Domain) -> DomainInfo:
    users = select(User.id).where(User.domain_id == domain.id)
    numbers = select(Number.id).where(Number.domain_id == domain.id)
    subgroup = session.get(Subgroup, domain.subgroup_id) if domain.subgroup_id else None
    return DomainInfo(
        **_row(principal, domain).model_dump(),
        subgroup_name=subgroup.name if subgroup else "",
        balance=fmt_rub(domain.balance_kopecks),
        block_state=str(domain.block_state),
        notification_email=domain.notification_email,
        counters=Counters(
            users=_count(session, users),
            operators=_count(session, users.where(User.is_operator.is_(True))),
            landline_numbers=_count(session, numbers.where(Number.kind == NumberKind.LANDLINE)),
            toll_free_numbers=_count(session, numbers.where(Number.kind == NumberKind.TOLL_FREE)),
        ),
    )


@router.get("/pool/domains/{domain_id}", response_model=DomainInfo, operation_id="pool_get_domain")
def get_domain(domain_id: int, session: SessionDep, principal: PoolCaller) -> DomainInfo:
    """The «Информация по домену» card; viewing is open to every admin of the pool (§6.4)."""
    return _info(session, principal, pool_domain(session, principal, domain_id))


def check_routing_number(
    session: Session, pool: DomainPool, value: str, exclude_domain_id: int
) -> None:
    """Routing numbers are dialled as a prefix, so within a pool no number may start another."""
    if len(value) != pool.routing_number_length:
        raise field_error(
            "routing_number",
            f"маршрутный номер должен содержать {pool.routing_number_length} цифр(ы)",
            f"the routing number must have {pool.routing_number_length} digits",
        )
    others = session.execute(
        select(Domain.name, Domain.routing_number).where(
            Domain.pool_id == pool.id,
            Domain.id != exclude_domain_id,
            Domain.routing_number.is_not(None),
        )
    ).all()
    for name, other in others:
        if other is None:
            continue
        if other == value:
            raise conflict(
                "routing_number",
                f"маршрутный номер {value} уже занят доменом {name}",
                f"the routing number {value} is already used by the domain {name}",
            )
        if other.startswith(value) or value.startswith(other):
            raise conflict(
                "routing_number",
                f"маршрутный номер {value} пересекается с номером {other} домена {name}: "
                "набор стал бы неоднозначным",
                f"the routing number {value} overlaps {other} of the domain {name}: "
                "dialling would be ambiguous",
            )


@router.patch(
    "/pool/domains/{domain_id}", response_model=DomainInfo, operation_id="pool_update_domain"
)
def update_domain(
    domain_id: int,
    body: DomainPatch,
    request: Request,
    session: SessionDep,
    principal: PoolCaller,
) -> DomainInfo:
    """Rename a domain (its visible name) or set its routing number.

    Sending ``null`` for a field is refused rather than clearing it: a domain without a visible
    name or routing number is not something the cabinet can show or dial.
    """
    pool = pool_of(session, principal)
    domain = pool_domain(session, principal, domain_id)
    if not can_manage(principal, domain):
        raise forbidden()
    data = body.model_dump(exclude_unset=True)
    for key, value in data.items():
        if value is None:
            raise field_error(key, "обязательное поле", "this field is required")
    before = audit.snapshot(domain)
    if "routing_number" in data and data["routing_number"] != domain.routing_number:
        check_routing_number(session, pool, data["routing_number"], domain.id)
    for key, value in data.items():
        setattr(domain, key, value)
    flush(session)
    after = audit.snapshot(domain)
    if after != before:
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
    session.commit()
    if after != before:
        publish(request, "domain.updated", domain.id, {"id": domain.id})
    return _info(session, principal, domain)
