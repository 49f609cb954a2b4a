"""A pool admin opens a domain as its admin (spec 01 §6.4, §6.7): who may, and what it leaves
in the domain's own history."""

from __future__ import annotations

from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server_stub.api import security
from server_stub.store import provision
from server_stub.store.models import AuditEntry, PoolAdmin, Subgroup, VipNumber
from tests.factories import PASSWORD, World, auth, make_world


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at production cost makes every make_world() take seconds; behaviour is the same."""
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(security, "_hasher", cheap)
    monkeypatch.setattr(security, "_DUMMY_HASH", cheap.hash("not-a-real-password-0"))


def sign_in(client: TestClient, login: str) -> str:
    r = client.post("/api/auth/login", json={"login": login, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def open_domain(client: TestClient, token: str, domain_id: int) -> Any:
    return client.post("/api/auth/open-domain", json={"domain_id": domain_id}, headers=auth(token))


def subgroup_admin(db: Session, w: World) -> PoolAdmin:
    """A sub-group admin allowed only the sub-group "Юг", into which beta.test is moved."""
    south = Subgroup(pool_id=w.pool.id, name="Юг")
    db.add(south)
    db.flush()
    w.b.domain.subgroup_id = south.id
    admin = provision.create_pool_admin(
        db, w.pool, "southadmin", PASSWORD, "Админ юга", allowed_subgroup_ids=[south.id]
    )
    db.commit()
    return admin


def test_supervisor_opens_a_domain_and_works_there_as_its_admin(
    client: TestClient, db: Session
) -> None:
    w = make_world(db)
    db.add_all(
        [
            VipNumber(domain_id=w.a.domain.id, e164="+74950000001", priority=1),
            VipNumber(domain_id=w.b.domain.id, e164="+74950000002", priority=1),
        ]
    )
    db.commit()
    r = open_domain(client, sign_in(client, "poolsup"), w.b.domain.id)
    assert r.status_code == 200, r.text
    body = r.json()
    p = body["principal"]
    assert p["kind"] == "pool_admin" and p["domain"]["name"] == "beta.test"
    assert "domain_admin" in p["roles"] and p["on_behalf_of"] == "admin@beta.test"
    h = auth(body["access_token"])

    listed = client.get("/api/vip-numbers", headers=h).json()
    assert [v["e164"] for v in listed["items"]] == ["+74950000002"]
    created = client.post(
        "/api/vip-numbers", json={"e164": "+74951112233", "priority": 5}, headers=h
    )
    assert created.status_code == 201, created.text

    db.expire_all()
    change = db.execute(
        select(AuditEntry).where(AuditEntry.object_type == "vip_number")
    ).scalar_one()
    assert change.actor_kind == "pool_admin" and change.actor_id == w.supervisor.id
    assert change.domain_id == w.b.domain.id and change.on_behalf_of == "admin@beta.test"
    opened = db.execute(select(AuditEntry).where(AuditEntry.action == "open_domain")).scalar_one()
    assert opened.domain_id == w.b.domain.id and opened.actor_login == "poolsup"
    assert opened.object_name == "beta.test" and opened.on_behalf_of == "admin@beta.test"


def test_opened_session_can_be_refreshed_and_keeps_its_domain(
    client: TestClient, db: Session
) -> None:
    w = make_world(db)
    body = open_domain(client, sign_in(client, "poolsup"), w.a.domain.id).json()
    r = client.post("/api/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert r.status_code == 200, r.text
    assert r.json()["principal"]["domain"]["id"] == w.a.domain.id
    me = client.get("/api/auth/me", headers=auth(r.json()["access_token"])).json()
    assert me["domain"]["name"] == "alpha.test" and me["on_behalf_of"] == "admin@alpha.test"


def test_subgroup_admin_opens_only_domains_of_allowed_subgroups(
    client: TestClient, db: Session
) -> None:
    w = make_world(db)
    subgroup_admin(db, w)
    token = sign_in(client, "southadmin")
    assert open_domain(client, token, w.b.domain.id).status_code == 200
    refused = open_domain(client, token, w.a.domain.id)  # "Без группы": visible, not managed
    assert refused.status_code == 403 and "alpha.test" in refused.json()["message"]
    opened = db.execute(select(AuditEntry).where(AuditEntry.action == "open_domain"))
    assert [e.domain_id for e in opened.scalars()] == [w.b.domain.id]


def test_losing_the_subgroup_ends_the_opened_session(client: TestClient, db: Session) -> None:
    w = make_world(db)
    admin = subgroup_admin(db, w)
    body = open_domain(client, sign_in(client, "southadmin"), w.b.domain.id).json()
    admin.allowed_subgroup_ids = []
    db.commit()
    assert client.get("/api/vip-numbers", headers=auth(body["access_token"])).status_code == 401
    r = client.post("/api/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert r.status_code == 401


def test_another_pools_domain_is_not_found(client: TestClient, db: Session) -> None:
    w = make_world(db)
    other_pool = provision.create_pool(db, "Чужой пул")
    foreign = provision.create_domain(db, "gamma.test", pool=other_pool)
    db.commit()
    token = sign_in(client, "poolsup")
    assert open_domain(client, token, foreign.id).status_code == 404
    assert open_domain(client, token, 999_999).status_code == 404
    assert open_domain(client, token, w.a.domain.id).status_code == 200


def test_domain_users_cannot_open_domains(client: TestClient, db: Session) -> None:
    w = make_world(db)
    r = client.post(
        "/api/auth/open-domain", json={"domain_id": w.b.domain.id}, headers=w.a.headers("admin")
    )
    assert r.status_code == 403
    assert (
        client.post("/api/auth/open-domain", json={"domain_id": w.b.domain.id}).status_code == 401
    )
