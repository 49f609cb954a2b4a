"""Supervisor listen-in / whisper / barge: who may start it, on whom, and what the edge gets.

The operator's call is made the way the SIP edge reports it (a route request and an answer
event), so "the operator is in a call" means what it means in production.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server_stub.store.models import AuditEntry
from tests.factories import World, make_world

EDGE = {"X-Pult-Edge-Token": "edge-secret"}
_seq = iter(range(1, 10_000))


@pytest.fixture(autouse=True)
def edge_token(app: FastAPI) -> Iterator[None]:
    app.state.edge_token = "edge-secret"
    yield


def talk(client: TestClient, w: World, call_id: str = "cust-1") -> str:
    """A call from the domain's user to the operator, answered by the operator's phone."""
    login = w.a.operator.login
    route = {
        "domain": w.a.domain.name,
        "caller_login": w.a.user.login,
        "called": w.a.operator.extension,
        "call_id": call_id,
    }
    r = client.post("/api/sip/route", json=route, headers=EDGE)
    assert r.status_code == 200 and r.json()["accepted"], r.text
    event(client, w, call_id, "answer", branch=f"sip:{login}@{w.a.domain.name}", code=200)
    return call_id


def event(client: TestClient, w: World, call_id: str, kind: str, **fields: Any) -> None:
    body = {
        "call_id": call_id,
        "seq": next(_seq),
        "type": kind,
        "at": time.time(),
        "domain": w.a.domain.name,
        **fields,
    }
    r = client.post("/api/sip/events", json={"events": [body]}, headers=EDGE)
    assert r.status_code == 200, r.text


def start(client: TestClient, w: World, who: str = "supervisor", mode: str = "listen") -> Any:
    body = {"operator_id": w.a.operator.id, "mode": mode}
    return client.post("/api/acd/spy", json=body, headers=w.a.headers(who))


def route_spy(client: TestClient, w: World, target: str, caller: str, call_id: str) -> Any:
    body = {
        "domain": w.a.domain.name,
        "caller_login": caller,
        "called": target.split("@", 1)[0],
        "call_id": call_id,
    }
    r = client.post("/api/sip/route", json=body, headers=EDGE)
    assert r.status_code == 200, r.text
    return r.json()


def audit_actions(db: Session, spy_id: int) -> list[str]:
    db.expire_all()
    rows = db.execute(
        select(AuditEntry)
        .where(AuditEntry.object_type == "spy_session", AuditEntry.object_id == str(spy_id))
        .order_by(AuditEntry.id)
    ).scalars()
    return [r.action for r in rows]


def test_an_operator_who_is_not_talking_cannot_be_listened_to(
    client: TestClient, db: Session
) -> None:
    w = make_world(db)
    r = start(client, w)
    assert r.status_code == 409 and r.json()["code"] == "operator_not_in_call"
    assert "не разговаривает" in r.json()["message"]
    talk(client, w)
    assert start(client, w).status_code == 201
    # The call ends: nobody to listen to any more.
    event(client, w, "cust-1", "end", code=200, reason="caller hung up")
    assert start(client, w).status_code == 409


def test_roles_and_domains(client: TestClient, db: Session) -> None:
    w = make_world(db)
    talk(client, w)
    for who in ("operator", "user"):
        assert start(client, w, who).status_code == 403, who
    # Another domain's supervisor names A's operator: not found, as if there were none.
    other = client.post(
        "/api/acd/spy",
        json={"operator_id": w.a.operator.id, "mode": "listen"},
        headers=w.b.headers("supervisor"),
    )
    assert other.status_code == 404
    # A user who is not an operator cannot be chosen.
    not_op = client.post(
        "/api/acd/spy",
        json={"operator_id": w.a.user.id, "mode": "listen"},
        headers=w.a.headers("supervisor"),
    )
    assert not_op.status_code == 404
    bad_mode = start(client, w, mode="shout")
    assert bad_mode.status_code == 422
    for who in ("supervisor", "admin"):
        r = start(client, w, who)
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["operator_id"] == w.a.operator.id and body["mode"] == "listen"
        assert body["target"].startswith("spy-") and body["target"].endswith("@alpha.test")
    listed = client.get("/api/acd/spy", headers=w.a.headers("supervisor")).json()
    assert listed["total"] == 2 and all("target" not in i for i in listed["items"])
    assert client.get("/api/acd/spy", headers=w.b.headers("admin")).json()["total"] == 0
    assert client.get("/api/acd/spy", headers=w.a.headers("operator")).status_code == 403
    sid = listed["items"][0]["id"]
    assert (
        client.patch(
            f"/api/acd/spy/{sid}", json={"mode": "barge"}, headers=w.b.headers("admin")
        ).status_code
        == 404
    )
    assert client.delete(f"/api/acd/spy/{sid}", headers=w.b.headers("admin")).status_code == 404


def test_the_target_routes_to_the_operator_with_the_mode_header_once(
    client: TestClient, db: Session
) -> None:
    w = make_world(db)
    talk(client, w)
    session = start(client, w).json()
    # Someone else dialling the supervisor's target is refused.
    stolen = route_spy(client, w, session["target"], w.a.admin.login, "spy-stolen")
    assert not stolen["accepted"] and stolen["refused"]["sip_code"] == 403
    plan = route_spy(client, w, session["target"], w.a.supervisor.login, "spy-call-1")
    assert plan["accepted"], plan
    [stage] = plan["stages"]
    [branch] = stage["branches"]
    assert branch["uri"] == f"sip:{w.a.operator.login}@{w.a.domain.name}"
    assert branch["headers"] == {"X-Pult-Spy": f"listen;session={session['id']}"}
    # The token opens one call: dialled again it is refused.
    again = route_spy(client, w, session["target"], w.a.supervisor.login, "spy-call-2")
    assert not again["accepted"]
    # An ordinary plan carries no headers.
    normal = client.post(
        "/api/sip/route",
        json={
            "domain": w.a.domain.name,
            "caller_login": w.a.user.login,
            "called": w.a.admin.extension,
            "call_id": "plain-1",
        },
        headers=EDGE,
    ).json()
    assert all(b["headers"] == {} for s in normal["stages"] for b in s["branches"])
    # While the spy call is up, the operator is still "in a call" by their customer's call only.
    event(client, w, "spy-call-1", "answer", branch=branch["uri"], code=200)
    event(client, w, "cust-1", "end", code=200, reason="caller hung up")
    assert start(client, w).status_code == 409


def test_mode_changes_are_audited_and_gate_the_edge(client: TestClient, db: Session) -> None:
    w = make_world(db)
    talk(client, w)
    session = start(client, w).json()
    sid = session["id"]
    route_spy(client, w, session["target"], w.a.supervisor.login, "spy-call-1")

    def edge_allows(mode: str, call_id: str = "spy-call-1") -> int:
        body = {"call_id": call_id, "mode": mode}
        return client.post("/api/sip/spy/mode", json=body, headers=EDGE).status_code

    assert edge_allows("listen") == 200
    assert edge_allows("barge") == 403  # not what the server set
    assert edge_allows("listen", "some-other-call") == 403
    r = client.patch(
        f"/api/acd/spy/{sid}", json={"mode": "whisper"}, headers=w.a.headers("supervisor")
    )
    assert r.status_code == 200 and r.json()["mode"] == "whisper"
    assert edge_allows("whisper") == 200 and edge_allows("listen") == 403
    # People cannot ask the edge's question.
    sup = client.post(
        "/api/sip/spy/mode",
        json={"call_id": "spy-call-1", "mode": "whisper"},
        headers=w.a.headers("supervisor"),
    )
    assert sup.status_code == 403
    assert client.delete(f"/api/acd/spy/{sid}", headers=w.a.headers("admin")).status_code == 204
    assert edge_allows("whisper") == 403  # over: no mode passes any more
    again = client.patch(
        f"/api/acd/spy/{sid}", json={"mode": "barge"}, headers=w.a.headers("supervisor")
    )
    assert again.status_code == 409
    assert client.get("/api/acd/spy", headers=w.a.headers("supervisor")).json()["total"] == 0
    assert audit_actions(db, sid) == ["start", "change_mode", "end"]
    db.expire_all()
    change = db.execute(
        select(AuditEntry).where(
            AuditEntry.object_type == "spy_session", AuditEntry.action == "change_mode"
        )
    ).scalar_one()
    assert change.before == {"mode": "listen"} and change.after == {"mode": "whisper"}
    assert change.actor_login.startswith(w.a.supervisor.login)
    start_row = db.execute(
        select(AuditEntry).where(
            AuditEntry.object_type == "spy_session", AuditEntry.action == "start"
        )
    ).scalar_one()
    assert start_row.after is not None and start_row.after["token_hash"] == "***"


def test_a_session_ends_by_itself_when_the_call_it_listens_to_is_over(
    client: TestClient, db: Session
) -> None:
    w = make_world(db)
    talk(client, w)
    r = start(client, w)
    assert r.status_code == 201
    spy_id = r.json()["id"]
    route_spy(client, w, r.json()["target"], w.a.supervisor.login, "spy-call-1")
    listed = client.get("/api/acd/spy", headers=w.a.headers("supervisor")).json()
    assert [s["id"] for s in listed["items"]] == [spy_id]

    event(client, w, "cust-1", "end", code=200, reason="caller hung up")
    listed = client.get("/api/acd/spy", headers=w.a.headers("supervisor")).json()
    assert listed["items"] == []
    # The system's end is in the action history; the supervisor's late «Закончить» is no
    # error, and the mode can no longer change.
    assert audit_actions(db, spy_id) == ["start", "end"]
    r = client.patch(
        f"/api/acd/spy/{spy_id}", json={"mode": "barge"}, headers=w.a.headers("supervisor")
    )
    assert r.status_code == 409 and r.json()["code"] == "spy_ended"
    r = client.delete(f"/api/acd/spy/{spy_id}", headers=w.a.headers("supervisor"))
    assert r.status_code == 204
    assert audit_actions(db, spy_id) == ["start", "end"]


def test_a_session_ends_when_the_supervisor_hangs_up_without_ending_it(
    client: TestClient, db: Session
) -> None:
    w = make_world(db)
    talk(client, w)
    r = start(client, w)
    spy_id = r.json()["id"]
    route_spy(client, w, r.json()["target"], w.a.supervisor.login, "spy-call-2")
    event(client, w, "spy-call-2", "answer", code=200, branch="x")
    event(client, w, "spy-call-2", "end", code=200, reason="supervisor hung up")
    listed = client.get("/api/acd/spy", headers=w.a.headers("supervisor")).json()
    assert listed["items"] == []
    assert audit_actions(db, spy_id) == ["start", "end"]
