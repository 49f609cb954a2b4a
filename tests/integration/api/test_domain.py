"""The domain card and its general settings («Общие настройки»)."""

from __future__ import annotations

from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server_stub.store import provision
from server_stub.store.models import AuditEntry, Domain, Number, NumberKind
from tests.factories import make_world, token_for_pool_admin


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    # make_world hashes nine passwords with production argon2 costs; these tests mint tokens
    # directly and never verify a password, so a cheap (still valid) hash keeps them fast.
    monkeypatch.setattr(provision, "hash_password", PasswordHasher(1, 8, 1).hash)


def _number(db: Session, domain_id: int, e164: str, kind: NumberKind) -> int:
    number = Number(domain_id=domain_id, e164=e164, kind=kind)
    db.add(number)
    db.commit()
    return number.id


def test_every_user_sees_the_domain_card(client: TestClient, db: Session) -> None:
    w = make_world(db)
    domain = db.get(Domain, w.a.domain.id)
    assert domain is not None
    domain.balance_kopecks = 125050
    db.commit()
    r = client.get("/api/domain", headers=w.a.headers("user"))
    assert r.status_code == 200
    card = r.json()
    assert card["name"] == "alpha.test" and card["routing_number"] == "4455"
    assert card["balance"] == "1250.50"
    assert card["timezone"] == "Europe/Moscow" and card["pickup_code"] == "*8"
    assert card["account_number"] == domain.account_number
    assert client.get("/api/domain", headers=w.b.headers("user")).json()["name"] == "beta.test"


def test_negative_balance_keeps_kopecks(client: TestClient, db: Session) -> None:
    w = make_world(db)
    domain = db.get(Domain, w.a.domain.id)
    assert domain is not None
    domain.balance_kopecks = -320
    db.commit()
    assert client.get("/api/domain", headers=w.a.headers()).json()["balance"] == "-3.20"


def test_admin_changes_settings_and_it_is_audited(client: TestClient, db: Session) -> None:
    w = make_world(db)
    number_id = _number(db, w.a.domain.id, "+74951112233", NumberKind.LANDLINE)
    body = {
        "timezone": "Asia/Vladivostok",
        "notification_email": "Office@Alpha-Corp.ru",
        "default_outgoing_number_id": number_id,
        "default_restriction": "no_international",
        "pickup_code": "#12",
    }
    r = client.patch("/api/domain", json=body, headers=w.a.headers())
    assert r.status_code == 200, r.text
    got = client.get("/api/domain", headers=w.a.headers("user")).json()
    assert got["timezone"] == "Asia/Vladivostok"
    assert got["notification_email"] == "Office@alpha-corp.ru"
    assert got["default_outgoing_number_id"] == number_id
    assert (got["default_restriction"], got["pickup_code"]) == ("no_international", "#12")
    entry = db.execute(select(AuditEntry).where(AuditEntry.object_type == "domain")).scalar_one()
    assert entry.action == "update" and entry.actor_login == "admin@alpha.test"
    assert entry.before is not None and entry.before["timezone"] == "Europe/Moscow"
    assert entry.after is not None and entry.after["pickup_code"] == "#12"
    # Clearing: «Не указан» and no e-mail.
    r = client.patch(
        "/api/domain",
        json={"default_outgoing_number_id": None, "notification_email": ""},
        headers=w.a.headers(),
    )
    assert r.json()["default_outgoing_number_id"] is None and r.json()["notification_email"] == ""


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"notification_email": "not-an-email"}, "notification_email"),
        ({"default_restriction": "inherit"}, "default_restriction"),
        ({"pickup_code": "8"}, "pickup_code"),
        ({"pickup_code": "*1234"}, "pickup_code"),
        ({"pickup_code": "*a"}, "pickup_code"),
        ({"default_outgoing_number_id": 999999}, "default_outgoing_number_id"),
    ],
)
def test_bad_setting_names_its_field(
    client: TestClient, db: Session, body: dict[str, Any], field: str
) -> None:
    w = make_world(db)
    r = client.patch("/api/domain", json=body, headers=w.a.headers())
    assert r.status_code == 422
    assert r.json()["details"][0]["field"] == field
    assert client.get("/api/domain", headers=w.a.headers()).json()["pickup_code"] == "*8"


def test_toll_free_number_is_never_the_outgoing_number(client: TestClient, db: Session) -> None:
    w = make_world(db)
    free = _number(db, w.a.domain.id, "+78001000000", NumberKind.TOLL_FREE)
    r = client.patch(
        "/api/domain", json={"default_outgoing_number_id": free}, headers=w.a.headers()
    )
    assert r.status_code == 422
    detail = r.json()["details"][0]
    assert detail["field"] == "default_outgoing_number_id" and "8-800" in detail["message"]


def test_another_domains_number_cannot_be_the_default(client: TestClient, db: Session) -> None:
    w = make_world(db)
    theirs = _number(db, w.b.domain.id, "+74951112233", NumberKind.LANDLINE)
    r = client.patch(
        "/api/domain", json={"default_outgoing_number_id": theirs}, headers=w.a.headers()
    )
    assert r.status_code == 422
    assert r.json()["details"][0]["field"] == "default_outgoing_number_id"


def test_only_the_admin_changes_settings(client: TestClient, db: Session) -> None:
    w = make_world(db)
    for who in ("user", "operator", "supervisor"):
        r = client.patch("/api/domain", json={"pickup_code": "*9"}, headers=w.a.headers(who))
        assert r.status_code == 403, who


def test_pool_admin_in_a_domain_edits_it_on_behalf(client: TestClient, db: Session) -> None:
    w = make_world(db)
    headers = {"Authorization": f"Bearer {token_for_pool_admin(w.supervisor, w.b.domain.id)}"}
    r = client.patch("/api/domain", json={"pickup_code": "*7"}, headers=headers)
    assert r.status_code == 200 and r.json()["name"] == "beta.test"
    entry = db.execute(select(AuditEntry).where(AuditEntry.object_type == "domain")).scalar_one()
    assert entry.on_behalf_of == "admin@beta.test"
    # Without an opened domain there is no "own domain".
    bare = {"Authorization": f"Bearer {token_for_pool_admin(w.supervisor)}"}
    assert client.get("/api/domain", headers=bare).status_code == 403
