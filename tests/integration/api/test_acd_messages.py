"""Operator messages: sent to the operators of groups, read confirmed by the password."""

from __future__ import annotations

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from server_stub.store import provision
from server_stub.store.models import AuditEntry, CallGroup, GroupMember, User
from tests.factories import PASSWORD, World, make_world


def arrange(db: Session) -> tuple[World, User, CallGroup, CallGroup]:
    w = make_world(db)
    op2 = provision.create_user(
        db, w.a.domain, "operator2", PASSWORD, "Оператор Два", is_operator=True
    )
    acd = CallGroup(domain_id=w.a.domain.id, name="Поддержка", extension="700")
    plain = CallGroup(domain_id=w.a.domain.id, name="Бухгалтерия", extension="701")
    db.add_all([acd, plain])
    db.flush()
    db.add_all(
        [
            GroupMember(group_id=acd.id, user_id=w.a.operator.id),
            GroupMember(group_id=acd.id, user_id=op2.id),
            GroupMember(group_id=acd.id, user_id=w.a.user.id),  # not an operator: no message
            GroupMember(group_id=plain.id, user_id=w.a.user.id),
        ]
    )
    db.commit()
    return w, op2, acd, plain


def send(client: TestClient, w: World, group_ids: list[int], who: str = "supervisor") -> Response:
    body = {
        "title": "Новый тариф",
        "text": "С понедельника действует новый тариф.",
        "group_ids": group_ids,
    }
    return client.post("/api/operator-messages", json=body, headers=w.a.headers(who))


def test_acknowledging_a_message_needs_the_right_password(client: TestClient, db: Session) -> None:
    w, _, acd, _ = arrange(db)
    r = send(client, w, [acd.id])
    assert r.status_code == 201, r.text
    msg = r.json()
    assert msg["read"] == "0/2"
    mine = client.get("/api/operator/messages", headers=w.a.headers("operator")).json()
    assert mine["unread"] == 1 and mine["items"][0]["read_at"] is None
    ack = f"/api/operator/messages/{msg['id']}/ack"
    bad = client.post(ack, json={"password": "wrong-one"}, headers=w.a.headers("operator"))
    assert bad.status_code == 403 and bad.json()["code"] == "wrong_password"
    assert "пароль" in bad.json()["message"].lower()
    assert (
        client.get("/api/operator-messages", headers=w.a.headers()).json()["items"][0]["read"]
        == "0/2"
    )
    ok = client.post(ack, json={"password": PASSWORD}, headers=w.a.headers("operator"))
    assert ok.status_code == 200 and ok.json()["read_at"] is not None
    assert (
        client.get("/api/operator-messages", headers=w.a.headers()).json()["items"][0]["read"]
        == "1/2"
    )
    report = client.get(f"/api/operator-messages/{msg['id']}/report", headers=w.a.headers()).json()
    assert [p["login"] for p in report["read"]] == ["operator"]
    assert [p["login"] for p in report["unread"]] == ["operator2"]
    actions = set(
        db.execute(
            select(AuditEntry.action).where(AuditEntry.object_type == "operator_message")
        ).scalars()
    )
    assert actions == {"create", "acknowledge"}
    # A person who is not a recipient cannot acknowledge it.
    other = client.post(ack, json={"password": PASSWORD}, headers=w.b.headers("operator"))
    assert other.status_code == 404


def test_unread_messages_come_first(client: TestClient, db: Session) -> None:
    w, _, acd, _ = arrange(db)
    first = send(client, w, [acd.id]).json()
    send(client, w, [acd.id])
    client.post(
        f"/api/operator/messages/{first['id'] + 1}/ack",
        json={"password": PASSWORD},
        headers=w.a.headers("operator"),
    )
    items = client.get("/api/operator/messages", headers=w.a.headers("operator")).json()["items"]
    assert [i["id"] for i in items] == [first["id"], first["id"] + 1]
    assert items[0]["read_at"] is None and items[1]["read_at"] is not None


def test_a_group_without_operators_refuses_the_message(client: TestClient, db: Session) -> None:
    w, _, acd, plain = arrange(db)
    r = send(client, w, [acd.id, plain.id])
    assert r.status_code == 422
    detail = r.json()["details"][0]
    assert detail["field"] == "group_ids"
    assert "В выбранной группе нет ни одного оператора" in detail["message"]
    assert client.get("/api/operator-messages", headers=w.a.headers()).json()["total"] == 0


def test_only_supervisors_and_admins_send_and_other_domains_see_nothing(
    client: TestClient, db: Session
) -> None:
    w, _, acd, _ = arrange(db)
    assert send(client, w, [acd.id], who="operator").status_code == 403
    msg = send(client, w, [acd.id], who="admin").json()
    assert (
        client.get(f"/api/operator-messages/{msg['id']}/report", headers=w.b.headers()).status_code
        == 404
    )
    assert (
        client.delete(f"/api/operator-messages/{msg['id']}", headers=w.b.headers()).status_code
        == 404
    )
    assert (
        client.delete(f"/api/operator-messages/{msg['id']}", headers=w.a.headers()).status_code
        == 204
    )
    assert (
        client.get("/api/operator/messages", headers=w.a.headers("operator")).json()["total"] == 0
    )
