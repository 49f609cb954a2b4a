"""VIP numbers through the API: normalised, unique per domain, invisible to other domains."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server_stub.store.models import AuditEntry
from tests.factories import make_world


def test_vip_number_is_normalised_and_audited(client: TestClient, db: Session) -> None:
    w = make_world(db)
    r = client.post(
        "/api/vip-numbers",
        json={"e164": "8 (495) 111-22-33", "priority": 5, "comment": "Генеральный"},
        headers=w.a.headers(),
    )
    assert r.status_code == 201, r.text
    assert r.json()["e164"] == "+74951112233"
    audit = db.execute(
        select(AuditEntry).where(AuditEntry.object_type == "vip_number")
    ).scalar_one()
    assert audit.action == "create" and audit.actor_login == "admin@alpha.test"
    assert audit.after is not None and audit.after["e164"] == "+74951112233"


def test_bad_vip_number_names_the_field(client: TestClient, db: Session) -> None:
    w = make_world(db)
    r = client.post(
        "/api/vip-numbers", json={"e164": "+7495112233", "priority": 5}, headers=w.a.headers()
    )
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "validation_error"
    assert body["details"][0]["field"] == "e164"
    assert "номер" in body["details"][0]["message"].lower()


def test_duplicate_vip_number_is_a_conflict_on_the_field(client: TestClient, db: Session) -> None:
    w = make_world(db)
    body = {"e164": "+74951112233", "priority": 5}
    assert client.post("/api/vip-numbers", json=body, headers=w.a.headers()).status_code == 201
    r = client.post("/api/vip-numbers", json=body, headers=w.a.headers())
    assert r.status_code == 409 and r.json()["details"][0]["field"] == "e164"
    # The same number in another domain is that domain's own business.
    assert client.post("/api/vip-numbers", json=body, headers=w.b.headers()).status_code == 201


def test_other_domain_cannot_see_or_touch_vip_number(client: TestClient, db: Session) -> None:
    w = make_world(db)
    vip = client.post(
        "/api/vip-numbers", json={"e164": "+74951112233", "priority": 5}, headers=w.a.headers()
    ).json()
    assert client.get(f"/api/vip-numbers/{vip['id']}", headers=w.b.headers()).status_code == 404
    assert client.delete(f"/api/vip-numbers/{vip['id']}", headers=w.b.headers()).status_code == 404
    assert client.get("/api/vip-numbers", headers=w.b.headers()).json()["total"] == 0


def test_operator_cannot_manage_vip_numbers(client: TestClient, db: Session) -> None:
    w = make_world(db)
    r = client.post(
        "/api/vip-numbers",
        json={"e164": "+74951112233", "priority": 5},
        headers=w.a.headers("operator"),
    )
    assert r.status_code == 403
