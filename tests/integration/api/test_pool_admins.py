"""Pool cabinet: administrators (spec §6.8, supervisor only) and the own profile (§6.5)."""

from __future__ import annotations

from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server_stub.api import security
from server_stub.store import provision
from server_stub.store.models import AuditEntry, PoolAdmin, PoolRole, Subgroup
from tests.factories import PASSWORD, World, auth, make_world, token_for_pool_admin


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Real argon2 costs ~1 s per account on a busy machine; these tests check rights, not KDFs.
    monkeypatch.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))


def sup(w: World) -> dict[str, str]:
    return auth(token_for_pool_admin(w.supervisor))


def new_admin(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "login": "petrov",
        "display_name": "Пётр Петров",
        "email": "petrov@example.com",
        "password": "Strong-pass1",
    }
    body.update(overrides)
    return body


def sales_group(db: Session, w: World) -> Subgroup:
    sg = Subgroup(pool_id=w.pool.id, name="Продажи")
    db.add(sg)
    db.commit()
    return sg


def test_create_subgroup_admin_by_default(client: TestClient, db: Session) -> None:
    w = make_world(db)
    sales = sales_group(db, w)
    r = client.post(
        "/api/pool/admins",
        json=new_admin(phone="8 (916) 123-45-67", allowed_subgroup_ids=[sales.id]),
        headers=sup(w),
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["role"] == "subgroup_admin" and body["blocked"] is False
    assert body["phone"] == "+79161234567"
    assert body["allowed_subgroups"] == [{"id": sales.id, "name": "Продажи"}]
    stored = db.execute(select(PoolAdmin).where(PoolAdmin.login == "petrov")).scalar_one()
    assert security.verify_password(stored.password_hash, "Strong-pass1")
    entry = db.execute(
        select(AuditEntry).where(AuditEntry.object_type == "pool_admin")
    ).scalar_one()
    assert entry.action == "create" and entry.pool_id == w.pool.id and entry.domain_id is None
    assert entry.after is not None and entry.after["password_hash"] == "***"

    listing = client.get("/api/pool/admins", headers=sup(w)).json()
    assert [a["login"] for a in listing] == ["petrov", "poolsup"]

    # The new account works at once: it may open the pool cabinet.
    token = auth(token_for_pool_admin(stored))
    assert client.get("/api/pool", headers=token).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "field", "status"),
    [
        ({"login": "Петров"}, "login", 422),
        ({"login": "poolsup"}, "login", 409),
        ({"password": "short"}, "password", 422),
        ({"password": "alllowercaseletters"}, "password", 422),
        ({"email": "not-an-email"}, "email", 422),
        ({"email": None}, "email", 422),
        ({"display_name": "  "}, "display_name", 422),
        ({"phone": "123"}, "phone", 422),
        ({"role": "king"}, "role", 422),
        ({"allowed_subgroup_ids": [999999]}, "allowed_subgroup_ids", 422),
    ],
)
def test_create_admin_validation_names_the_field(
    client: TestClient, db: Session, overrides: dict[str, Any], field: str, status: int
) -> None:
    w = make_world(db)
    body = new_admin(**overrides)
    if overrides.get("email", "") is None:
        del body["email"]
    r = client.post("/api/pool/admins", json=body, headers=sup(w))
    assert r.status_code == status, r.text
    assert r.json()["details"][0]["field"] == field
    assert db.execute(select(PoolAdmin).where(PoolAdmin.login == "petrov")).first() is None


def test_logins_are_unique_across_pools_and_subgroups_must_be_of_this_pool(
    client: TestClient, db: Session
) -> None:
    w = make_world(db)
    other = provision.create_pool(db, "Чужой")
    provision.create_pool_admin(db, other, "petrov", PASSWORD, "Чужой Петров", supervisor=True)
    foreign_default = provision.default_subgroup(db, other.id)
    db.commit()
    r = client.post("/api/pool/admins", json=new_admin(), headers=sup(w))
    assert r.status_code == 409 and r.json()["details"][0]["field"] == "login"
    r = client.post(
        "/api/pool/admins",
        json=new_admin(login="sidorov", allowed_subgroup_ids=[foreign_default.id]),
        headers=sup(w),
    )
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "allowed_subgroup_ids"
    # Nor can a supervisor see or edit the other pool's admins.
    foreign = db.execute(select(PoolAdmin).where(PoolAdmin.login == "petrov")).scalar_one()
    assert client.get(f"/api/pool/admins/{foreign.id}", headers=sup(w)).status_code == 404
    r = client.patch(f"/api/pool/admins/{foreign.id}", json={"blocked": True}, headers=sup(w))
    assert r.status_code == 404
    assert client.delete(f"/api/pool/admins/{foreign.id}", headers=sup(w)).status_code == 404
    db.refresh(foreign)
    assert foreign.blocked is False


def test_role_and_login_are_immutable(client: TestClient, db: Session) -> None:
    w = make_world(db)
    created = client.post("/api/pool/admins", json=new_admin(), headers=sup(w)).json()
    url = f"/api/pool/admins/{created['id']}"
    r = client.patch(url, json={"role": "supervisor"}, headers=sup(w))
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "role"
    r = client.patch(url, json={"login": "ivanov"}, headers=sup(w))
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "login"
    # Sending the whole form back unchanged is fine.
    r = client.patch(
        url,
        json={"role": "subgroup_admin", "login": "petrov", "display_name": "П. Петров"},
        headers=sup(w),
    )
    assert r.status_code == 200 and r.json()["display_name"] == "П. Петров"
    db.expire_all()
    stored = db.get(PoolAdmin, created["id"])
    assert stored is not None and stored.role == PoolRole.SUBGROUP_ADMIN
    assert stored.login == "petrov"


