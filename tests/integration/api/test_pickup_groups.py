"""Pickup groups through the API: one group per user, the domain's code, deletion."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server_stub.store.models import AuditEntry, User
from tests.factories import make_world


def test_pickup_group_shows_members_and_the_domain_code(client: TestClient, db: Session) -> None:
    w = make_world(db)
    r = client.post(
        "/api/pickup-groups",
        json={"name": "Бухгалтерия", "user_ids": [w.a.user.id, w.a.operator.id]},
        headers=w.a.headers(),
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["pickup_code"] == "*8"
    assert sorted(body["member_ids"]) == sorted([w.a.user.id, w.a.operator.id])
    names = {m["display_name"] for m in body["members"]}
    assert names == {w.a.user.display_name, w.a.operator.display_name}
    dup = client.post("/api/pickup-groups", json={"name": "бухгалтерия"}, headers=w.a.headers())
    assert dup.status_code == 409 and dup.json()["details"][0]["field"] == "name"
    empty = client.post("/api/pickup-groups", json={"name": "  "}, headers=w.a.headers())
    assert empty.status_code == 422 and empty.json()["details"][0]["field"] == "name"
    # Every domain user may see the pickup groups (the directory is grouped by them).
    seen = client.get("/api/pickup-groups", headers=w.a.headers("user")).json()
    assert seen["total"] == 1
    listed = client.get(
        "/api/users", params={"pickup_group_id": body["id"]}, headers=w.a.headers()
    ).json()
    assert sorted(u["id"] for u in listed["items"]) == sorted(body["member_ids"])


def test_a_user_is_in_at_most_one_pickup_group(client: TestClient, db: Session) -> None:
    w = make_world(db)
    h = w.a.headers()
    first = client.post(
        "/api/pickup-groups", json={"name": "Первый этаж", "user_ids": [w.a.user.id]}, headers=h
    ).json()
    second = client.post("/api/pickup-groups", json={"name": "Второй этаж"}, headers=h).json()
    r = client.put(
        f"/api/pickup-groups/{second['id']}/members",
        json={"user_ids": [w.a.user.id, w.a.operator.id]},
        headers=h,
    )
    assert r.status_code == 200
    assert sorted(r.json()["member_ids"]) == sorted([w.a.user.id, w.a.operator.id])
    assert client.get(f"/api/pickup-groups/{first['id']}", headers=h).json()["member_ids"] == []
    moved = (
        db.execute(
            select(AuditEntry).where(
                AuditEntry.object_type == "user", AuditEntry.object_id == str(w.a.user.id)
            )
        )
        .scalars()
        .all()
    )
    assert moved[-1].before == {"pickup_group_id": first["id"]}
    assert moved[-1].after == {"pickup_group_id": second["id"]}
    # Replacing the list drops whoever is not in it.
    client.put(
        f"/api/pickup-groups/{second['id']}/members", json={"user_ids": [w.a.user.id]}, headers=h
    )
    db.expire_all()
    operator = db.get(User, w.a.operator.id)
    assert operator is not None and operator.pickup_group_id is None


def test_deleting_a_pickup_group_leaves_users_ungrouped(client: TestClient, db: Session) -> None:
    w = make_world(db)
    h = w.a.headers()
    group = client.post(
        "/api/pickup-groups", json={"name": "Склад", "user_ids": [w.a.user.id]}, headers=h
    ).json()
    assert client.delete(f"/api/pickup-groups/{group['id']}", headers=h).status_code == 204
    db.expire_all()
    user = db.get(User, w.a.user.id)
    assert user is not None and user.pickup_group_id is None
    actions = db.execute(
        select(AuditEntry.object_type, AuditEntry.action).order_by(AuditEntry.id)
    ).all()
    assert ("user", "update") in actions and ("pickup_group", "delete") in actions


def test_pickup_groups_are_private_to_the_domain(client: TestClient, db: Session) -> None:
    w = make_world(db)
    group = client.post("/api/pickup-groups", json={"name": "Склад"}, headers=w.a.headers()).json()
    assert client.get(f"/api/pickup-groups/{group['id']}", headers=w.b.headers()).status_code == 404
    foreign = client.put(
        f"/api/pickup-groups/{group['id']}/members",
        json={"user_ids": [w.a.user.id]},
        headers=w.b.headers(),
    )
    assert foreign.status_code == 404
    foreign_user = client.put(
        f"/api/pickup-groups/{group['id']}/members",
        json={"user_ids": [w.b.user.id]},
        headers=w.a.headers(),
    )
    assert foreign_user.status_code == 404
    other = client.get(f"/api/users/{w.b.user.id}", headers=w.a.headers())
    assert other.status_code == 404
    denied = client.post(
        "/api/pickup-groups", json={"name": "Ещё"}, headers=w.a.headers("operator")
    )
    assert denied.status_code == 403
    via_user = client.patch(
        f"/api/users/{w.a.user.id}", json={"pickup_group_id": 999999}, headers=w.a.headers()
    )
    assert via_user.status_code == 422
    assert via_user.json()["details"][0]["field"] == "pickup_group_id"
