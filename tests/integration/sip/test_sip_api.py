"""The endpoints the SIP edge calls, and the CDR list admins read (no Kamailio needed)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from server_stub.api.security import sip_ha1
from server_stub.store.models import OutgoingRestriction
from server_stub.store.models_calls import CallEvent, Cdr
from tests.factories import PASSWORD, World, make_world

TOKEN = "api-test-edge-token"
EDGE = {"X-Pult-Edge-Token": TOKEN}


@pytest.fixture(autouse=True)
def edge_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULT_EDGE_TOKEN", TOKEN)


@pytest.fixture
def world(db: Session) -> World:
    return make_world(db)


def route(client: TestClient, called: str, call_id: str, caller: str = "user") -> dict[str, Any]:
    resp = client.post(
        "/api/sip/route",
        json={
            "domain": "alpha.test",
            "caller_login": caller,
            "called": called,
            "call_id": call_id,
        },
        headers=EDGE,
    )
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def test_edge_endpoints_refuse_user_tokens_and_wrong_secrets(
    client: TestClient, world: World
) -> None:
    body = {"domain": "alpha.test", "username": "user"}
    resp = client.post("/api/sip/credentials", json=body, headers=world.a.headers("admin"))
    assert resp.status_code == 403
    assert resp.json()["code"] == "edge_only"
    bad = client.post("/api/sip/credentials", json=body, headers={"X-Pult-Edge-Token": "x"})
    assert bad.status_code == 403


def test_credentials_give_ha1_or_ha1b_never_the_password(client: TestClient, world: World) -> None:
    ha1, ha1b = sip_ha1("user", "alpha.test", PASSWORD)
    plain = client.post(
        "/api/sip/credentials", json={"domain": "alpha.test", "username": "user"}, headers=EDGE
    )
    assert plain.json() == {"ha1": ha1}
    full = client.post(
        "/api/sip/credentials",
        json={"domain": "alpha.test", "username": "user@alpha.test"},
        headers=EDGE,
    )
    assert full.json() == {"ha1": ha1b}
    other = client.post(
        "/api/sip/credentials",
        json={"domain": "alpha.test", "username": "user@beta.test"},
        headers=EDGE,
    )
    assert other.status_code == 404


def test_refused_call_is_a_cdr_with_the_reason(
    client: TestClient, world: World, db: Session
) -> None:
    world.a.operator.outgoing_restriction = OutgoingRestriction.INTERNAL_ONLY
    db.commit()
    plan = route(client, "+442079460000", "c-refused", caller="operator")
    assert plan["accepted"] is False
    assert plan["refused"]["sip_code"] == 403
    cdrs = client.get("/api/cdrs?lang=en", headers=world.a.headers("admin")).json()["items"]
    assert [c["result"] for c in cdrs] == ["refused"]
    assert cdrs[0]["cause"] == plan["refused"]["reason"]
    assert cdrs[0]["caller"] == world.a.operator.extension


def _events(call_id: str, t0: float) -> list[dict[str, Any]]:
    return [
        {"call_id": call_id, "seq": 1, "type": "ringing", "at": t0 + 0.1, "branch": "sip:a@x"},
        {"call_id": call_id, "seq": 2, "type": "answer", "at": t0 + 2, "branch": "sip:a@x"},
        {"call_id": call_id, "seq": 3, "type": "end", "at": t0 + 32, "code": 200,
         "reason": "caller hung up"},
    ]  # fmt: skip


def test_replayed_events_change_nothing(client: TestClient, world: World, db: Session) -> None:
    route(client, world.a.operator.extension, "c-1")
    events = _events("c-1", time.time())
    first = client.post("/api/sip/events", json={"events": events}, headers=EDGE)
    assert first.json() == {"stored": 3, "duplicates": 0}
    before = client.get("/api/cdrs", headers=world.a.headers("admin")).json()["items"]
    # The edge replays its whole spool after a restart, in another order.
    again = client.post("/api/sip/events", json={"events": events[::-1]}, headers=EDGE)
    assert again.json() == {"stored": 0, "duplicates": 3}
    after = client.get("/api/cdrs", headers=world.a.headers("admin")).json()["items"]
    assert after == before
    assert after[0]["result"] == "answered"
    assert after[0]["duration_seconds"] == 30
    assert db.query(CallEvent).count() == 3
    assert db.query(Cdr).count() == 1


def test_events_of_a_call_the_server_never_routed_still_make_a_cdr(
    client: TestClient, world: World
) -> None:
    event = {
        "call_id": "c-unrouted",
        "seq": 1,
        "type": "refused",
        "at": time.time(),
        "code": 503,
        "reason": "routing unavailable",
        "domain": "alpha.test",
        "caller": "user",
        "called": "102",
    }
    client.post("/api/sip/events", json={"events": [event]}, headers=EDGE)
    cdrs = client.get("/api/cdrs", headers=world.a.headers("admin")).json()["items"]
    assert len(cdrs) == 1
    assert cdrs[0]["result"] == "refused"
    assert cdrs[0]["caller"] == world.a.user.extension


def test_cdrs_are_for_admins_of_their_own_domain_with_filters(
    client: TestClient, world: World
) -> None:
    route(client, world.a.operator.extension, "c-a1")
    route(client, "999", "c-a2")  # no such extension: refused
    resp = client.get("/api/cdrs", headers=world.b.headers("admin"))
    assert resp.json()["items"] == []
    assert client.get("/api/cdrs", headers=world.a.headers("operator")).status_code == 403
    admin = world.a.headers("admin")
    assert client.get("/api/cdrs", headers=admin).json()["total"] == 2
    refused = client.get("/api/cdrs?result=refused", headers=admin).json()["items"]
    assert [c["called"] for c in refused] == ["999"]
    by_number = client.get(f"/api/cdrs?number={world.a.operator.extension}", headers=admin)
    assert [c["call_id"] for c in by_number.json()["items"]] == ["c-a1"]
    future = client.get("/api/cdrs?date_from=2999-01-01T00:00:00", headers=admin).json()
    assert future["total"] == 0


def test_call_history_is_searched_by_number_or_by_name(
    client: TestClient, world: World, db: Session
) -> None:
    from server_stub.store.models import Contact, ContactPhone

    contact = Contact(domain_id=world.a.domain.id, name="Поставщик Ромашка")
    contact.phones.append(ContactPhone(kind="work", number="+74957654321"))
    db.add(contact)
    db.commit()
    route(client, world.a.operator.extension, "to-operator")  # user → operator
    route(client, "+74957654321", "to-supplier")  # user → the supplier's number
    admin = world.a.headers("admin")

    def found(q: str) -> set[str]:
        items = client.get("/api/cdrs", params={"q": q}, headers=admin).json()["items"]
        return {c["called"] for c in items}

    operator_name = world.a.operator.display_name.split()[0].lower()  # «оператор», any case
    assert found(operator_name) == {world.a.operator.extension}
    assert found("ромашка") == {"+74957654321"}
    assert found("7654") == {"+74957654321"}
    assert found("Никто Никогда") == set()