def test_supervisor_edits_status_rights_and_password(client: TestClient, db: Session) -> None:
    w = make_world(db)
    sales = sales_group(db, w)
    created = client.post("/api/pool/admins", json=new_admin(), headers=sup(w)).json()
    url = f"/api/pool/admins/{created['id']}"
    r = client.patch(
        url,
        json={"allowed_subgroup_ids": [sales.id], "password": "Other-pass2", "blocked": True},
        headers=sup(w),
    )
    assert r.status_code == 200, r.text
    assert r.json()["allowed_subgroup_ids"] == [sales.id] and r.json()["blocked"] is True
    db.expire_all()
    stored = db.get(PoolAdmin, created["id"])
    assert stored is not None and security.verify_password(stored.password_hash, "Other-pass2")
    # A blocked admin's session stops working.
    assert client.get("/api/pool", headers=auth(token_for_pool_admin(stored))).status_code == 401
    r = client.patch(url, json={"password": "weak"}, headers=sup(w))
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "password"

    assert client.delete(url, headers=sup(w)).status_code == 204
    assert client.get(url, headers=sup(w)).status_code == 404
    actions = db.execute(
        select(AuditEntry.action)
        .where(AuditEntry.object_type == "pool_admin")
        .order_by(AuditEntry.id)
    ).scalars()
    assert list(actions) == ["create", "update", "delete"]


def test_supervisor_cannot_delete_or_block_self(client: TestClient, db: Session) -> None:
    w = make_world(db)
    provision.create_pool_admin(db, w.pool, "second", PASSWORD, "Второй", supervisor=True)
    db.commit()
    me = f"/api/pool/admins/{w.supervisor.id}"
    r = client.patch(me, json={"blocked": True}, headers=sup(w))
    assert r.status_code == 409 and r.json()["code"] == "self_action"
    r = client.delete(me, headers=sup(w))
    assert r.status_code == 409 and r.json()["code"] == "self_action"
    db.expire_all()
    assert db.get(PoolAdmin, w.supervisor.id).blocked is False  # type: ignore[union-attr]


def test_last_active_supervisor_is_protected(client: TestClient, db: Session) -> None:
    w = make_world(db)
    me = f"/api/pool/admins/{w.supervisor.id}"
    r = client.delete(me, headers=sup(w))
    assert r.status_code == 409 and r.json()["code"] == "last_supervisor"
    r = client.patch(me, json={"blocked": True}, headers=sup(w))
    assert r.status_code == 409 and r.json()["code"] == "last_supervisor"
    # A blocked second supervisor does not count: the only *active* one is still the last.
    second = provision.create_pool_admin(db, w.pool, "second", PASSWORD, "Второй", supervisor=True)
    second.blocked = True
    db.commit()
    assert client.delete(me, headers=sup(w)).json()["code"] == "last_supervisor"
    # Demoting is impossible altogether: the role never changes.
    r = client.patch(me, json={"role": "subgroup_admin"}, headers=sup(w))
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "role"
    # Another supervisor may be deleted while the caller stays.
    assert client.delete(f"/api/pool/admins/{second.id}", headers=sup(w)).status_code == 204
    db.expire_all()
    assert db.get(PoolAdmin, w.supervisor.id) is not None


def test_subgroup_admin_cannot_manage_admins(client: TestClient, db: Session) -> None:
    w = make_world(db)
    sga = provision.create_pool_admin(db, w.pool, "sga", PASSWORD, "SGA")
    db.commit()
    h = auth(token_for_pool_admin(sga))
    assert client.get("/api/pool/admins", headers=h).status_code == 403
    assert client.get(f"/api/pool/admins/{sga.id}", headers=h).status_code == 403
    assert client.post("/api/pool/admins", json=new_admin(), headers=h).status_code == 403
    r = client.patch(f"/api/pool/admins/{sga.id}", json={"allowed_subgroup_ids": []}, headers=h)
    assert r.status_code == 403
    r = client.delete(f"/api/pool/admins/{w.supervisor.id}", headers=h)
    assert r.status_code == 403
    db.expire_all()
    assert db.get(PoolAdmin, w.supervisor.id) is not None


@pytest.mark.parametrize("role", ["supervisor", "subgroup_admin"])
def test_any_pool_admin_edits_own_profile_only(client: TestClient, db: Session, role: str) -> None:
    w = make_world(db)
    me = w.supervisor
    if role == "subgroup_admin":
        me = provision.create_pool_admin(db, w.pool, "sga", PASSWORD, "SGA")
        db.commit()
    h = auth(token_for_pool_admin(me))
    assert client.get("/api/pool/me", headers=h).json()["role"] == role
    r = client.patch(
        "/api/pool/me",
        json={
            "display_name": "Новое имя",
            "email": "me@example.com",
            "phone": "+7 916 000-00-01",
            "password": "Brand-new1",
        },
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["display_name"], r.json()["phone"]) == ("Новое имя", "+79160000001")
    not_own_business: list[dict[str, Any]] = [
        {"blocked": True},
        {"role": "supervisor"},
        {"allowed_subgroup_ids": []},
    ]
    for forbidden_field in not_own_business:
        r = client.patch("/api/pool/me", json=forbidden_field, headers=h)
        assert r.status_code == 422
        assert r.json()["details"][0]["field"] == next(iter(forbidden_field))
    db.expire_all()
    stored = db.get(PoolAdmin, me.id)
    assert stored is not None and stored.role.value == role and stored.blocked is False
    assert security.verify_password(stored.password_hash, "Brand-new1")
    entry = db.execute(select(AuditEntry)).scalar_one()
    assert entry.actor_login == me.login and entry.object_id == str(me.id)
    assert entry.after is not None and entry.after["password_changed"] is True
    assert "$argon2" not in str(entry.before) + str(entry.after)
