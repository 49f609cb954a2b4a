"""The operator workstation through the API: status, offers, post-call work, queues, statistics.

Time is injected (``acd_service.now`` overridden), the SIP edge is played by the test with the
edge token; two operators in one ACD group (longest idle) of alpha.test.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server_stub.store.models import AuditEntry, CallGroup, GroupAlgorithm, GroupMember
from server_stub.store.models_acd import OperatorInterval
from tests.integration.api.acd_world import T0, Operators, two_operators

EDGE = {"X-Pult-Edge-Token": "edge-secret"}


class Setup(Operators):
    def status(self, n: int, status: str, at: float, **extra: Any) -> Any:
        self.clock.to(at)
        return self.client.put(
            "/api/operator/status", json={"status": status, **extra}, headers=self.op(n)
        )

    def me(self, n: int, at: float) -> dict[str, Any]:
        self.clock.to(at)
        r = self.client.get("/api/operator/me", headers=self.op(n))
        assert r.status_code == 200, r.text
        return dict(r.json())

    def call(self, call_id: str, at: float, caller: str = "+74950000001") -> Any:
        self.clock.to(at)
        body = {"domain": "alpha.test", "group_id": self.group.id, "call_id": call_id}
        return self.client.post("/api/acd/calls", json=body | {"caller": caller}, headers=EDGE)

    def edge(self, call_id: str, what: str, at: float) -> Any:
        self.clock.to(at)
        return self.client.post(f"/api/acd/calls/{call_id}/{what}", json={}, headers=EDGE)


@pytest.fixture
def s(client: TestClient, app: FastAPI, db: Session) -> Setup:
    w, op2, group, clock = two_operators(
        db,
        app,
        name="Поддержка",
        extension="700",
        answer_seconds=15,
        post_call_seconds=30,
        avg_talk_seconds=60,
        greeting_text="Линия поддержки",
        crm_url_template="https://crm.example/card?phone={caller}&id={call_id}",
    )
    app.state.edge_token = "edge-secret"
    return Setup(w, op2, group, clock, client)


def test_status_changes_are_timed_intervals_not_audit_rows(s: Setup, db: Session) -> None:
    reason = s.client.post(
        "/api/break-reasons", json={"name": "Обед"}, headers=s.w.a.headers()
    ).json()
    assert s.status(1, "ready", 0).status_code == 200
    r = s.status(1, "break", 60, reason_id=reason["id"])
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["status"] == "break" and me["break_reason"] == "Обед"
    assert me["status_since"] == (T0 + timedelta(seconds=60)).isoformat()
    rows = db.execute(
        select(OperatorInterval)
        .where(OperatorInterval.user_id == s.uid(1), OperatorInterval.kind == "status")
        .order_by(OperatorInterval.id)
    ).scalars()
    got = [(i.value, i.reason, i.started_at, i.ended_at) for i in rows]
    assert got == [
        ("ready", "", T0, T0 + timedelta(seconds=60)),
        ("break", "Обед", T0 + timedelta(seconds=60), None),
    ]
    audited = db.execute(
        select(AuditEntry.object_type).where(AuditEntry.actor_id == s.uid(1))
    ).scalars()
    assert "operator" not in set(audited)


def test_break_needs_one_of_the_domains_reasons(s: Setup) -> None:
    s.client.post(
        "/api/break-reasons", json={"name": "Технический перерыв"}, headers=s.w.a.headers()
    )
    other = s.client.post(
        "/api/break-reasons", json={"name": "Обед"}, headers=s.w.b.headers()
    ).json()
    for extra in ({}, {"reason_id": other["id"]}):
        r = s.status(1, "break", 0, **extra)
        assert r.status_code == 422 and r.json()["details"][0]["field"] == "reason_id"
    r = s.status(1, "away", 0, reason_id=other["id"])
    assert r.status_code == 422


def test_vip_caller_is_offered_before_earlier_callers(s: Setup) -> None:
    vip = {"e164": "+74959999999", "priority": 1}
    assert s.client.post("/api/vip-numbers", json=vip, headers=s.w.a.headers()).status_code == 201
    s.status(1, "ready", 0)
    assert s.call("c1", 1).json()["offered_to"] == s.uid(1)
    waiting = s.call("c2", 2).json()
    assert waiting["position"] == 1 and waiting["media"] == "ringback"
    assert waiting["expected_wait_seconds"] == 60  # first in line, one operator online
    r = s.call("c3", 3, caller="8 495 999-99-99")
    assert r.json()["vip_priority"] == 1 and r.json()["position"] == 1
    assert s.edge("c1", "ended", 4).status_code == 200  # the first caller gave up
    offer = s.me(1, 4)["offer"]
    assert offer["call_id"] == "c3" and offer["vip"] is True
    assert offer["greeting_text"] == "Линия поддержки"
    assert offer["crm_url"] == "https://crm.example/card?phone=%2B74959999999&id=c3"


def test_unanswered_offer_returns_to_head_and_goes_to_another_operator(
    s: Setup, db: Session
) -> None:
    s.status(1, "ready", 0)
    s.status(2, "ready", 1)
    assert s.call("c1", 2).json()["offered_to"] == s.uid(1)  # idle longest
    assert s.me(1, 10)["offer"]["seconds_left"] == 7
    me2 = s.me(2, 18)  # 2 + 15 = 17: the offer lapsed
    assert me2["offer"]["call_id"] == "c1"
    me1 = s.me(1, 18)
    assert me1["offer"] is None and me1["missed"] == 1 and me1["status"] == "ready"
    outcome = db.execute(
        select(OperatorInterval.outcome).where(
            OperatorInterval.user_id == s.uid(1), OperatorInterval.value == "offered"
        )
    ).scalar_one()
    assert outcome == "missed"


def test_two_lapsed_offers_set_the_operator_away(s: Setup) -> None:
    s.status(1, "ready", 0)
    s.call("c1", 1)
    s.me(1, 17)  # lapsed once; no one else ready, the call waits out the cool-down
    assert s.me(1, 32)["offer"]["call_id"] == "c1"
    me = s.me(1, 48)
    assert me["status"] == "away" and me["missed"] == 2 and me["offer"] is None


def test_post_call_work_blocks_offers_for_the_group_time(s: Setup) -> None:
    s.status(1, "ready", 0)
    s.call("c1", 1)
    offer = s.me(1, 2)["offer"]
    r = s.client.post(f"/api/operator/offers/{offer['id']}/accept", headers=s.op(1))
    assert r.status_code == 200 and r.json()["state"] == "incoming_call"
    s.edge("c1", "ended", 62)
    s.call("c2", 63)
    me = s.me(1, 63)
    assert me["state"] == "post_call" and me["post_call_remaining_seconds"] == 29
    assert me["talk_seconds"] == 60 and me["answered"] == 1
    assert s.me(1, 91)["offer"] is None
    assert s.me(1, 92)["offer"]["call_id"] == "c2"


def test_post_call_extends_once_and_finishes_early(s: Setup) -> None:
    s.status(1, "ready", 0)
    s.call("c1", 1)
    s.edge("c1", "answered", 2)
    s.edge("c1", "ended", 10)
    s.clock.to(11)
    r = s.client.post("/api/operator/post-call/extend", headers=s.op(1))
    assert r.json()["post_call_remaining_seconds"] == 59 and not r.json()["post_call_extendable"]
    r = s.client.post("/api/operator/post-call/extend", headers=s.op(1))
    assert r.status_code == 409 and r.json()["code"] == "already_extended"
    s.call("c2", 12)
    assert s.me(1, 50)["offer"] is None
    s.clock.to(51)
    r = s.client.post("/api/operator/post-call/finish", headers=s.op(1))
    assert r.json()["offer"]["call_id"] == "c2"


@pytest.mark.parametrize(("algorithm", "chosen"), [("longest_idle", 1), ("least_busy", 2)])
def test_longest_idle_and_least_busy_pick_the_right_operator(
    s: Setup, db: Session, algorithm: str, chosen: int
) -> None:
    """Operator 1 has been idle longest; operator 2 started a fresh shift, so talked least."""
    group = db.get(CallGroup, s.group.id)
    assert group is not None
    group.post_call_seconds = 0
    group.algorithm = GroupAlgorithm(algorithm)
    db.commit()
    s.status(1, "ready", 0)
    s.status(2, "ready", 0)
    assert s.call("a", 1).json()["offered_to"] == s.uid(1)  # a tie goes to the lower id
    assert s.call("b", 1).json()["offered_to"] == s.uid(2)
    s.edge("a", "answered", 2)
    s.edge("b", "answered", 2)
    s.edge("a", "ended", 102)  # operator 1: talked 100 s, free since 102
    s.edge("b", "ended", 52)  # operator 2: talked 50 s, free since 52
    assert s.me(1, 103)["talk_seconds"] == 100
    s.status(2, "offline", 900)
    s.status(2, "ready", 950)  # new shift: talk 0 of 50 s, "idle" only since 950
    assert s.me(2, 960)["talk_seconds"] == 0
    assert s.call("next", 1000).json()["offered_to"] == s.uid(chosen)


def test_a_group_with_members_but_no_operators_refuses_the_call(s: Setup, db: Session) -> None:
    plain = CallGroup(
        domain_id=s.w.a.domain.id, name="Продажи", extension="701", algorithm="random"
    )
    db.add(plain)
    db.flush()
    db.add(GroupMember(group_id=plain.id, user_id=s.w.a.user.id, priority=10))
    db.commit()
    body = {"domain": "alpha.test", "group_id": plain.id, "call_id": "x", "caller": "+7495"}
    r = s.client.post("/api/acd/calls", json=body, headers=EDGE)
    assert r.status_code == 409 and r.json()["code"] == "acd_no_operators"
    assert "нет ни одного оператора" in r.json()["message"]
    en = s.client.post("/api/acd/calls", json=body, headers=EDGE | {"Accept-Language": "en"})
    assert "no operators" in en.json()["message"]


def test_edge_endpoints_need_the_edge_token(s: Setup) -> None:
    body = {"domain": "alpha.test", "group_id": s.group.id, "call_id": "c1"}
    r = s.client.post("/api/acd/calls", json=body, headers=s.w.a.headers())
    assert r.status_code == 403 and r.json()["code"] == "edge_only"


def test_realtime_statistics_and_events(s: Setup, app: FastAPI) -> None:
    s.status(1, "ready", 0)
    s.call("c1", 10)
    s.call("c2", 20)
    s.clock.to(50)
    groups = s.client.get("/api/stats/groups", headers=s.w.a.headers("supervisor"))
    assert groups.status_code == 200
    (row,) = groups.json()["items"]
    assert row["name"] == "Поддержка" and row["waiting"] == 1
    assert row["longest_wait_seconds"] == 30 and row["online"] == 1
    assert row["counts"]["offered"] == 1 and row["operators"] == 2
    ops = s.client.get("/api/stats/operators", headers=s.w.a.headers()).json()["items"]
    by_login = {o["login"]: o for o in ops}
    assert by_login["operator"]["presence"] == "offered"
    assert by_login["operator2"]["online"] is False
    assert s.client.get("/api/stats/groups", headers=s.op(1)).status_code == 403
    events = list(app.state.bus._buffer)
    changed = [e for e in events if e.type == "operator.changed"]
    # Supervisors see the row; the offer (with the caller's number) goes to that operator only.
    own_audience = frozenset({f"user:{s.uid(1)}"})
    assert {frozenset(e.audience or ()) for e in changed} >= {
        frozenset({"supervisor", "domain_admin"}),
        own_audience,
    }
    assert all("operator" not in (e.audience or ()) for e in changed)
    own = [e for e in changed if e.audience == own_audience]
    assert own[-1].data["user_id"] == s.uid(1) and own[-1].data["offer"]["call_id"] == "c1"
    assert all("offer" not in e.data for e in changed if e.audience != own_audience)
    assert any(e.type == "queue.changed" and e.data["waiting"] == 1 for e in events)


def test_queues_and_states_survive_a_restart(s: Setup, app: FastAPI) -> None:
    s.status(1, "ready", 0)
    s.call("c1", 1)
    s.edge("c1", "answered", 2)
    s.call("c2", 3)
    del app.state.acd  # a new server process: only the database remains
    me = s.me(1, 10)
    assert me["state"] == "incoming_call" and me["answered"] == 1
    s.edge("c1", "ended", 20)
    assert s.me(1, 51)["offer"]["call_id"] == "c2"
