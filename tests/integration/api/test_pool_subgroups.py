"""Pool cabinet: sub-groups and group operations (spec §6.7), supervisor only; the built-in
«Без группы» is permanent."""

from __future__ import annotations

from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server_stub.api import security
from server_stub.store import provision
from server_stub.store.models import AuditEntry, Domain, PoolAdmin, Subgroup
from tests.factories import PASSWORD, World, auth, make_world, token_for_pool_admin


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Real argon2 costs ~1 s per account on a busy machine; these tests check rights, not KDFs.
    monkeypatch.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))


def sup(w: World) -> dict[str, str]:
    return auth(token_for_pool_admin(w.supervisor))


def subgroup_of(db: Session, domain: Domain) -> str:
    db.expire_all()
    fresh = db.get(Domain, domain.id)
    assert fresh is not None and fresh.subgroup_id is not None
    sg = db.get(Subgroup, fresh.subgroup_id)
    assert sg is not None
    return sg.name


def create(client: TestClient, w: World, name: str) -> dict[str, Any]:
    r = client.post("/api/pool/subgroups", json={"name": name}, headers=sup(w))
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_create_list_and_unique_names(client: TestClient, db: Session) -> None:
    w = make_world(db)
    created = create(client, w, "  Продажи ")
    assert created["name"] == "Продажи" and created["domain_count"] == 0
    assert created["is_default"] is False

    for clash in ("продажи", "ПРОДАЖИ", "без группы"):
        r = client.post("/api/pool/subgroups", json={"name": clash}, headers=sup(w))
        assert r.status_code == 409, clash
        assert r.json()["details"][0]["field"] == "name"
    r = client.post("/api/pool/subgroups", json={"name": "   "}, headers=sup(w))
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "name"

    listing = client.get("/api/pool/subgroups", headers=sup(w)).json()
    assert [(s["name"], s["domain_count"], s["is_default"]) for s in listing] == [
        ("Без группы", 2, True),
        ("Продажи", 0, False),
    ]
    # Names are unique per pool only: another pool may have its own «Продажи».
    other = provision.create_pool(db, "Другой")
    other_sup = provision.create_pool_admin(db, other, "o", PASSWORD, "O", supervisor=True)
    db.commit()
    r = client.post(
        "/api/pool/subgroups",
        json={"name": "Продажи"},
        headers=auth(token_for_pool_admin(other_sup)),
    )
    assert r.status_code == 201


def test_default_subgroup_can_be_neither_renamed_nor_deleted(
    client: TestClient, db: Session
) -> None:
    w = make_world(db)
    default = provision.default_subgroup(db, w.pool.id)
    r = client.patch(f"/api/pool/subgroups/{default.id}", json={"name": "Прочие"}, headers=sup(w))
    assert r.status_code == 409 and r.json()["code"] == "default_subgroup"
    assert "Без группы" in r.json()["message"]
    r = client.delete(f"/api/pool/subgroups/{default.id}", headers=sup(w))
    assert r.status_code == 409 and r.json()["code"] == "default_subgroup"
    db.expire_all()
    assert db.get(Subgroup, default.id).name == "Без группы"  # type: ignore[union-attr]


def test_rename_subgroup(client: TestClient, db: Session) -> None:
    w = make_world(db)
    sales = create(client, w, "Продажи")
    create(client, w, "Склад")
    r = client.patch(f"/api/pool/subgroups/{sales['id']}", json={"name": "Склад"}, headers=sup(w))
    assert r.status_code == 409 and r.json()["details"][0]["field"] == "name"
    r = client.patch(f"/api/pool/subgroups/{sales['id']}", json={"name": "Сбыт"}, headers=sup(w))
    assert r.status_code == 200 and r.json()["name"] == "Сбыт"
    entry = db.execute(
        select(AuditEntry).where(
            AuditEntry.action == "update", AuditEntry.object_type == "subgroup"
        )
    ).scalar_one()
    assert (entry.before, entry.after, entry.pool_id) == (
        {"name": "Продажи"},
        {"name": "Сбыт"},
        w.pool.id,
    )


def test_delete_subgroup_moves_its_domains_home_and_revokes_rights(
    client: TestClient, db: Session
) -> None:
    w = make_world(db)
    sales = create(client, w, "Продажи")
    keep = create(client, w, "Склад")
    r = client.post(
        "/api/pool/domains/move",
        json={"domain_ids": [w.a.domain.id], "subgroup_id": sales["id"]},
        headers=sup(w),
    )
    assert r.status_code == 200
    admin = provision.create_pool_admin(
        db,
        w.pool,
        "sga",
        PASSWORD,
        "SGA",
        allowed_subgroup_ids=[int(sales["id"]), int(keep["id"])],
    )
    db.commit()

    assert client.delete(f"/api/pool/subgroups/{sales['id']}", headers=sup(w)).status_code == 204
    assert subgroup_of(db, w.a.domain) == "Без группы"
    assert db.get(Subgroup, int(sales["id"])) is None
    assert db.get(PoolAdmin, admin.id).allowed_subgroup_ids == [keep["id"]]  # type: ignore[union-attr]
    assert client.delete(f"/api/pool/subgroups/{sales['id']}", headers=sup(w)).status_code == 404
    deleted = db.execute(
        select(AuditEntry).where(
            AuditEntry.action == "delete", AuditEntry.object_type == "subgroup"
        )
    ).scalar_one()
    assert deleted.before is not None and deleted.before["domain_ids"] == [w.a.domain.id]


