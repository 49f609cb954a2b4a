"""Test data builders: two isolated tenants, people in every role, and their tokens."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from server_stub.api.security import encode_access_token
from server_stub.store import provision
from server_stub.store.models import Domain, DomainPool, PoolAdmin, User

PASSWORD = "Secret-pass1"
SECRET = "test-secret-key-that-is-long-enough-for-hs256"


def token_for_user(user: User) -> str:
    return encode_access_token({"sub": f"u:{user.id}"}, SECRET, 15)


def token_for_pool_admin(admin: PoolAdmin, domain_id: int | None = None) -> str:
    claims: dict[str, object] = {"sub": f"p:{admin.id}"}
    if domain_id is not None:
        claims["domain_id"] = domain_id
    return encode_access_token(claims, SECRET, 15)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Tenant:
    domain: Domain
    admin: User
    supervisor: User
    operator: User
    user: User

    def headers(self, who: str = "admin") -> dict[str, str]:
        return auth(token_for_user(getattr(self, who)))


def make_tenant(
    session: Session, name: str, pool: DomainPool | None = None, routing: str | None = None
) -> Tenant:
    domain = provision.create_domain(session, name, pool=pool, routing_number=routing)
    short = name.split(".")[0]
    admin = provision.create_user(
        session, domain, "admin", PASSWORD, f"Админ {short}", is_admin=True
    )
    sup = provision.create_user(
        session, domain, "supervisor", PASSWORD, f"Супервизор {short}", is_supervisor=True
    )
    op = provision.create_user(
        session, domain, "operator", PASSWORD, f"Оператор {short}", is_operator=True
    )
    user = provision.create_user(session, domain, "user", PASSWORD, f"Сотрудник {short}")
    return Tenant(domain, admin, sup, op, user)


@dataclass
class World:
    pool: DomainPool
    a: Tenant
    b: Tenant
    supervisor: PoolAdmin


def make_world(session: Session) -> World:
    """Two domains in one pool plus a pool supervisor; committed."""
    pool = provision.create_pool(session, "Тестовый пул")
    a = make_tenant(session, "alpha.test", pool, "4455")
    b = make_tenant(session, "beta.test", pool, "4456")
    sup = provision.create_pool_admin(
        session, pool, "poolsup", PASSWORD, "Пул-супервизор", supervisor=True
    )
    session.commit()
    return World(pool, a, b, sup)
