"""Call groups through the API: settings limits, the CRM address, members and priorities."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server_stub.store import provision
from server_stub.store.models import AuditEntry, CallGroup
from tests.factories import make_world


def create(client: TestClient, headers: dict[str, str], **body: Any) -> Any:
    body.setdefault("name", "Продажи")
    return client.post("/api/groups", json=body, headers=headers)


def test_group_gets_a_free_extension_shared_with_users(client: TestClient, db: Session) -> None:
    w = make_world(db)
    expected = provision.next_free_extension(db, w.a.domain.id)
    r = create(client, w.a.headers())
    assert r.status_code == 201, r.text
    assert r.json()["extension"] == expected
    assert r.json()["algorithm"] == "not_set" and r.json()["members"] == []
    taken = create(client, w.a.headers(), name="Склад", extension=w.a.user.extension)
    assert taken.status_code == 409 and taken.json()["details"][0]["field"] == "extension"
    same_name = create(client, w.a.headers(), name="  продажи ")
    assert same_name.status_code == 409 and same_name.json()["details"][0]["field"] == "name"
    # The same name in another domain is that domain's business.
    assert create(client, w.b.headers()).status_code == 201


def test_group_settings_are_range_checked(client: TestClient, db: Session) -> None:
    w = make_world(db)
    h = w.a.headers()
    for field, value in (
        ("step_seconds", 4),
        ("step_seconds", 31),
        ("total_wait_seconds", 601),
        ("answer_seconds", 301),
        ("post_call_seconds", 3601),
        ("avg_talk_seconds", -1),
        ("greeting_text", "а" * 1001),
        ("algorithm", "round_robin"),
        ("email", "nobody"),
    ):
        r = create(client, h, **{field: value})
        assert r.status_code == 422, (field, value)
        assert r.json()["details"][0]["field"] == field
    shorter = create(client, h, step_seconds=30, total_wait_seconds=20)
    assert shorter.status_code == 422
    assert shorter.json()["details"][0]["field"] == "total_wait_seconds"
    ok = create(
        client,
        h,
        algorithm="longest_idle",
        step_seconds=5,
        total_wait_seconds=600,
        answer_seconds=5,
        post_call_seconds=0,
        avg_talk_seconds=0,
        greeting_text="Линия продаж",
    )
    assert ok.status_code == 201 and ok.json()["algorithm"] == "longest_idle"


def test_crm_template_accepts_known_placeholders_only(client: TestClient, db: Session) -> None:
    w = make_world(db)
    h = w.a.headers()
    url = "https://crm.example.com/card?phone={caller}&line={called}&id={call_id}&op={operator}"
    r = create(client, h, crm_url_template=url)
    assert r.status_code == 201 and r.json()["crm_url_template"] == url
    gid = r.json()["id"]
    bad = client.patch(
        f"/api/groups/{gid}",
        json={"crm_url_template": "https://crm.example.com/?p={phone}"},
        headers=h,
    )
    assert bad.status_code == 422
    detail = bad.json()["details"][0]
    assert detail["field"] == "crm_url_template" and "{phone}" in detail["message"]
    assert "подстановка" in detail["message"]
    for wrong in ("ftp://crm.example.com/{caller}", "crm.example.com", "https://x.ru/{caller"):
        r = client.patch(f"/api/groups/{gid}", json={"crm_url_template": wrong}, headers=h)
        assert r.status_code == 422, wrong
        assert r.json()["details"][0]["field"] == "crm_url_template"
    stored = db.get(CallGroup, gid)
    assert stored is not None and stored.crm_url_template == url


def test_members_priorities_and_counts(client: TestClient, db: Session) -> None:
    w = make_world(db)
    h = w.a.headers()
    gid = create(client, h, algorithm="random").json()["id"]
    r = client.put(
        f"/api/groups/{gid}/members",
        json=[
            {"user_id": w.a.user.id, "priority": 20},
            {"user_id": w.a.operator.id, "priority": 10},
            {"user_id": w.a.supervisor.id},
        ],
        headers=h,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["users"], body["operators"]) == (2, 1)
    assert [m["priority"] for m in body["members"]] == [10, 10, 20]
    assert body["members"][-1]["user_id"] == w.a.user.id
    for bad in (0, 1000):
        r = client.patch(
            f"/api/groups/{gid}/members/{w.a.user.id}", json={"priority": bad}, headers=h
        )
        assert r.status_code == 422 and r.json()["details"][0]["field"] == "priority"
    r = client.patch(f"/api/groups/{gid}/members/{w.a.user.id}", json={"priority": 1}, headers=h)
    assert r.json()["members"][0]["user_id"] == w.a.user.id
    again = client.post(f"/api/groups/{gid}/members", json=[{"user_id": w.a.user.id}], headers=h)
    assert again.status_code == 409 and again.json()["details"][0]["field"] == "members"
    assert client.delete(f"/api/groups/{gid}/members/{w.a.user.id}", headers=h).status_code == 204
    after = client.get(f"/api/groups/{gid}", headers=h).json()
    assert w.a.user.id not in [m["user_id"] for m in after["members"]]
    assert client.delete(f"/api/groups/{gid}/members/{w.a.user.id}", headers=h).status_code == 404
    added = client.post(
        f"/api/groups/{gid}/members", json=[{"user_id": w.a.admin.id, "priority": 5}], headers=h
    )
    assert added.json()["members"][0] == {
        "user_id": w.a.admin.id,
        "display_name": w.a.admin.display_name,
        "extension": w.a.admin.extension,
        "is_operator": False,
        "priority": 5,
    }
    # The user page shows the group with the priority.
    user_groups = client.get(f"/api/users/{w.a.admin.id}", headers=h).json()["groups"]
    assert user_groups == [{"id": gid, "name": "Продажи", "priority": 5}]
    history = (
        db.execute(
            select(AuditEntry).where(
                AuditEntry.object_type == "group", AuditEntry.action == "update"
            )
        )
        .scalars()
        .all()
    )
    assert len(history) == 4  # replace, priority, remove, add
    assert history[-1].after is not None
    assert {"user_id": w.a.admin.id, "priority": 5} in history[-1].after["members"]


def test_foreign_members_and_foreign_groups(client: TestClient, db: Session) -> None:
    w = make_world(db)
    gid = create(client, w.a.headers()).json()["id"]
    r = client.put(
        f"/api/groups/{gid}/members",
        json=[{"user_id": w.a.user.id}, {"user_id": w.b.user.id}],
        headers=w.a.headers(),
    )
    assert r.status_code == 404 and "beta" not in r.text
    assert client.get(f"/api/groups/{gid}", headers=w.a.headers()).json()["members"] == []
    dup = client.put(
        f"/api/groups/{gid}/members",
        json=[{"user_id": w.a.user.id}, {"user_id": w.a.user.id}],
        headers=w.a.headers(),
    )
    assert dup.status_code == 422
    assert client.get(f"/api/groups/{gid}", headers=w.b.headers()).status_code == 404
    put = client.put(
        f"/api/groups/{gid}/members", json=[{"user_id": w.b.user.id}], headers=w.b.headers()
    )
    assert put.status_code == 404
    assert client.delete(f"/api/groups/{gid}", headers=w.b.headers()).status_code == 404
    assert client.get("/api/groups", headers=w.b.headers()).json()["total"] == 0


def test_supervisor_reads_groups_operator_does_not(client: TestClient, db: Session) -> None:
    w = make_world(db)
    gid = create(client, w.a.headers()).json()["id"]
    assert client.get(f"/api/groups/{gid}", headers=w.a.headers("supervisor")).status_code == 200
    assert create(client, w.a.headers("supervisor"), name="Склад").status_code == 403
    assert client.get("/api/groups", headers=w.a.headers("operator")).status_code == 403
    members = client.put(
        f"/api/groups/{gid}/members",
        json=[{"user_id": w.a.user.id}],
        headers=w.a.headers("supervisor"),
    )
    assert members.status_code == 403


def test_deleting_a_group_frees_its_members(client: TestClient, db: Session) -> None:
    w = make_world(db)
    h = w.a.headers()
    gid = create(client, h, members=[{"user_id": w.a.user.id, "priority": 3}]).json()["id"]
    assert client.get(f"/api/users/{w.a.user.id}", headers=h).json()["groups"][0]["priority"] == 3
    assert client.delete(f"/api/groups/{gid}", headers=h).status_code == 204
    assert client.get(f"/api/users/{w.a.user.id}", headers=h).json()["groups"] == []
