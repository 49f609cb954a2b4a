"""Pool cabinet: the pool header, the grouped domain list, the domain card, renaming a domain
and its routing number; who may do what (spec §6.4) and pool isolation."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server_stub.api import security
from server_stub.store import provision
from server_stub.store.models import AuditEntry, Domain, Number, NumberKind, PoolAdmin, Subgroup
from tests.factories import PASSWORD, World, auth, make_world, token_for_pool_admin


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Real argon2 costs ~1 s per account on a busy machine; these tests check rights, not KDFs.
    monkeypatch.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))


def sup(w: World) -> dict[str, str]:
    return auth(token_for_pool_admin(w.supervisor))


def subgroup_admin(db: Session, w: World, *subgroups: Subgroup) -> PoolAdmin:
    admin = provision.create_pool_admin(
        db,
        w.pool,
        "sgadmin",
        PASSWORD,
        "Админ групп",
        allowed_subgroup_ids=[s.id for s in subgroups],
    )
    db.commit()
    return admin


def put_in_subgroup(db: Session, w: World, name: str, *domains: Domain) -> Subgroup:
    sg = Subgroup(pool_id=w.pool.id, name=name)
    db.add(sg)
    db.flush()
    for d in domains:
        d.subgroup_id = sg.id
    db.commit()
    return sg


def test_pool_header_shows_name_length_and_domain_count(client: TestClient, db: Session) -> None:
    w = make_world(db)
    r = client.get("/api/pool", headers=sup(w))
    assert r.status_code == 200, r.text
    assert r.json() == {
        "id": w.pool.id,
        "name": "Тестовый пул",
        "routing_number_length": 4,
        "domain_count": 2,
    }


def test_domain_tokens_are_refused_everywhere_in_the_pool_cabinet(
    client: TestClient, db: Session
) -> None:
    w = make_world(db)
    # A pool supervisor who opened a domain "as admin" holds a domain token: not a pool session.
    as_domain_admin = auth(token_for_pool_admin(w.supervisor, domain_id=w.a.domain.id))
    calls = [
        ("GET", "/api/pool", None),
        ("GET", "/api/pool/domains", None),
        ("GET", f"/api/pool/domains/{w.a.domain.id}", None),
        ("PATCH", f"/api/pool/domains/{w.a.domain.id}", {"display_name": "X"}),
        ("GET", "/api/pool/subgroups", None),
        ("POST", "/api/pool/subgroups", {"name": "X"}),
        ("POST", "/api/pool/domains/move", {"domain_ids": [w.a.domain.id], "subgroup_id": 1}),
        ("GET", "/api/pool/admins", None),
        ("GET", "/api/pool/me", None),
        ("PATCH", "/api/pool/me", {"display_name": "X"}),
        ("GET", "/api/pool/audit", None),
    ]
    for headers in (w.a.headers("admin"), w.a.headers("user"), as_domain_admin):
        for method, path, body in calls:
            r = client.request(method, path, json=body, headers=headers)
            assert r.status_code == 403, (method, path, r.text)
    assert db.get(Domain, w.a.domain.id).display_name == "alpha.test"  # type: ignore[union-attr]


def test_pool_admin_never_sees_or_touches_another_pool(client: TestClient, db: Session) -> None:
    w = make_world(db)
    other_pool = provision.create_pool(db, "Чужой пул")
    gamma = provision.create_domain(db, "gamma.test", pool=other_pool, routing_number="4455")
    other_sup = provision.create_pool_admin(
        db, other_pool, "othersup", PASSWORD, "Чужой", supervisor=True
    )
    db.commit()

    listing = client.get("/api/pool/domains", headers=sup(w)).json()
    names = {d["name"] for g in listing["groups"] for d in g["domains"]}
    assert names == {"alpha.test", "beta.test"}
    assert client.get(f"/api/pool/domains/{gamma.id}", headers=sup(w)).status_code == 404
    r = client.patch(f"/api/pool/domains/{gamma.id}", json={"display_name": "X"}, headers=sup(w))
    assert r.status_code == 404
    assert "gamma" not in r.text

    other = auth(token_for_pool_admin(other_sup))
    assert client.get("/api/pool", headers=other).json()["domain_count"] == 1
    other_listing = client.get("/api/pool/domains", headers=other).json()
    assert [d["name"] for g in other_listing["groups"] for d in g["domains"]] == ["gamma.test"]
    # Routing numbers are per pool: gamma may reuse alpha's 4455 in its own pool.
    assert other_listing["groups"][0]["domains"][0]["routing_number"] == "4455"
    db.refresh(gamma)
    assert gamma.display_name == "gamma.test"


def test_domains_grouped_alphabetically_and_subgroup_admin_sees_own_groups_first(
    client: TestClient, db: Session
) -> None:
    w = make_world(db)
    provision.create_domain(db, "gamma.test", pool=w.pool, routing_number="4457")
    south = put_in_subgroup(db, w, "Юг", w.a.domain)
    north = put_in_subgroup(db, w, "Север", w.b.domain)
    admin = subgroup_admin(db, w, south)

    groups = client.get("/api/pool/domains", headers=sup(w)).json()["groups"]
    assert [g["name"] for g in groups] == ["Без группы", "Север", "Юг"]
    assert [g["domain_count"] for g in groups] == [1, 1, 1]
    assert all(d["manageable"] for g in groups for d in g["domains"])

    body = client.get("/api/pool/domains", headers=auth(token_for_pool_admin(admin))).json()
    assert [g["name"] for g in body["groups"]] == ["Юг", "Без группы", "Север"]
    rows = {d["name"]: d for g in body["groups"] for d in g["domains"]}
    # Sees the whole pool (§6.4) but manages only its sub-group.
    assert set(rows) == {"alpha.test", "beta.test", "gamma.test"}
    assert rows["alpha.test"]["manageable"] is True
    assert rows["beta.test"]["manageable"] is False
    assert rows["gamma.test"]["manageable"] is False
    assert rows["alpha.test"]["subgroup_id"] == south.id
    assert rows["beta.test"]["subgroup_id"] == north.id
    assert rows["alpha.test"]["account_number"] == w.a.domain.account_number


def test_search_by_name_visible_name_or_routing_number(client: TestClient, db: Session) -> None:
    w = make_world(db)
    w.a.domain.display_name = "Альфа Банк"
    db.commit()

    def found(q: str) -> list[str]:
        body = client.get("/api/pool/domains", params={"q": q}, headers=sup(w)).json()
        assert body["total"] == sum(g["domain_count"] for g in body["groups"])
        return sorted(d["name"] for g in body["groups"] for d in g["domains"])

    assert found("4456") == ["beta.test"]
    assert found("445") == ["alpha.test", "beta.test"]
    assert found("BETA") == ["beta.test"]
    assert found("альфа") == ["alpha.test"]  # Cyrillic, other case
    assert found("nothing-like-it") == []


def test_domain_card_shows_balance_state_and_counters(client: TestClient, db: Session) -> None:
    w = make_world(db)
    w.a.domain.balance_kopecks = 123450
    w.a.domain.notification_email = "boss@alpha.test"
    w.b.domain.balance_kopecks = -5
    db.add_all(
        [
            Number(domain_id=w.a.domain.id, e164="+74951110001", kind=NumberKind.LANDLINE),
            Number(domain_id=w.a.domain.id, e164="+74951110002", kind=NumberKind.LANDLINE),
            Number(domain_id=w.a.domain.id, e164="+78001110003", kind=NumberKind.TOLL_FREE),
            Number(domain_id=w.b.domain.id, e164="+74951110004", kind=NumberKind.LANDLINE),
        ]
    )
    db.commit()
    card = client.get(f"/api/pool/domains/{w.a.domain.id}", headers=sup(w)).json()
    assert card["balance"] == "1234.50"
    assert card["block_state"] == "none"
    assert card["notification_email"] == "boss@alpha.test"
    assert card["routing_number"] == "4455"
    assert card["subgroup_name"] == "Без группы"
    assert card["counters"] == {
        "users": 4,
        "operators": 1,
        "landline_numbers": 2,
        "toll_free_numbers": 1,
    }
    other = client.get(f"/api/pool/domains/{w.b.domain.id}", headers=sup(w)).json()
    assert other["balance"] == "-0.05"
    assert other["counters"]["landline_numbers"] == 1


def test_rename_rights_supervisor_any_subgroup_admin_only_allowed(
    client: TestClient, db: Session
) -> None:
    w = make_world(db)
    south = put_in_subgroup(db, w, "Юг", w.a.domain)
    sga = auth(token_for_pool_admin(subgroup_admin(db, w, south)))

    r = client.patch(
        f"/api/pool/domains/{w.a.domain.id}", json={"display_name": " Альфа "}, headers=sga
    )
    assert r.status_code == 200, r.text
    assert r.json()["display_name"] == "Альфа"
    r = client.patch(
        f"/api/pool/domains/{w.b.domain.id}", json={"display_name": "Бета"}, headers=sga
    )
    assert r.status_code == 403
    r = client.patch(
        f"/api/pool/domains/{w.b.domain.id}", json={"routing_number": "4459"}, headers=sga
    )
    assert r.status_code == 403
    r = client.patch(
        f"/api/pool/domains/{w.b.domain.id}", json={"display_name": "Бета"}, headers=sup(w)
    )
    assert r.status_code == 200

    db.expire_all()
    assert db.get(Domain, w.a.domain.id).display_name == "Альфа"  # type: ignore[union-attr]
    assert db.get(Domain, w.b.domain.id).routing_number == "4456"  # type: ignore[union-attr]
    rows = (
        db.execute(
            select(AuditEntry).where(AuditEntry.object_type == "domain").order_by(AuditEntry.id)
        )
        .scalars()
        .all()
    )
    assert [(e.actor_login, e.domain_id, e.pool_id) for e in rows] == [
        ("sgadmin", w.a.domain.id, w.pool.id),
        ("poolsup", w.b.domain.id, w.pool.id),
    ]
    assert rows[0].before == {"display_name": "alpha.test"}
    assert rows[0].after == {"display_name": "Альфа"}


def test_routing_number_rules(client: TestClient, db: Session) -> None:
    w = make_world(db)
    url = f"/api/pool/domains/{w.a.domain.id}"

    def patch(value: object) -> tuple[int, dict[str, object]]:
        r = client.patch(url, json={"routing_number": value}, headers=sup(w))
        return r.status_code, r.json()

    for bad in ("445", "44550", "44a5"):
        status, body = patch(bad)
        assert status == 422, bad
        assert body["details"][0]["field"] == "routing_number"  # type: ignore[index]
    status, body = patch(None)
    assert status == 422 and body["details"][0]["field"] == "routing_number"  # type: ignore[index]

    status, body = patch("4456")
    assert status == 409
    assert body["details"][0]["field"] == "routing_number"  # type: ignore[index]
    assert "beta.test" in body["message"]  # type: ignore[operator]

    # A shorter legacy number in the pool makes any number starting with it ambiguous to dial.
    w.b.domain.routing_number = "77"
    db.commit()
    status, body = patch("7712")
    assert status == 409 and "77" in body["details"][0]["message"]  # type: ignore[index]

    status, body = patch("5000")
    assert status == 200 and body["routing_number"] == "5000"
    db.expire_all()
    assert db.get(Domain, w.a.domain.id).routing_number == "5000"  # type: ignore[union-attr]
    entry = db.execute(select(AuditEntry).where(AuditEntry.object_type == "domain")).scalar_one()
    assert (entry.before, entry.after) == ({"routing_number": "4455"}, {"routing_number": "5000"})


def test_unchanged_patch_writes_no_history(client: TestClient, db: Session) -> None:
    w = make_world(db)
    r = client.patch(
        f"/api/pool/domains/{w.a.domain.id}", json={"routing_number": "4455"}, headers=sup(w)
    )
    assert r.status_code == 200
    assert db.execute(select(AuditEntry)).first() is None
