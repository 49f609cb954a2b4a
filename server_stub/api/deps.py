"""Request dependencies: the database session, the caller (principal) and role checks.

Every endpoint that touches tenant data depends on ``CurrentPrincipal``; its ``domain_id``
is the only domain the request may read or change (see ``crud.scoped``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from server_stub.api.errors import ApiError, Text, forbidden
from server_stub.api.security import decode_access_token
from server_stub.store.models import Domain, PoolAdmin, PoolRole, User

ADMIN = "domain_admin"
SUPERVISOR = "supervisor"
OPERATOR = "operator"
USER = "user"
POOL_SUPERVISOR = "pool_supervisor"
POOL_SUBGROUP_ADMIN = "pool_subgroup_admin"


@dataclass(frozen=True)
class Principal:
    """Who is calling. A pool admin who opened a domain acts there as its domain admin."""

    kind: str  # "user" | "pool_admin"
    id: int
    login: str  # as typed at login: "ivanov@demo.pult" or a pool login
    roles: frozenset[str]
    domain_id: int | None = None
    pool_id: int | None = None
    allowed_subgroup_ids: frozenset[int] = field(default_factory=frozenset)
    on_behalf_of: str | None = None  # "admin@<domain>" while a pool admin acts in a domain
    address: str = ""

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def user_id(self) -> int | None:
        return self.id if self.kind == "user" else None


def get_session(request: Request) -> Iterator[Session]:
    session: Session = request.app.state.session_factory()
    try:
        yield session
    finally:
        # Endpoints commit explicitly; whatever was not committed is rolled back here.
        session.rollback()
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


def client_address(request: Request) -> str:
    # The direct peer only: a forwarded-for header is trivially forged and would defeat
    # the per-address lockout.
    return request.client.host if request.client else ""


def _unauthorized() -> ApiError:
    return ApiError(
        401,
        "not_authenticated",
        Text("Требуется вход в систему", "Authentication required"),
    )


def principal_from_token(session: Session, token: str, key: str, address: str = "") -> Principal:
    claims = decode_access_token(token, key)
    if claims is None:
        raise _unauthorized()
    sub = str(claims.get("sub", ""))
    kind, _, raw_id = sub.partition(":")
    if not raw_id.isdigit():
        raise _unauthorized()
    if kind == "u":
        user = session.get(User, int(raw_id))
        if user is None or not user.active:
            raise _unauthorized()
        domain = session.get(Domain, user.domain_id)
        assert domain is not None
        return Principal(
            kind="user",
            id=user.id,
            login=f"{user.login}@{domain.name}",
            roles=frozenset(user.roles),
            domain_id=user.domain_id,
            pool_id=domain.pool_id,
            address=address,
        )
    if kind == "p":
        admin = session.get(PoolAdmin, int(raw_id))
        if admin is None or admin.blocked:
            raise _unauthorized()
        pool_role = POOL_SUPERVISOR if admin.role == PoolRole.SUPERVISOR else POOL_SUBGROUP_ADMIN
        roles = {pool_role}
        domain_id = claims.get("domain_id")
        on_behalf = None
        if domain_id is not None:
            domain = session.get(Domain, int(domain_id))
            if domain is None or domain.pool_id != admin.pool_id:
                raise _unauthorized()
            if admin.role != PoolRole.SUPERVISOR and domain.subgroup_id not in set(
                admin.allowed_subgroup_ids or []
            ):
                raise _unauthorized()
            roles |= {USER, ADMIN, SUPERVISOR}
            on_behalf = f"admin@{domain.name}"
        return Principal(
            kind="pool_admin",
            id=admin.id,
            login=admin.login,
            roles=frozenset(roles),
            domain_id=int(domain_id) if domain_id is not None else None,
            pool_id=admin.pool_id,
            allowed_subgroup_ids=frozenset(admin.allowed_subgroup_ids or []),
            on_behalf_of=on_behalf,
            address=address,
        )
    raise _unauthorized()


def get_principal(request: Request, session: SessionDep) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized()
    return principal_from_token(
        session, token, request.app.state.secret_key, client_address(request)
    )


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require(*roles: str) -> Callable[[Principal], Principal]:
    """A dependency: the caller must hold one of ``roles`` (and, for domain roles, a domain)."""

    def check(principal: CurrentPrincipal) -> Principal:
        if not principal.has(*roles):
            raise forbidden()
        return principal

    return check


def require_domain(*roles: str) -> Callable[[Principal], Principal]:
    """Like ``require`` but the caller must also be acting inside a domain."""

    def check(principal: CurrentPrincipal) -> Principal:
        if principal.domain_id is None or not principal.has(*roles):
            raise forbidden()
        return principal

    return check


DomainUser = Annotated[Principal, Depends(require_domain(USER))]
DomainAdmin = Annotated[Principal, Depends(require_domain(ADMIN))]
DomainSupervisor = Annotated[Principal, Depends(require_domain(ADMIN, SUPERVISOR))]
PoolAdminDep = Annotated[Principal, Depends(require(POOL_SUPERVISOR, POOL_SUBGROUP_ADMIN))]
PoolSupervisorDep = Annotated[Principal, Depends(require(POOL_SUPERVISOR))]