def test_group_operations_move_to_existing_new_and_back_to_default(
    client: TestClient, db: Session
) -> None:
    w = make_world(db)
    both = [w.a.domain.id, w.b.domain.id]
    r = client.post(
        "/api/pool/domains/move",
        json={"domain_ids": both, "new_subgroup_name": "Филиалы"},
        headers=sup(w),
    )
    assert r.status_code == 200, r.text
    assert r.json()["moved"] == 2 and r.json()["subgroup"]["domain_count"] == 2
    assert subgroup_of(db, w.a.domain) == subgroup_of(db, w.b.domain) == "Филиалы"

    south = create(client, w, "Юг")
    r = client.post(
        "/api/pool/domains/move",
        json={"domain_ids": [w.b.domain.id], "subgroup_id": south["id"]},
        headers=sup(w),
    )
    assert r.json()["moved"] == 1
    assert subgroup_of(db, w.b.domain) == "Юг"

    # «Удалить из группы» = move back to the default sub-group.
    default = provision.default_subgroup(db, w.pool.id)
    r = client.post(
        "/api/pool/domains/move",
        json={"domain_ids": both, "subgroup_id": default.id},
        headers=sup(w),
    )
    assert r.json()["moved"] == 2
    assert subgroup_of(db, w.a.domain) == subgroup_of(db, w.b.domain) == "Без группы"

    # Each move is in the history of the domain itself, readable by that domain's admin.
    history = client.get(
        "/api/audit", params={"object_type": "domain"}, headers=w.a.headers()
    ).json()
    moves = [(i["before"]["subgroup"], i["after"]["subgroup"]) for i in history["items"]]
    assert moves == [("Филиалы", "Без группы"), ("Без группы", "Филиалы")]


def test_group_operation_is_all_or_nothing(client: TestClient, db: Session) -> None:
    w = make_world(db)
    other = provision.create_pool(db, "Чужой")
    foreign = provision.create_domain(db, "foreign.test", pool=other)
    db.commit()
    sales = create(client, w, "Продажи")
    r = client.post(
        "/api/pool/domains/move",
        json={"domain_ids": [w.a.domain.id, foreign.id], "subgroup_id": sales["id"]},
        headers=sup(w),
    )
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "domain_ids"
    r = client.post(
        "/api/pool/domains/move",
        json={"domain_ids": [w.a.domain.id], "new_subgroup_name": "Продажи"},
        headers=sup(w),
    )
    assert r.status_code == 409 and r.json()["details"][0]["field"] == "name"
    assert subgroup_of(db, w.a.domain) == "Без группы"
    assert subgroup_of(db, foreign) == "Без группы"  # the other pool's own default

    foreign_group = db.execute(select(Subgroup).where(Subgroup.pool_id == other.id)).scalar_one()
    for body in (
        {"domain_ids": [w.a.domain.id], "subgroup_id": foreign_group.id},
        {"domain_ids": [w.a.domain.id]},
        {"domain_ids": [w.a.domain.id], "subgroup_id": sales["id"], "new_subgroup_name": "X"},
        {"domain_ids": [], "subgroup_id": sales["id"]},
    ):
        r = client.post("/api/pool/domains/move", json=body, headers=sup(w))
        assert r.status_code == 422, body
    assert subgroup_of(db, w.a.domain) == "Без группы"


def test_subgroup_admin_cannot_configure_subgroups(client: TestClient, db: Session) -> None:
    w = make_world(db)
    default = provision.default_subgroup(db, w.pool.id)
    sales = Subgroup(pool_id=w.pool.id, name="Продажи")
    db.add(sales)
    db.flush()
    admin = provision.create_pool_admin(
        db, w.pool, "sga", PASSWORD, "SGA", allowed_subgroup_ids=[sales.id, default.id]
    )
    db.commit()
    h = auth(token_for_pool_admin(admin))
    assert client.get("/api/pool/subgroups", headers=h).status_code == 403
    assert client.post("/api/pool/subgroups", json={"name": "X"}, headers=h).status_code == 403
    r = client.patch(f"/api/pool/subgroups/{sales.id}", json={"name": "X"}, headers=h)
    assert r.status_code == 403
    assert client.delete(f"/api/pool/subgroups/{sales.id}", headers=h).status_code == 403
    r = client.post(
        "/api/pool/domains/move",
        json={"domain_ids": [w.a.domain.id], "subgroup_id": sales.id},
        headers=h,
    )
    assert r.status_code == 403
    assert subgroup_of(db, w.a.domain) == "Без группы"
    assert db.execute(select(AuditEntry)).first() is None
