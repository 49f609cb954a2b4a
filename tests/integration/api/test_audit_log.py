"""Action history: read-only by construction, scoped (domain / pool / sub-group admin), filtered,
paged newest first, exportable as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from starlette.routing import BaseRoute

from server_stub.api import security
from server_stub.store import provision
from server_stub.store.models import AuditEntry, PoolAdmin, Subgroup
from tests.factories import PASSWORD, World, auth, make_world, token_for_pool_admin

NOW = datetime.now(UTC)


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Real argon2 costs ~1 s per account on a busy machine; these tests check rights, not KDFs.
    monkeypatch.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))


def row(db: Session, name: str, **kw: Any) -> AuditEntry:
    values: dict[str, Any] = {
        "at": NOW,
        "actor_kind": "user",
        "actor_login": "admin@alpha.test",
        "action": "update",
        "object_type": "user",
        "object_name": name,
        "address": "10.0.0.1",
    }
    values.update(kw)
    entry = AuditEntry(**values)
    db.add(entry)
    return entry


def names(body: dict[str, Any]) -> list[str]:
    return [i["object_name"] for i in body["items"]]


def all_routes(routes: Iterable[BaseRoute], prefix: str = "") -> Iterator[tuple[str, set[str]]]:
    """Every (path, methods), through included routers (FastAPI keeps them nested)."""
    for route in routes:
        nested = getattr(route, "original_router", None)
        if nested is not None:
            context = getattr(route, "include_context", None)
            yield from all_routes(nested.routes, prefix + getattr(context, "prefix", ""))
        elif hasattr(route, "path"):
            yield prefix + route.path, set(getattr(route, "methods", None) or ())


def test_no_route_can_edit_or_delete_the_history(app: FastAPI) -> None:
    routes = list(all_routes(app.routes))
    # The walk really reaches nested routers and sees mutating methods...
    assert ("/api/pool/admins/{admin_id}", {"DELETE"}) in routes
    assert {p for p, _ in routes} >= {"/api/audit", "/api/pool/audit", "/api/audit/export"}
    # ...and no path about the history accepts one.
    for path, methods in routes:
        if "audit" in path:
            assert not methods & {"DELETE", "PUT", "PATCH", "POST"}, (path, methods)
    for path, operations in app.openapi()["paths"].items():
        if "audit" in path:
            assert set(operations) == {"get"}, path


def test_domain_admin_sees_only_own_domain(client: TestClient, db: Session) -> None:
    w = make_world(db)
    row(db, "Запись A", domain_id=w.a.domain.id, pool_id=w.pool.id)
    row(db, "Запись B", domain_id=w.b.domain.id, pool_id=w.pool.id, actor_login="admin@beta")
    db.commit()
    assert names(client.get("/api/audit", headers=w.a.headers()).json()) == ["Запись A"]
    assert names(client.get("/api/audit", headers=w.b.headers()).json()) == ["Запись B"]
    # Filters cannot widen the scope.
    r = client.get("/api/audit", params={"actor": "beta"}, headers=w.a.headers())
    assert r.json()["total"] == 0
    r = client.get("/api/audit/export", params={"format": "csv"}, headers=w.a.headers())
    assert "Запись A" in r.text and "Запись B" not in r.text
    # Only the domain admin reads it; a pool session is not a domain session.
    for who in ("operator", "supervisor", "user"):
        assert client.get("/api/audit", headers=w.a.headers(who)).status_code == 403
    pool_token = auth(token_for_pool_admin(w.supervisor))
    assert client.get("/api/audit", headers=pool_token).status_code == 403
    # ...but a pool admin who opened domain A "as admin" reads A's history.
    as_admin = auth(token_for_pool_admin(w.supervisor, domain_id=w.a.domain.id))
    assert names(client.get("/api/audit", headers=as_admin).json()) == ["Запись A"]


def test_filters_period_actor_object_action_and_paging(client: TestClient, db: Session) -> None:
    w = make_world(db)
    a = {"domain_id": w.a.domain.id, "pool_id": w.pool.id}
    row(db, "Иванов Иван", at=NOW - timedelta(days=40), action="create", **a)
    row(db, "Петров Пётр", at=NOW - timedelta(days=10), actor_login="petrov@alpha.test", **a)
    row(db, "+74951112233", at=NOW - timedelta(days=2), action="delete", object_type="vip", **a)
    row(db, "Main Line", at=NOW - timedelta(hours=1), object_type="number", **a)
    row(db, "alpha.test", at=NOW - timedelta(days=50), object_type="domain", **a)
    db.commit()

    def get(**params: Any) -> dict[str, Any]:
        r = client.get("/api/audit", params=params, headers=w.a.headers())
        assert r.status_code == 200, r.text
        return dict(r.json())

    everything = get()
    assert names(everything) == [
        "Main Line",
        "+74951112233",
        "Петров Пётр",
        "Иванов Иван",
        "alpha.test",
    ]
    assert everything["total"] == 5 and everything["loaded"] == 5
    assert names(get(days=1)) == ["Main Line"]
    assert names(get(days=7)) == ["Main Line", "+74951112233"]
    assert names(get(days=45)) == ["Main Line", "+74951112233", "Петров Пётр", "Иванов Иван"]
    period = {"from": (NOW - timedelta(days=11)).isoformat(), "to": (NOW - timedelta(days=1))}
    assert names(get(**period)) == ["+74951112233", "Петров Пётр"]
    msk = (NOW - timedelta(days=3)).astimezone(timezone(timedelta(hours=3)))
    # A zoned time compares as an instant: 3 days ago in Moscow is 3 days ago.
    assert names(get(**{"from": msk.isoformat()})) == ["Main Line", "+74951112233"]
    assert names(get(actor="PETROV")) == ["Петров Пётр"]
    assert names(get(object_name="Петров")) == ["Петров Пётр"]
    assert names(get(object_name="main")) == ["Main Line"]
    assert names(get(object_type="user")) == ["Петров Пётр", "Иванов Иван"]
    assert names(get(action="delete")) == ["+74951112233"]
    assert names(get(action="update", object_type="user")) == ["Петров Пётр"]
    assert names(get(object_name="%")) == []  # a literal, not a wildcard

    first = get(limit=2)
    assert names(first) == ["Main Line", "+74951112233"]
    assert (first["total"], first["loaded"]) == (5, 2)
    last = get(limit=2, offset=4)
    assert names(last) == ["alpha.test"] and last["loaded"] == 5

    r = client.get("/api/audit", params={"days": 3}, headers=w.a.headers())
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "days"
    r = client.get(
        "/api/audit",
        params={"from": NOW.isoformat(), "to": (NOW - timedelta(days=1)).isoformat()},
        headers=w.a.headers(),
    )
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "to"
    r = client.get("/api/audit", params={"from": "yesterday"}, headers=w.a.headers())
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "from"


def test_items_carry_who_where_what_and_the_diff(client: TestClient, db: Session) -> None:
    w = make_world(db)
    r = client.post(
        "/api/vip-numbers", json={"e164": "+74951112233", "priority": 5}, headers=w.a.headers()
    )
    assert r.status_code == 201
    item = client.get("/api/audit", headers=w.a.headers()).json()["items"][0]
    assert item["actor_login"] == "admin@alpha.test" and item["actor_kind"] == "user"
    assert item["action"] == "create" and item["object_type"] == "vip_number"
    assert item["object_id"] == str(r.json()["id"]) and item["object_name"] == "+74951112233"
    assert item["after"]["e164"] == "+74951112233" and item["before"] is None
    assert item["address"] and item["on_behalf_of"] is None
    assert datetime.fromisoformat(item["at"]) >= NOW - timedelta(minutes=5)


def make_pool_history(client: TestClient, db: Session) -> tuple[World, dict[str, str]]:
    """Real pool actions by the supervisor and by a sub-group admin, a domain user's own
    change, and a row of another pool."""
    w = make_world(db)
    south = Subgroup(pool_id=w.pool.id, name="Юг")
    db.add(south)
    db.flush()
    w.a.domain.subgroup_id = south.id
    sga = provision.create_pool_admin(
        db, w.pool, "sga", PASSWORD, "Админ групп", allowed_subgroup_ids=[south.id]
    )
    other = provision.create_pool(db, "Чужой")
    row(db, "Чужая запись", pool_id=other.id, actor_kind="pool_admin", actor_login="x", actor_id=1)
    # Failed logins: to a pool admin account (pool-level) and to a domain user (domain-level).
    failed = {"actor_kind": "anonymous", "action": "login_failed", "object_type": "session"}
    row(
        db,
        "poolsup",
        pool_id=w.pool.id,
        actor_login="poolsup",
        at=NOW - timedelta(days=1),
        **failed,
    )
    row(
        db,
        "user@alpha.test",
        pool_id=w.pool.id,
        domain_id=w.a.domain.id,
        actor_login="user@alpha.test",
        at=NOW - timedelta(days=1),
        **failed,
    )
    db.commit()
    sup_h = auth(token_for_pool_admin(w.supervisor))
    sga_h = auth(token_for_pool_admin(sga))
    url = f"/api/pool/domains/{w.a.domain.id}"
    assert client.patch(url, json={"display_name": "От супервизора"}, headers=sup_h).is_success
    assert client.patch(url, json={"display_name": "От админа групп"}, headers=sga_h).is_success
    r = client.post(
        "/api/vip-numbers", json={"e164": "+74951112233", "priority": 5}, headers=w.a.headers()
    )
    assert r.status_code == 201
    return w, sga_h


def test_pool_history_scope_supervisor_and_subgroup_admin(client: TestClient, db: Session) -> None:
    w, sga_h = make_pool_history(client, db)
    sup_h = auth(token_for_pool_admin(w.supervisor))
    body = client.get("/api/pool/audit", headers=sup_h).json()
    # The pool log: pool admins' actions only; the domain's own VIP change stays in its log.
    assert [(i["actor_login"], i["object_type"]) for i in body["items"]] == [
        ("sga", "domain"),
        ("poolsup", "domain"),
        ("poolsup", "session"),  # the failed login to the pool account
    ]
    assert body["items"][0]["after"] == {"display_name": "От админа групп"}
    # A sub-group admin sees sub-group admins' actions only (spec §6.4).
    body = client.get("/api/pool/audit", headers=sga_h).json()
    assert [i["actor_login"] for i in body["items"]] == ["sga"]
    # The same rows reach the domain's own log, with the VIP change.
    domain_log = client.get("/api/audit", headers=w.a.headers()).json()
    assert [i["actor_login"] for i in domain_log["items"]] == [
        "admin@alpha.test",
        "sga",
        "poolsup",
        "user@alpha.test",
    ]
    assert client.get("/api/audit", headers=w.b.headers()).json()["total"] == 0


def test_subgroup_admins_history_survives_their_deletion(client: TestClient, db: Session) -> None:
    w = make_world(db)
    sup_h = auth(token_for_pool_admin(w.supervisor))
    sales = client.post("/api/pool/subgroups", json={"name": "Продажи"}, headers=sup_h).json()
    created = client.post(
        "/api/pool/admins",
        json={
            "login": "temp",
            "display_name": "Временный",
            "email": "t@example.com",
            "password": "Strong-pass1",
            "allowed_subgroup_ids": [sales["id"]],
        },
        headers=sup_h,
    ).json()
    watcher = provision.create_pool_admin(db, w.pool, "watcher", PASSWORD, "Наблюдатель")
    db.commit()
    temp_admin = db.get(PoolAdmin, created["id"])
    assert temp_admin is not None
    temp = auth(token_for_pool_admin(temp_admin))
    assert client.patch("/api/pool/me", json={"display_name": "Т"}, headers=temp).is_success
    assert client.delete(f"/api/pool/admins/{created['id']}", headers=sup_h).status_code == 204
    body = client.get("/api/pool/audit", headers=auth(token_for_pool_admin(watcher))).json()
    assert [i["actor_login"] for i in body["items"]] == ["temp"]


def test_pool_admin_never_sees_another_pools_history(client: TestClient, db: Session) -> None:
    w, _ = make_pool_history(client, db)
    other_pool = provision.create_pool(db, "Третий")
    other_sup = provision.create_pool_admin(db, other_pool, "third", PASSWORD, "T", supervisor=True)
    db.commit()
    h = auth(token_for_pool_admin(other_sup))
    assert client.get("/api/pool/audit", headers=h).json()["total"] == 0
    body = client.get("/api/pool/audit", headers=auth(token_for_pool_admin(w.supervisor))).json()
    assert "Чужая запись" not in names(body)


def test_csv_export_applies_filters_and_opens_in_excel(client: TestClient, db: Session) -> None:
    w = make_world(db)
    a = {"domain_id": w.a.domain.id, "pool_id": w.pool.id}
    row(
        db,
        "Иванов Иван",
        at=NOW - timedelta(days=2),
        before={"x": "было"},
        after={"x": "стало"},
        **a,
    )
    row(db, "Старый", at=NOW - timedelta(days=40), **a)
    db.commit()
    r = client.get("/api/audit/export", params={"format": "csv", "days": 7}, headers=w.a.headers())
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    assert r.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][0].startswith("Дата и время") and "Объект" in rows[0]
    assert len(rows) == 2
    assert rows[1][rows[0].index("Объект")] == "Иванов Иван"
    assert "стало" in rows[1][rows[0].index("Стало")]

    r = client.get(
        "/api/audit/export",
        params={"format": "csv"},
        headers={**w.a.headers(), "Accept-Language": "en"},
    )
    en = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert en[0][0].startswith("Date and time") and len(en) == 3
    r = client.get("/api/audit/export", params={"format": "xls"}, headers=w.a.headers())
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "format"

    sup_h = auth(token_for_pool_admin(w.supervisor))
    assert client.patch(
        f"/api/pool/domains/{w.b.domain.id}", json={"display_name": "Бета"}, headers=sup_h
    ).is_success
    r = client.get("/api/pool/audit/export", params={"format": "csv"}, headers=sup_h)
    pool_rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [p[pool_rows[0].index("Объект")] for p in pool_rows[1:]] == ["beta.test"]
    assert client.get("/api/pool/audit/export", headers=w.a.headers()).status_code == 403
