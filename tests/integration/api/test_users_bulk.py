"""Bulk operations on users: all or nothing, domain-scoped, one audit row per changed user."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server_stub.store.models import AuditEntry, CallGroup, GroupMember, PickupGroup, User
from tests.factories import make_world


def audit_count(db: Session) -> int:
    return int(db.execute(select(func.count()).select_from(AuditEntry)).scalar_one())


def test_bulk_with_a_foreign_id_changes_nothing(client: TestClient, db: Session) -> None:
    w = make_world(db)
    group = CallGroup(domain_id=w.a.domain.id, name="Продажи", extension="500")
    db.add(group)
    db.commit()
    ids = [w.a.user.id, w.a.operator.id, w.b.user.id]
    r = client.post(
        "/api/users/bulk",
        json={"user_ids": ids, "action": "add_to_group", "group_id": group.id},
        headers=w.a.headers(),
    )
    assert r.status_code == 404
    # Nothing of the other domain is named; the id the caller sent is all it says.
    assert "beta" not in r.text and w.b.user.display_name not in r.text
    assert db.execute(select(func.count()).select_from(GroupMember)).scalar_one() == 0
    assert audit_count(db) == 0
    for action in ("delete", "set_recording"):
        r = client.post(
            "/api/users/bulk",
            json={"user_ids": ids, "action": action, "recording": True},
            headers=w.a.headers(),
        )
        assert r.status_code == 404
    db.expire_all()
    assert db.get(User, w.a.user.id) is not None
    assert not db.get(User, w.a.operator.id).recording  # type: ignore[union-attr]


def test_bulk_add_to_group_audits_only_changed_users(client: TestClient, db: Session) -> None:
    w = make_world(db)
    group = CallGroup(domain_id=w.a.domain.id, name="Продажи", extension="500")
    db.add(group)
    db.flush()
    db.add(GroupMember(group_id=group.id, user_id=w.a.operator.id, priority=5))
    db.commit()
    r = client.post(
        "/api/users/bulk",
        json={
            "user_ids": [w.a.user.id, w.a.operator.id, w.a.supervisor.id],
            "action": "add_to_group",
            "group_id": group.id,
        },
        headers=w.a.headers(),
    )
    assert r.status_code == 200, r.text
    assert sorted(r.json()["changed"]) == sorted([w.a.user.id, w.a.supervisor.id])
    rows = db.execute(select(AuditEntry).where(AuditEntry.object_type == "user")).scalars().all()
    assert sorted(int(e.object_id or 0) for e in rows) == sorted(r.json()["changed"])
    assert all(e.after == {"group_ids": [group.id]} for e in rows)
    # The existing member keeps the priority the administrator gave them.
    kept = db.get(GroupMember, (group.id, w.a.operator.id))
    assert kept is not None and kept.priority == 5
    foreign_group = client.post(
        "/api/users/bulk",
        json={"user_ids": [w.a.user.id], "action": "add_to_group", "group_id": 999999},
        headers=w.a.headers(),
    )
    assert foreign_group.status_code == 404


def test_bulk_roles_cannot_remove_every_admin(client: TestClient, db: Session) -> None:
    w = make_world(db)
    ids = [w.a.admin.id, w.a.user.id]
    r = client.post(
        "/api/users/bulk",
        json={"user_ids": ids, "action": "set_roles", "is_admin": False, "is_operator": True},
        headers=w.a.headers(),
    )
    assert r.status_code == 409 and r.json()["code"] == "last_admin"
    db.expire_all()
    assert db.get(User, w.a.admin.id).is_admin  # type: ignore[union-attr]
    assert not db.get(User, w.a.user.id).is_operator  # type: ignore[union-attr]
    ok = client.post(
        "/api/users/bulk",
        json={"user_ids": ids, "action": "set_roles", "is_operator": True},
        headers=w.a.headers(),
    )
    assert ok.status_code == 200 and sorted(ok.json()["changed"]) == sorted(ids)
    empty = client.post(
        "/api/users/bulk", json={"user_ids": ids, "action": "set_roles"}, headers=w.a.headers()
    )
    assert empty.status_code == 422


def test_bulk_delete_refuses_yourself_and_deletes_others(client: TestClient, db: Session) -> None:
    w = make_world(db)
    victims = [w.a.user.id, w.a.operator.id]
    r = client.post(
        "/api/users/bulk",
        json={"user_ids": [*victims, w.a.admin.id], "action": "delete"},
        headers=w.a.headers(),
    )
    assert r.status_code == 409 and r.json()["code"] == "cannot_delete_self"
    assert audit_count(db) == 0
    ok = client.post(
        "/api/users/bulk", json={"user_ids": victims, "action": "delete"}, headers=w.a.headers()
    )
    assert ok.status_code == 200
    db.expunge_all()
    assert all(db.get(User, uid) is None for uid in victims)
    deleted = db.execute(
        select(AuditEntry).where(AuditEntry.action == "delete", AuditEntry.object_type == "user")
    ).scalars()
    assert sorted(int(e.object_id or 0) for e in deleted) == sorted(victims)


def test_bulk_pickup_group_and_recording(client: TestClient, db: Session) -> None:
    w = make_world(db)
    pickup = PickupGroup(domain_id=w.a.domain.id, name="Бухгалтерия")
    db.add(pickup)
    db.commit()
    ids = [w.a.user.id, w.a.operator.id]
    h = w.a.headers()
    r = client.post(
        "/api/users/bulk",
        json={"user_ids": ids, "action": "set_pickup_group", "pickup_group_id": pickup.id},
        headers=h,
    )
    assert r.status_code == 200
    members = client.get(f"/api/pickup-groups/{pickup.id}", headers=h).json()["member_ids"]
    assert sorted(members) == sorted(ids)
    client.post(
        "/api/users/bulk",
        json={"user_ids": ids, "action": "set_pickup_group", "pickup_group_id": None},
        headers=h,
    )
    assert client.get(f"/api/pickup-groups/{pickup.id}", headers=h).json()["member_ids"] == []
    rec = client.post(
        "/api/users/bulk",
        json={"user_ids": ids, "action": "set_recording", "recording": True},
        headers=h,
    )
    assert rec.status_code == 200
    assert all(client.get(f"/api/users/{uid}", headers=h).json()["recording"] for uid in ids)
    operator = client.post(
        "/api/users/bulk",
        json={"user_ids": ids, "action": "set_recording", "recording": False},
        headers=w.a.headers("operator"),
    )
    assert operator.status_code == 403
