"""The route request reuses a domain's routing snapshot (``snapshot.cached``); every change of
routing data, however it is written, must show in the very next route decision."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text, update
from sqlalchemy.orm import Session

from server_stub.store import snapshot
from server_stub.store.models import (
    CallGroup,
    Domain,
    GroupAlgorithm,
    GroupMember,
    OutgoingRestriction,
    User,
)
from tests.factories import World, make_world

TOKEN = "route-cache-edge-token"
EDGE = {"X-Pult-Edge-Token": TOKEN}
ABROAD = "+442079460000"


@pytest.fixture(autouse=True)
def edge_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULT_EDGE_TOKEN", TOKEN)


@pytest.fixture
def world(db: Session) -> World:
    return make_world(db)


_calls = iter(range(1_000_000))


def route(client: TestClient, called: str, caller: str = "operator") -> dict[str, Any]:
    resp = client.post(
        "/api/sip/route",
        json={
            "domain": "alpha.test",
            "caller_login": caller,
            "called": called,
            "call_id": f"cache-{next(_calls)}",
        },
        headers=EDGE,
    )
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def restricted(plan: dict[str, Any]) -> bool:
    return not plan["accepted"] and "outgoing restriction" in plan["refused"]["reason"]


def rung(plan: dict[str, Any]) -> set[int]:
    return {b["user_id"] for s in plan["stages"] for b in s["branches"] if b["user_id"]}


def test_a_restriction_changed_through_the_admin_api_applies_to_the_next_call(
    client: TestClient, world: World
) -> None:
    assert not restricted(route(client, ABROAD))  # the snapshot is cached from here on
    resp = client.patch(
        f"/api/users/{world.a.operator.id}",
        json={"outgoing_restriction": "internal_only"},
        headers=world.a.headers("admin"),
    )
    assert resp.status_code == 200, resp.text
    assert restricted(route(client, ABROAD))
    resp = client.patch(
        f"/api/users/{world.a.operator.id}",
        json={"outgoing_restriction": "inherit"},
        headers=world.a.headers("admin"),
    )
    assert resp.status_code == 200, resp.text
    assert not restricted(route(client, ABROAD))


def test_direct_orm_bulk_and_raw_sql_writes_apply_to_the_next_call(
    client: TestClient, world: World, db: Session
) -> None:
    assert not restricted(route(client, ABROAD))
    world.a.operator.outgoing_restriction = OutgoingRestriction.INTERNAL_ONLY
    db.commit()  # an ORM flush
    assert restricted(route(client, ABROAD))
    db.execute(
        update(User)
        .where(User.id == world.a.operator.id)
        .values(outgoing_restriction=OutgoingRestriction.INHERIT)
    )
    db.commit()  # a bulk UPDATE
    assert not restricted(route(client, ABROAD))
    internal_only = db.execute(
        update(User)
        .where(User.id == world.a.operator.id)
        .values(outgoing_restriction=OutgoingRestriction.INTERNAL_ONLY)
        .returning(User.outgoing_restriction)
    ).scalar_one()
    db.rollback()  # a change rolled back never shows
    assert internal_only == OutgoingRestriction.INTERNAL_ONLY
    assert not restricted(route(client, ABROAD))
    stored = db.execute(
        text("SELECT outgoing_restriction FROM users WHERE id = :id"),
        {"id": world.a.operator.id},
    ).scalar_one()
    db.execute(
        text("UPDATE users SET outgoing_restriction = :r WHERE id = :id"),
        {"r": "INTERNAL_ONLY" if stored.isupper() else "internal_only", "id": world.a.operator.id},
    )
    db.commit()  # raw SQL
    assert restricted(route(client, ABROAD))


def test_a_write_no_one_here_saw_shows_after_the_ttl_without_holding_up_a_call(
    client: TestClient, world: World, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process's write (here: the driver's own connection, unseen by SQLAlchemy):
    the entry serves until it is TTL_SECONDS old; then the call that finds it old is routed
    by it once more while a fresh one is built beside, and the calls after see the change."""
    assert not restricted(route(client, ABROAD))
    stored = db.execute(
        text("SELECT outgoing_restriction FROM users WHERE id = :id"),
        {"id": world.a.operator.id},
    ).scalar_one()
    db.rollback()
    raw = db.get_bind().raw_connection()
    try:
        cursor = raw.cursor()
        marker = "?" if db.get_bind().dialect.name == "sqlite" else "%s"
        cursor.execute(
            f"UPDATE users SET outgoing_restriction = {marker} WHERE id = {marker}",
            ("INTERNAL_ONLY" if stored.isupper() else "internal_only", world.a.operator.id),
        )
        raw.commit()
    finally:
        raw.close()
    assert not restricted(route(client, ABROAD))  # unseen, within the TTL
    monkeypatch.setattr(snapshot, "TTL_SECONDS", 0.0)
    assert not restricted(route(client, ABROAD))  # found old: served, rebuilt beside
    deadline = time.monotonic() + 5
    while not restricted(route(client, ABROAD)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert restricted(route(client, ABROAD))


def test_a_new_group_member_is_rung_on_the_next_call(
    client: TestClient, world: World, db: Session
) -> None:
    group = CallGroup(
        domain_id=world.a.domain.id,
        name="Sales",
        extension="555",
        algorithm=GroupAlgorithm.RING_ALL,
    )
    db.add(group)
    db.flush()
    db.add(GroupMember(group_id=group.id, user_id=world.a.operator.id, priority=1))
    db.commit()
    assert rung(route(client, "555", caller="admin")) == {world.a.operator.id}
    db.add(GroupMember(group_id=group.id, user_id=world.a.user.id, priority=2))
    db.commit()
    assert rung(route(client, "555", caller="admin")) == {world.a.operator.id, world.a.user.id}
    world.a.user.active = False
    db.commit()
    assert rung(route(client, "555", caller="admin")) == {world.a.operator.id}


def test_money_moving_on_a_paid_call_keeps_the_snapshot(
    client: TestClient, world: World, db: Session
) -> None:
    route(client, ABROAD)
    before = snapshot.version()
    db.execute(update(Domain).where(Domain.id == world.a.domain.id).values(balance_kopecks=12345))
    db.commit()
    assert snapshot.version() == before
    db.execute(update(Domain).where(Domain.id == world.a.domain.id).values(pickup_code="*9"))
    db.commit()
    assert snapshot.version() > before


@pytest.mark.parametrize(
    ("sql", "routing"),
    [
        ("INSERT INTO routing_rules (name) VALUES (?)", True),
        ('UPDATE "users" SET display_name=%(d)s WHERE users.id = %(id)s', True),
        ("DELETE FROM group_members WHERE id = ?", True),
        ("UPDATE domains SET balance_kopecks=? WHERE domains.id = ?", False),
        ("UPDATE domains SET balance_kopecks=?, block_state=? WHERE domains.id = ?", True),
        ("INSERT INTO cdrs (call_id) VALUES (?)", False),
        ("SELECT * FROM users", False),
        ('TRUNCATE "users", "cdrs" RESTART IDENTITY CASCADE', True),
    ],
)
def test_which_statements_drop_snapshots(sql: str, routing: bool) -> None:
    assert snapshot.touches_routing(sql) is routing


def test_the_edge_fast_path_answers_bad_requests_as_the_endpoints_do(
    client: TestClient, world: World
) -> None:
    body = {"domain": "alpha.test", "caller_login": "user", "called": "100", "call_id": "x-1"}
    user = client.post("/api/sip/route", json=body, headers=world.a.headers("admin"))
    assert user.status_code == 403 and user.json()["code"] == "edge_only"
    wrong = client.post("/api/sip/route", json=body, headers={"X-Pult-Edge-Token": "nope"})
    assert wrong.status_code == 403 and wrong.json()["code"] == "edge_only"
    invalid = client.post("/api/sip/route", json={"domain": "alpha.test"}, headers=EDGE)
    assert invalid.status_code == 422 and invalid.json()["code"] == "validation_error"
    not_json = client.post(
        "/api/sip/route",
        content=b"domain=alpha.test",
        headers={**EDGE, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert not_json.status_code == 422
    lacking_seq = client.post(
        "/api/sip/events",
        json={"events": [{"call_id": "x-1", "type": "end"}]},
        headers={**EDGE, "Accept-Language": "en"},
    )
    assert lacking_seq.status_code == 422
    assert lacking_seq.json()["code"] == "bad_event"
    assert "lacks call_id or seq" in lacking_seq.json()["message"]
    stored = client.post(
        "/api/sip/events",
        json={"events": [{"call_id": "x-1", "seq": 1, "type": "ringing", "at": 1.0}]},
        headers=EDGE,
    )
    assert stored.status_code == 200 and stored.json() == {"stored": 1, "duplicates": 0}


def test_a_long_event_batch_is_stored_once_and_replays_store_nothing(
    client: TestClient, world: World, db: Session
) -> None:
    calls = [f"batch-{n}" for n in range(7)]
    for call_id in calls:
        route(client, world.a.operator.extension, caller="user")  # other calls meanwhile
        client.post(
            "/api/sip/route",
            json={
                "domain": "alpha.test",
                "caller_login": "user",
                "called": world.a.operator.extension,
                "call_id": call_id,
            },
            headers=EDGE,
        ).raise_for_status()
    events = [
        {"call_id": c, "seq": seq, "type": kind, "at": 1000.0 + seq, "code": code}
        for c in calls
        for seq, kind, code in ((1, "ringing", 180), (2, "answer", 200), (3, "end", 200))
    ]
    first = client.post("/api/sip/events", json={"events": events[:12]}, headers=EDGE)
    assert first.json() == {"stored": 12, "duplicates": 0}
    whole = client.post("/api/sip/events", json={"events": events}, headers=EDGE)
    assert whole.json() == {"stored": len(events) - 12, "duplicates": 12}
    again = client.post("/api/sip/events", json={"events": events}, headers=EDGE)
    assert again.json() == {"stored": 0, "duplicates": len(events)}
    cdrs = client.get("/api/cdrs?lang=en&limit=500", headers=world.a.headers("admin")).json()
    ours = [c for c in cdrs["items"] if c["call_id"] in calls]
    assert sorted(c["call_id"] for c in ours) == sorted(calls)  # one CDR per call
    assert {(c["result"], c["duration_seconds"]) for c in ours} == {("answered", 1)}
