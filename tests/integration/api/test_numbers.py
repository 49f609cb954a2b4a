"""Domain numbers and schedules through the API."""

from __future__ import annotations

from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server_stub.store import provision
from server_stub.store.models import AuditEntry, Domain, Number, User
from tests.factories import Tenant, make_world

WEEKDAYS = [[d, "09:00", "18:00"] for d in range(5)]


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    # make_world hashes nine passwords with production argon2 costs; these tests mint tokens
    # directly and never verify a password, so a cheap (still valid) hash keeps them fast.
    monkeypatch.setattr(provision, "hash_password", PasswordHasher(1, 8, 1).hash)


def add_number(client: TestClient, tenant: Tenant, e164: str, **extra: Any) -> dict[str, Any]:
    r = client.post("/api/numbers", json={"e164": e164, **extra}, headers=tenant.headers())
    assert r.status_code == 201, r.text
    return dict(r.json())


# --- numbers ------------------------------------------------------------------------------


def test_number_is_normalised_kind_derived_and_audited(client: TestClient, db: Session) -> None:
    w = make_world(db)
    num = add_number(client, w.a, "8 (495) 111-22-33", name="Приёмная")
    assert (num["e164"], num["kind"], num["name"]) == ("+74951112233", "landline", "Приёмная")
    assert add_number(client, w.a, "8 800 100-00-00")["kind"] == "toll_free"
    assert add_number(client, w.a, "+7 999 111-22-33")["kind"] == "mobile"
    entry = db.execute(
        select(AuditEntry).where(
            AuditEntry.object_type == "number", AuditEntry.object_id == str(num["id"])
        )
    ).scalar_one()
    assert entry.action == "create" and entry.after is not None
    assert entry.after["e164"] == "+74951112233"


def test_kind_must_match_the_number(client: TestClient, db: Session) -> None:
    w = make_world(db)
    bad = [("+74951112233", "toll_free"), ("+78001000000", "landline")]
    for e164, kind in bad:
        r = client.post("/api/numbers", json={"e164": e164, "kind": kind}, headers=w.a.headers())
        assert r.status_code == 422, (e164, kind)
        assert r.json()["details"][0]["field"] == "kind"


def test_number_is_unique_on_the_whole_platform(client: TestClient, db: Session) -> None:
    w = make_world(db)
    add_number(client, w.a, "+74951112233")
    r = client.post("/api/numbers", json={"e164": "84951112233"}, headers=w.b.headers())
    assert r.status_code == 409
    body = r.json()
    assert body["details"][0]["field"] == "e164"
    # Taken, but whose is not said.
    assert "alpha" not in r.text
    assert "уже подключён" in body["details"][0]["message"]


def test_users_read_numbers_admin_writes(client: TestClient, db: Session) -> None:
    w = make_world(db)
    add_number(client, w.a, "+74951112233")
    listed = client.get("/api/numbers", headers=w.a.headers("user"))
    assert listed.status_code == 200 and listed.json()["total"] == 1
    r = client.post("/api/numbers", json={"e164": "+74951112244"}, headers=w.a.headers("user"))
    assert r.status_code == 403


def test_other_domain_gets_404_for_a_number(client: TestClient, db: Session) -> None:
    w = make_world(db)
    num = add_number(client, w.a, "+74951112233")
    for method in ("get", "delete"):
        r = client.request(method, f"/api/numbers/{num['id']}", headers=w.b.headers())
        assert r.status_code == 404
    r = client.patch(f"/api/numbers/{num['id']}", json={"name": "x"}, headers=w.b.headers())
    assert r.status_code == 404
    assert client.get("/api/numbers", headers=w.b.headers()).json()["total"] == 0


def test_number_schedule_must_be_of_this_domain(client: TestClient, db: Session) -> None:
    w = make_world(db)
    foreign = client.post(
        "/api/schedules",
        json={"name": "Офис", "intervals": {"working": WEEKDAYS}},
        headers=w.b.headers(),
    ).json()
    r = client.post(
        "/api/numbers",
        json={"e164": "+74951112233", "schedule_id": foreign["id"]},
        headers=w.a.headers(),
    )
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "schedule_id"
    own = client.post(
        "/api/schedules",
        json={"name": "Офис", "intervals": {"working": WEEKDAYS}},
        headers=w.a.headers(),
    ).json()
    num = add_number(client, w.a, "+74951112233", schedule_id=own["id"])
    assert num["schedule_id"] == own["id"]
    # Deleting the schedule leaves the number working round the clock (no schedule).
    assert client.delete(f"/api/schedules/{own['id']}", headers=w.a.headers()).status_code == 204
    assert (
        client.get(f"/api/numbers/{num['id']}", headers=w.a.headers()).json()["schedule_id"] is None
    )


def test_deleting_a_number_clears_outgoing_references(client: TestClient, db: Session) -> None:
    w = make_world(db)
    num = add_number(client, w.a, "+74951112233")
    user = db.get(User, w.a.user.id)
    domain = db.get(Domain, w.a.domain.id)
    assert user is not None and domain is not None
    user.outgoing_number_id = num["id"]
    domain.default_outgoing_number_id = num["id"]
    db.commit()
    assert client.delete(f"/api/numbers/{num['id']}", headers=w.a.headers()).status_code == 204
    db.expire_all()
    assert db.get(User, w.a.user.id).outgoing_number_id is None  # type: ignore[union-attr]
    assert db.get(Domain, w.a.domain.id).default_outgoing_number_id is None  # type: ignore[union-attr]
    assert db.get(Number, num["id"]) is None
    cleared = db.execute(
        select(AuditEntry.object_type).where(AuditEntry.action == "update")
    ).scalars()
    assert sorted(cleared) == ["domain", "user"]


