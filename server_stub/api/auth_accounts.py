"""Who a typed login names, and how a signed-in principal is described to the client.

``ivanov@demo.pult`` is user ``ivanov`` of domain ``demo.pult``; a login without ``@`` is a
pool admin (the pool cabinet has no domain field, spec §6.2).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server_stub.api.deps import Principal
from server_stub.store.models import Domain, PoolAdmin, User


@dataclass
class Account:
    """The row a login names (if any) plus where its failures belong in the history."""

    user: User | None = None
    admin: PoolAdmin | None = None
    domain: Domain | None = None  # the typed domain, even when the user does not exist

    @property
    def exists(self) -> bool:
        return self.user is not None or self.admin is not None

    @property
    def password_hash(self) -> str | None:
        row = self.user or self.admin
        return row.password_hash if row is not None else None

    @property
    def subject(self) -> str:
        if self.user is not None:
            return f"u:{self.user.id}"
        assert self.admin is not None
        return f"p:{self.admin.id}"

    @property
    def enabled(self) -> bool:
        if self.user is not None:
            return self.user.active
        return self.admin is not None and not self.admin.blocked

    @property
    def pool_id(self) -> int | None:
        if self.admin is not None:
            return self.admin.pool_id
        return self.domain.pool_id if self.domain is not None else None


def normalise(login: str) -> str:
    return login.strip().lower()


def find_domain(session: Session, name: str) -> Domain | None:
    return session.execute(
        select(Domain).where(func.lower(Domain.name) == normalise(name))
    ).scalar_one_or_none()


def find_user(session: Session, domain: Domain, login: str) -> User | None:
    return session.execute(
        select(User).where(User.domain_id == domain.id, User.login == normalise(login))
    ).scalar_one_or_none()


def find_account(session: Session, typed: str) -> Account:
    login = normalise(typed)
    if "@" in login:
        local, _, domain_name = login.rpartition("@")
        domain = find_domain(session, domain_name)
        if domain is None or not local:
            return Account(domain=domain)
        return Account(user=find_user(session, domain, local), domain=domain)
    admin = session.execute(select(PoolAdmin).where(PoolAdmin.login == login)).scalar_one_or_none()
    return Account(admin=admin)


class DomainRef(BaseModel):
    id: int
    name: str
    display_name: str


class PrincipalOut(BaseModel):
    kind: str  # "user" | "pool_admin"
    login: str
    display_name: str
    roles: list[str]
    domain: DomainRef | None
    # "admin@<domain>" while a pool admin works inside a domain it opened.
    on_behalf_of: str | None = None


def describe(session: Session, principal: Principal) -> PrincipalOut:
    row: User | PoolAdmin | None = (
        session.get(User, principal.id)
        if principal.kind == "user"
        else session.get(PoolAdmin, principal.id)
    )
    domain = session.get(Domain, principal.domain_id) if principal.domain_id is not None else None
    return PrincipalOut(
        kind=principal.kind,
        login=principal.login,
        display_name=row.display_name if row is not None else "",
        roles=sorted(principal.roles),
        domain=DomainRef(id=domain.id, name=domain.name, display_name=domain.display_name)
        if domain is not None
        else None,
        on_behalf_of=principal.on_behalf_of,
    )
