"""The softphone's one search box over personal, company and user entries."""

from __future__ import annotations

from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from server_stub.store import provision
from server_stub.store.models import User
from tests.factories import World, auth, make_world, token_for_pool_admin

URL = "/api/directory/search"


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    # make_world hashes nine passwords with production argon2 costs; these tests mint tokens
    # directly and never verify a password, so a cheap (still valid) hash keeps them fast.
    monkeypatch.setattr(provision, "hash_password", PasswordHasher(1, 8, 1).hash)


def _seed(client: TestClient, w: World) -> None:
    group = client.post("/api/contact-groups", json={"name": "Поставщики"}, headers=w.a.headers())
    bodies: list[tuple[str, dict[str, str], dict[str, Any]]] = [
        (
            "/api/contacts",
            w.a.headers(),
            {
                "name": "Сервис Оператор",
                "group_id": group.json()["id"],
                "phones": [{"kind": "work", "number": "84951112233"}],
            },
        ),
        (
            "/api/me/contacts",
            w.a.headers("user"),
            {"name": "Оператор такси", "phones": [{"kind": "mobile", "number": "89991112233"}]},
        ),
        (
            "/api/me/contacts",
            w.a.headers("operator"),
            {"name": "Оператор личный", "phones": [{"kind": "mobile", "number": "89991112244"}]},
        ),
        (
            "/api/contacts",
            w.b.headers(),
            {"name": "Оператор чужой", "phones": [{"kind": "work", "number": "84951112299"}]},
        ),
    ]
    for url, headers, body in bodies:
        assert client.post(url, json=body, headers=headers).status_code == 201


def _found(client: TestClient, headers: dict[str, str], q: str) -> list[tuple[str, str]]:
    r = client.get(URL, params={"q": q}, headers=headers)
    assert r.status_code == 200, r.text
    return [(i["source"], i["name"]) for i in r.json()["items"]]


def test_one_list_over_personal_company_and_users(client: TestClient, db: Session) -> None:
    w = make_world(db)
    _seed(client, w)
    assert _found(client, w.a.headers("user"), "оператор") == [
        ("personal", "Оператор такси"),
        ("company", "Сервис Оператор"),
        ("user", "Оператор alpha"),
    ]
    # Another user of the same domain sees their own personal contact, not this one.
    assert ("personal", "Оператор личный") in _found(client, w.a.headers("operator"), "оператор")
    assert ("personal", "Оператор такси") not in _found(client, w.a.headers("operator"), "такси")


def test_entries_carry_what_the_softphone_dials(client: TestClient, db: Session) -> None:
    w = make_world(db)
    _seed(client, w)
    items = client.get(URL, params={"q": "сервис"}, headers=w.a.headers("user")).json()["items"]
    assert items == [
        {
            "source": "company",
            "id": items[0]["id"],
            "name": "Сервис Оператор",
            "group": "Поставщики",
            "speed_dial": "10",
            "extension": None,
            "phones": [{"kind": "work", "number": "+74951112233"}],
        }
    ]
    op = db.get(User, w.a.operator.id)
    assert op is not None
    users = client.get(URL, params={"q": "Оператор alpha"}, headers=w.a.headers()).json()["items"]
    assert [(u["source"], u["extension"]) for u in users] == [("user", op.extension)]


def test_numbers_match_contacts_but_extensions_match_nobody(
    client: TestClient, db: Session
) -> None:
    w = make_world(db)
    _seed(client, w)
    assert _found(client, w.a.headers("user"), "8 999 111") == [("personal", "Оператор такси")]
    op = db.get(User, w.a.operator.id)
    assert op is not None
    # The manual: no search by internal number.
    assert ("user", "Оператор alpha") not in _found(client, w.a.headers("user"), op.extension)


def test_inactive_users_are_not_listed(client: TestClient, db: Session) -> None:
    w = make_world(db)
    op = db.get(User, w.a.operator.id)
    assert op is not None
    op.active = False
    db.commit()
    assert _found(client, w.a.headers(), "оператор") == []


def test_pool_admin_searches_without_a_personal_book(client: TestClient, db: Session) -> None:
    w = make_world(db)
    _seed(client, w)
    h = auth(token_for_pool_admin(w.supervisor, w.b.domain.id))
    assert _found(client, h, "оператор") == [
        ("company", "Оператор чужой"),
        ("user", "Оператор beta"),
    ]


def test_limit_cuts_the_list_but_total_counts_all(client: TestClient, db: Session) -> None:
    w = make_world(db)
    r = client.get(URL, params={"limit": 2}, headers=w.a.headers("user")).json()
    assert r["total"] == 4 and len(r["items"]) == 2
