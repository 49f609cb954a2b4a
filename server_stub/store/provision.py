"""Creating tenants and accounts from code: the CLI, the demo domain and tests use this.

The API's own create endpoints validate input first and then come here too, so a user made by
the CLI and one made through the admin panel are the same kind of row.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from server_stub.api.security import hash_password, sip_ha1
from server_stub.store.models import (
    CallGroup,
    Domain,
    DomainPool,
    PoolAdmin,
    PoolRole,
    Subgroup,
    User,
)

DEFAULT_SUBGROUP = "Без группы"


def create_pool(session: Session, name: str, routing_number_length: int = 4) -> DomainPool:
    pool = DomainPool(name=name, routing_number_length=routing_number_length)
    session.add(pool)
    session.flush()
    session.add(Subgroup(pool_id=pool.id, name=DEFAULT_SUBGROUP, is_default=True))
    session.flush()
    return pool


def default_subgroup(session: Session, pool_id: int) -> Subgroup:
    return session.execute(
        select(Subgroup).where(Subgroup.pool_id == pool_id, Subgroup.is_default.is_(True))
    ).scalar_one()


def create_domain(
    session: Session,
    name: str,
    *,
    display_name: str = "",
    pool: DomainPool | None = None,
    routing_number: str | None = None,
    timezone: str = "Europe/Moscow",
    balance_kopecks: int = 0,
) -> Domain:
    domain = Domain(
        name=name,
        display_name=display_name or name,
        company_name=display_name or name,
        pool_id=pool.id if pool else None,
        subgroup_id=default_subgroup(session, pool.id).id if pool else None,
        account_number=str(secrets.randbelow(10**11) + 10**11),
        routing_number=routing_number,
        timezone=timezone,
        balance_kopecks=balance_kopecks,
    )
    session.add(domain)
    session.flush()
    return domain


def used_extensions(session: Session, domain_id: int) -> set[str]:
    users = session.execute(select(User.extension).where(User.domain_id == domain_id)).scalars()
    groups = session.execute(
        select(CallGroup.extension).where(CallGroup.domain_id == domain_id)
    ).scalars()
    return set(users) | set(groups)


def next_free_extension(
    session: Session, domain_id: int, start: int = 100, taken: set[str] | None = None
) -> str:
    """The lowest free extension from ``start``: users and call groups share one number space."""
    used = used_extensions(session, domain_id) | (taken or set())
    candidate = start
    while str(candidate) in used:
        candidate += 1
    if candidate > 99999:
        raise ValueError("no free extension left")
    return str(candidate)


def set_sip_password(user: User, domain_name: str, password: str) -> None:
    user.sip_ha1, user.sip_ha1b = sip_ha1(user.login, domain_name, password)


def create_user(
    session: Session,
    domain: Domain,
    login: str,
    password: str,
    display_name: str,
    *,
    extension: str | None = None,
    sip_password: str | None = None,
    email: str = "",
    position: str = "",
    is_operator: bool = False,
    is_supervisor: bool = False,
    is_admin: bool = False,
) -> User:
    """A user; the SIP password is separate from the web one (defaults to the same value)."""
    user = User(
        domain_id=domain.id,
        login=login,
        display_name=display_name,
        email=email,
        position=position,
        extension=extension or next_free_extension(session, domain.id),
        password_hash=hash_password(password),
        is_operator=is_operator,
        is_supervisor=is_supervisor,
        is_admin=is_admin,
        sip_ha1="",
        sip_ha1b="",
    )
    set_sip_password(user, domain.name, sip_password or password)
    session.add(user)
    session.flush()
    return user


def create_pool_admin(
    session: Session,
    pool: DomainPool,
    login: str,
    password: str,
    display_name: str,
    *,
    supervisor: bool = False,
    allowed_subgroup_ids: list[int] | None = None,
    email: str = "",
) -> PoolAdmin:
    admin = PoolAdmin(
        pool_id=pool.id,
        login=login,
        display_name=display_name,
        email=email,
        password_hash=hash_password(password),
        role=PoolRole.SUPERVISOR if supervisor else PoolRole.SUBGROUP_ADMIN,
        allowed_subgroup_ids=list(allowed_subgroup_ids or []),
    )
    session.add(admin)
    session.flush()
    return admin