def test_outgoing_number_cannot_become_toll_free(client: TestClient, db: Session) -> None:
    w = make_world(db)
    num = add_number(client, w.a, "+74951112233")
    domain = db.get(Domain, w.a.domain.id)
    assert domain is not None
    domain.default_outgoing_number_id = num["id"]
    db.commit()
    r = client.patch(
        f"/api/numbers/{num['id']}",
        json={"e164": "+78001000000", "kind": "toll_free"},
        headers=w.a.headers(),
    )
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "kind"


# --- schedules ----------------------------------------------------------------------------


def test_schedule_is_stored_canonical(client: TestClient, db: Session) -> None:
    w = make_world(db)
    body = {
        "name": "Офис",
        "is_company": True,
        "intervals": {
            "working": WEEKDAYS,
            "extra": [{"name": " Обед ", "intervals": [[0, "13:00", "14:00"]]}],
        },
    }
    r = client.post("/api/schedules", json=body, headers=w.a.headers())
    assert r.status_code == 201, r.text
    got = client.get(f"/api/schedules/{r.json()['id']}", headers=w.a.headers()).json()
    assert got["is_company"] is True
    assert got["intervals"]["extra"] == [{"name": "Обед", "intervals": [[0, "13:00", "14:00"]]}]
    assert got["intervals"]["working"] == WEEKDAYS


def test_schedule_error_names_the_exact_range(client: TestClient, db: Session) -> None:
    w = make_world(db)
    working = [[0, "09:00", "18:00"], [1, "09:00", "18:00"], [0, "17:00", "20:00"]]
    r = client.post(
        "/api/schedules",
        json={"name": "Офис", "intervals": {"working": working}},
        headers=w.a.headers(),
    )
    assert r.status_code == 422
    assert r.json()["details"][0]["field"] == "intervals.working.2"
    r = client.post(
        "/api/schedules",
        json={"name": "Офис", "intervals": {"working": [[0, "10:00", "09:00"]]}},
        headers={**w.a.headers(), "Accept-Language": "en"},
    )
    assert r.json()["details"][0]["field"] == "intervals.working.0"
    assert "earlier" in r.json()["details"][0]["message"]


def test_at_most_three_uniquely_named_extras(client: TestClient, db: Session) -> None:
    w = make_world(db)
    extras = [{"name": f"Доп {i}", "intervals": []} for i in range(4)]
    r = client.post(
        "/api/schedules",
        json={"name": "Офис", "intervals": {"extra": extras}},
        headers=w.a.headers(),
    )
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "intervals.extra"
    twins = [{"name": "Обед", "intervals": []}, {"name": "обед", "intervals": []}]
    r = client.post(
        "/api/schedules",
        json={"name": "Офис", "intervals": {"extra": twins}},
        headers=w.a.headers(),
    )
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "intervals.extra.1.name"


def test_only_one_company_schedule_and_unique_names(client: TestClient, db: Session) -> None:
    w = make_world(db)
    first = client.post(
        "/api/schedules", json={"name": "A", "is_company": True}, headers=w.a.headers()
    )
    assert first.status_code == 201
    r = client.post("/api/schedules", json={"name": "B", "is_company": True}, headers=w.a.headers())
    assert r.status_code == 409 and r.json()["details"][0]["field"] == "is_company"
    second = client.post("/api/schedules", json={"name": "B"}, headers=w.a.headers()).json()
    r = client.patch(
        f"/api/schedules/{second['id']}", json={"is_company": True}, headers=w.a.headers()
    )
    assert r.status_code == 409
    # Re-saving the company schedule itself is not a clash.
    r = client.patch(
        f"/api/schedules/{first.json()['id']}", json={"is_company": True}, headers=w.a.headers()
    )
    assert r.status_code == 200
    r = client.post("/api/schedules", json={"name": "A"}, headers=w.a.headers())
    assert r.status_code == 409 and r.json()["details"][0]["field"] == "name"
    # Another domain has its own company schedule.
    r = client.post("/api/schedules", json={"name": "A", "is_company": True}, headers=w.b.headers())
    assert r.status_code == 201


def test_schedules_are_admin_only_and_domain_scoped(client: TestClient, db: Session) -> None:
    w = make_world(db)
    sched = client.post("/api/schedules", json={"name": "A"}, headers=w.a.headers()).json()
    assert client.get("/api/schedules", headers=w.a.headers("user")).status_code == 403
    assert client.get(f"/api/schedules/{sched['id']}", headers=w.b.headers()).status_code == 404


def test_changing_the_digits_to_8800_follows_the_kind(client: TestClient, db: Session) -> None:
    w = make_world(db)
    spare = add_number(client, w.a, "+74951112244")
    r = client.patch(
        f"/api/numbers/{spare['id']}", json={"e164": "88001000000"}, headers=w.a.headers()
    )
    assert r.status_code == 200 and r.json()["kind"] == "toll_free"
    used = add_number(client, w.a, "+74951112233")
    user = db.get(User, w.a.user.id)
    assert user is not None
    user.outgoing_number_id = used["id"]
    db.commit()
    r = client.patch(
        f"/api/numbers/{used['id']}", json={"e164": "88001000001"}, headers=w.a.headers()
    )
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "e164"
    assert "8-800" in r.json()["details"][0]["message"]
