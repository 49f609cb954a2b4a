"""Shared pieces of the pool admin cabinet: who may call, which pool, which domains they manage.

Pool endpoints serve only a *pool-level* session: a pool admin who opened a domain ("open as
admin") holds a domain-scoped token that must not reach back into the pool UI (spec §6.1:
"you cannot go from the domain UI to the pool UI").
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends
from pydantic import AfterValidator, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from server_stub.api.crud import flush as flush  # re-exported: one rule for conflicts
from server_stub.api.deps import POOL_SUPERVISOR, PoolAdminDep, PoolSupervisorDep, Principal
from server_stub.api.errors import bilingual_value_error, forbidden, not_found
from server_stub.store.models import Domain, DomainPool, PoolAdmin, Subgroup


def _pool_session(principal: Principal) -> Principal:
    if principal.kind != "pool_admin" or principal.domain_id is not None:
        raise forbidden()
    if principal.pool_id is None:
        raise forbidden()
    return principal


def _any_pool_admin(principal: PoolAdminDep) -> Principal:
    return _pool_session(principal)


def _pool_supervisor(principal: PoolSupervisorDep) -> Principal:
    return _pool_session(principal)


PoolCaller = Annotated[Principal, Depends(_any_pool_admin)]
PoolSupervisorCaller = Annotated[Principal, Depends(_pool_supervisor)]


def pool_id_of(principal: Principal) -> int:
    assert principal.pool_id is not None  # guaranteed by the dependencies above
    return principal.pool_id


def pool_of(session: Session, principal: Principal) -> DomainPool:
    pool = session.get(DomainPool, pool_id_of(principal))
    if pool is None:
        raise not_found("pool")
    return pool


def is_supervisor(principal: Principal) -> bool:
    return principal.has(POOL_SUPERVISOR)


def can_manage(principal: Principal, domain: Domain) -> bool:
    """Supervisors manage every domain of the pool; sub-group admins only their sub-groups'."""
    if is_supervisor(principal):
        return True
    return domain.subgroup_id is not None and domain.subgroup_id in principal.allowed_subgroup_ids


def pool_domain(session: Session, principal: Principal, domain_id: int) -> Domain:
    """A domain of the caller's pool; any other domain is simply "not found"."""
    domain = session.execute(
        select(Domain).where(Domain.id == domain_id, Domain.pool_id == pool_id_of(principal))
    ).scalar_one_or_none()
    if domain is None:
        raise not_found("domain")
    return domain


def pool_subgroup(session: Session, principal: Principal, subgroup_id: int) -> Subgroup:
    subgroup = session.execute(
        select(Subgroup).where(
            Subgroup.id == subgroup_id, Subgroup.pool_id == pool_id_of(principal)
        )
    ).scalar_one_or_none()
    if subgroup is None:
        raise not_found("sub-group")
    return subgroup


def pool_admin(session: Session, principal: Principal, admin_id: int) -> PoolAdmin:
    admin = session.execute(
        select(PoolAdmin).where(
            PoolAdmin.id == admin_id, PoolAdmin.pool_id == pool_id_of(principal)
        )
    ).scalar_one_or_none()
    if admin is None:
        raise not_found("administrator")
    return admin


def _clean_name(value: str) -> str:
    value = value.strip()
    if not value:
        raise bilingual_value_error("Название не может быть пустым", "The name must not be empty")
    return value


_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _email(value: str) -> str:
    value = value.strip()
    if not _EMAIL_RE.match(value):
        raise bilingual_value_error(
            "Неверный адрес электронной почты", "This is not a valid e-mail address"
        )
    return value


# Names are trimmed: "  Продажи " and "Продажи" are the same sub-group to a person.
CleanName = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_clean_name)]
SubgroupName = Annotated[str, Field(min_length=1, max_length=120), AfterValidator(_clean_name)]
Email = Annotated[str, Field(min_length=3, max_length=254), AfterValidator(_email)]
