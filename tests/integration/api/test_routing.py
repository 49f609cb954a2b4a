"""Routing configuration through the API, checked by what "simulate a call" then says."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server_stub.store.models import (
    AuditEntry,
    CallGroup,
    GroupAlgorithm,
    GroupMember,
    Number,
    Schedule,
)
from tests.factories import World, make_world

DID = "+74951112233"
MONDAY_NOON = "2026-11-23T12:00:00+03:00"
MONDAY_NIGHT = "2026-11-23T22:00:00+03:00"
WEEKDAYS = {"working": [[d, "10:00", "19:00"] for d in range(5)], "extra": []}


def setup(db: Session) -> tuple[World, int, int, int]:
    w = make_world(db)
    number = Number(domain_id=w.a.domain.id, e164=DID, name="Основной")
    schedule = Schedule(domain_id=w.a.domain.id, name="Офис", is_company=True, intervals=WEEKDAYS)
    group = CallGroup(
        domain_id=w.a.domain.id, name="Продажи", extension="500", algorithm=GroupAlgorithm.RING_ALL
    )
    db.add_all([number, schedule, group])
    db.flush()
    db.add(GroupMember(group_id=group.id, user_id=w.a.operator.id, priority=10))
    db.commit()
    return w, number.id, schedule.id, group.id


def simulate(
    client: TestClient, w: World, at: str, caller: str = "+74957654321", **kw: Any
) -> dict[str, Any]:
    body = {"caller": caller, "called": DID, "source": "trunk", "at": at, **kw}
    r = client.post("/api/routing/simulate", json=body, headers=w.a.headers())
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def rung(plan: dict[str, Any]) -> list[str]:
    return [b["uri"] for s in plan["stages"] for b in s["branches"]]


def test_business_hours_rule_and_voicemail_fallback(client: TestClient, db: Session) -> None:
    w, number_id, schedule_id, group_id = setup(db)
    h = w.a.headers()
    r = client.post(
        "/api/routing-rules",
        headers=h,
        json={
            "number_id": number_id,
            "schedule_id": schedule_id,
            "schedule_when": "working",
            "target": "group",
            "target_ref": group_id,
            "name": "Рабочее время",
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["priority"] == 1
    r = client.post(
        "/api/routing-rules",
        headers=h,
        json={
            "number_id": number_id,
            "target": "user_voicemail",
            "target_ref": w.a.admin.id,
        },
    )
    assert r.json()["priority"] == 2
    assert rung(simulate(client, w, MONDAY_NOON)) == ["sip:operator@alpha.test"]
    night = simulate(client, w, MONDAY_NIGHT)
    assert night["stages"] == [] and night["on_no_answer"]["uri"].startswith("sip:voicemail-")
    assert any("Рабочее время" in line for line in night["trace"])


def test_without_rules_the_call_is_refused_busy_and_trace_is_english_on_request(
    client: TestClient, db: Session
) -> None:
    w, *_ = setup(db)
    r = client.post(
        "/api/routing/simulate",
        headers={**w.a.headers(), "Accept-Language": "en"},
        json={"caller": "+74957654321", "called": DID, "source": "trunk", "at": MONDAY_NOON},
    )
    plan = r.json()
    assert plan["accepted"] is False and plan["refused"]["sip_code"] == 486
    assert "default rule" in plan["trace"][-1]


def test_white_list_empty_blocks_and_warns_then_listed_caller_passes(
    client: TestClient, db: Session
) -> None:
    w, number_id, _, group_id = setup(db)
    h = w.a.headers()
    client.post(
        "/api/routing-rules",
        headers=h,
        json={"number_id": number_id, "target": "group", "target_ref": group_id},
    )
    r = client.put(f"/api/numbers/{number_id}/list-mode", headers=h, json={"mode": "white"})
    assert r.status_code == 200 and "пуст" in r.json()["warning"]
    assert simulate(client, w, MONDAY_NOON)["accepted"] is False
    r = client.post(
        "/api/number-filters", headers=h, json={"number_id": number_id, "e164": "8 495 765-43-21"}
    )
    assert r.status_code == 201 and r.json()["e164"] == "+74957654321"
    assert simulate(client, w, MONDAY_NOON)["accepted"] is True
    assert simulate(client, w, MONDAY_NOON, caller="+78121234567")["accepted"] is False


def test_rule_validation_names_the_field(client: TestClient, db: Session) -> None:
    w, number_id, schedule_id, _ = setup(db)
    h = w.a.headers()
    bad = [
        ({"target": "group", "target_ref": 999999}, "target_ref"),
        ({"target": "external", "target_number": "+7495112233"}, "target_number"),
        (
            {"target": "hangup", "schedule_id": schedule_id, "schedule_when": "Обед"},
            "schedule_when",
        ),
        ({"target": "hangup", "prefixes": ["49a"]}, "prefixes"),
        ({"target": "ivr", "target_ref": 1}, "target"),
    ]
    for extra, field in bad:
        r = client.post("/api/routing-rules", headers=h, json={"number_id": number_id, **extra})
        assert r.status_code == 422, (extra, r.text)
        assert r.json()["details"][0]["field"].startswith(field), r.json()
    # Another domain's user is "not found", never a target.
    r = client.post(
        "/api/routing-rules",
        headers=h,
        json={"number_id": number_id, "target": "user", "target_ref": w.b.admin.id},
    )
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "target_ref"
    assert (
        db.execute(select(AuditEntry).where(AuditEntry.object_type == "routing_rule")).first()
        is None
    )


def test_reorder_and_copy_rules(client: TestClient, db: Session) -> None:
    w, number_id, _, group_id = setup(db)
    h = w.a.headers()
    other = Number(domain_id=w.a.domain.id, e164="+74951112244")
    db.add(other)
    db.commit()
    a = client.post(
        "/api/routing-rules", headers=h, json={"number_id": number_id, "target": "hangup"}
    ).json()
    b = client.post(
        "/api/routing-rules",
        headers=h,
        json={"number_id": number_id, "target": "group", "target_ref": group_id},
    ).json()
    assert simulate(client, w, MONDAY_NOON)["accepted"] is False  # hang-up rule first
    r = client.put(
        f"/api/numbers/{number_id}/rules/order", headers=h, json={"rule_ids": [b["id"], a["id"]]}
    )
    assert r.status_code == 200 and [x["priority"] for x in r.json()] == [1, 2]
    assert simulate(client, w, MONDAY_NOON)["accepted"] is True
    assert (
        client.put(
            f"/api/numbers/{number_id}/rules/order", headers=h, json={"rule_ids": [b["id"]]}
        ).status_code
        == 422
    )
    client.post("/api/routing-rules", headers=h, json={"number_id": other.id, "target": "hangup"})
    r = client.post(
        f"/api/numbers/{number_id}/rules/copy", headers=h, json={"to_number_id": other.id}
    )
    assert r.status_code == 200 and [x["target"] for x in r.json()] == ["group", "hangup"]
    listed = client.get(f"/api/routing-rules?number_id={other.id}", headers=h).json()
    assert [x["target"] for x in listed["items"]] == ["group", "hangup"]


def test_forwarding_scheme_user_edits_own_not_others(client: TestClient, db: Session) -> None:
    w, *_ = setup(db)
    me = w.a.headers("user")
    r = client.post(
        "/api/forwarding-contacts",
        headers=me,
        json={
            "user_id": w.a.user.id,
            "number": "+79161234567",
            "priority": 20,
            "ring_seconds": 30,
        },
    )
    assert r.status_code == 201, r.text
    r = client.post(
        "/api/forwarding-contacts",
        headers=me,
        json={"user_id": w.a.operator.id, "number": "+79161234567"},
    )
    assert r.status_code == 404  # a colleague's scheme is not even confirmed to exist
    r = client.put(f"/api/users/{w.a.operator.id}/forwarding/sip", headers=me, json={"priority": 5})
    assert r.status_code == 404
    r = client.put(
        f"/api/users/{w.a.user.id}/forwarding/sip",
        headers=me,
        json={"priority": 20, "ring_seconds": 20},
    )
    assert r.status_code == 200 and r.json()["is_sip"] is True
    sip_id = r.json()["id"]
    assert client.delete(f"/api/forwarding-contacts/{sip_id}", headers=me).status_code == 409
    # SIP and mobile now share priority 20: they ring together.
    plan = client.post(
        "/api/routing/simulate",
        headers=w.a.headers(),
        json={
            "caller": str(w.a.admin.extension),
            "called": w.a.user.extension,
            "at": MONDAY_NOON,
        },
    ).json()
    assert [[b["label"] for b in s["branches"]] for s in plan["stages"]] == [
        [w.a.user.extension, "+79161234567"]
    ]
    # The operator cannot see the user's scheme; the admin can.
    assert (
        client.get("/api/forwarding-contacts", headers=w.a.headers("operator")).json()["total"] == 0
    )
    assert client.get("/api/forwarding-contacts", headers=w.a.headers()).json()["total"] == 2


def test_outgoing_restriction_refusal_is_visible_in_simulation(
    client: TestClient, db: Session
) -> None:
    w, *_ = setup(db)
    w.a.operator.outgoing_restriction = "internal_only"  # type: ignore[assignment]
    db.commit()
    plan = client.post(
        "/api/routing/simulate",
        headers=w.a.headers(),
        json={
            "caller": w.a.operator.extension,
            "called": "+442071234567",
            "at": MONDAY_NOON,
        },
    ).json()
    assert plan["refused"]["sip_code"] == 403 and "ограничение" in plan["trace"][-1]


def test_operator_cannot_configure_routing(client: TestClient, db: Session) -> None:
    w, number_id, _, _ = setup(db)
    r = client.post(
        "/api/routing-rules",
        headers=w.a.headers("operator"),
        json={"number_id": number_id, "target": "hangup"},
    )
    assert r.status_code == 403
    assert (
        client.post(
            "/api/routing/simulate",
            headers=w.a.headers("operator"),
            json={"caller": "1", "called": "2"},
        ).status_code
        == 403
    )
