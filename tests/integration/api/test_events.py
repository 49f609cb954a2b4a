"""The WebSocket event stream: authentication, tenant and audience filtering, catch-up.

A stream that should stay silent is proven silent by producing a later event it must get
and checking that this is the first thing it receives (waiting for "nothing" would be slow
and flaky).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from server_stub.api.eventbus import EventBus
from server_stub.api.routes import events as events_route
from server_stub.settings import Settings
from tests.factories import World, make_world, token_for_pool_admin, token_for_user


def bus_of(client: TestClient) -> EventBus:
    app: Any = client.app
    bus: EventBus = app.state.bus
    return bus


def open_stream(
    ws: WebSocketTestSession,
    token: str,
    since: int | None = None,
    epoch: str | None = None,
) -> dict[str, Any]:
    """Authenticate and return the hello message."""
    first: dict[str, Any] = {"token": token}
    if since is not None:
        first["since"] = since
    if epoch is not None:
        first["epoch"] = epoch
    ws.send_json(first)
    hello: dict[str, Any] = ws.receive_json()
    assert hello["type"] == "hello", hello
    return hello


def create_vip(client: TestClient, headers: dict[str, str], n: int) -> int:
    r = client.post(
        "/api/vip-numbers", json={"e164": f"+7495111{n:04d}", "priority": 5}, headers=headers
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def admin_token(w: World, tenant: str = "a") -> str:
    return token_for_user(getattr(w, tenant).admin)


def test_admin_gets_created_events_of_own_domain_with_increasing_seq(
    client: TestClient, db: Session
) -> None:
    w = make_world(db)
    with client.websocket_connect("/api/events") as ws:
        hello = open_stream(ws, admin_token(w))
        first_id = create_vip(client, w.a.headers(), 1)
        second_id = create_vip(client, w.a.headers(), 2)
        first, second = ws.receive_json(), ws.receive_json()
    assert first["type"] == second["type"] == "vip_number.created"
    assert [first["data"]["id"], second["data"]["id"]] == [first_id, second_id]
    assert hello["seq"] < first["seq"] < second["seq"]
    assert first["epoch"] == second["epoch"] == hello["epoch"]
    assert first["at"]


def test_other_domain_receives_nothing_of_a(client: TestClient, db: Session) -> None:
    w = make_world(db)
    with (
        client.websocket_connect("/api/events") as ws_a,
        client.websocket_connect("/api/events") as ws_b,
    ):
        open_stream(ws_a, admin_token(w))
        open_stream(ws_b, token_for_user(w.b.user))
        a_id = create_vip(client, w.a.headers(), 1)
        b_id = create_vip(client, w.b.headers(), 2)
        got_b = ws_b.receive_json()
        got_a = ws_a.receive_json()
    assert (got_b["type"], got_b["data"]["id"]) == ("vip_number.created", b_id)
    assert (got_a["type"], got_a["data"]["id"]) == ("vip_number.created", a_id)


def test_event_for_admins_only_is_not_sent_to_a_plain_user(client: TestClient, db: Session) -> None:
    w = make_world(db)
    bus = bus_of(client)
    with (
        client.websocket_connect("/api/events") as ws_user,
        client.websocket_connect("/api/events") as ws_admin,
    ):
        open_stream(ws_user, token_for_user(w.a.user))
        open_stream(ws_admin, admin_token(w))
        bus.publish("billing.limit_reached", w.a.domain.id, {"x": 1}, audience=["domain_admin"])
        bus.publish("user.updated", w.a.domain.id, {"id": w.a.user.id})
        assert ws_user.receive_json()["type"] == "user.updated"
        assert ws_admin.receive_json()["type"] == "billing.limit_reached"
        assert ws_admin.receive_json()["type"] == "user.updated"


def test_reconnect_with_since_gets_exactly_the_missed_events_in_order(
    client: TestClient, db: Session
) -> None:
    w = make_world(db)
    with client.websocket_connect("/api/events") as ws:
        hello = open_stream(ws, admin_token(w))
        create_vip(client, w.a.headers(), 1)
        last_seen = ws.receive_json()["seq"]
    missed = [create_vip(client, w.a.headers(), n) for n in (2, 3)]
    create_vip(client, w.b.headers(), 4)  # another domain's: never replayed to A
    missed.append(create_vip(client, w.a.headers(), 5))
    with client.websocket_connect("/api/events") as ws:
        open_stream(ws, admin_token(w), since=last_seen, epoch=hello["epoch"])
        replayed = [ws.receive_json() for _ in missed]
        live_id = create_vip(client, w.a.headers(), 6)
        after = ws.receive_json()
    assert [e["data"]["id"] for e in replayed] == missed
    seqs = [e["seq"] for e in replayed]
    assert seqs == sorted(seqs) and seqs[0] > last_seen
    # No duplicate of a replayed event and nothing else before the next live one.
    assert after["data"]["id"] == live_id and after["seq"] > seqs[-1]


def test_reconnect_with_wrong_epoch_is_told_to_resync(client: TestClient, db: Session) -> None:
    w = make_world(db)
    create_vip(client, w.a.headers(), 1)
    seq_before = bus_of(client).last_seq
    with client.websocket_connect("/api/events") as ws:
        hello = open_stream(ws, admin_token(w), since=0, epoch="another-server-run")
        resync = ws.receive_json()
        live_id = create_vip(client, w.a.headers(), 2)
        live = ws.receive_json()
    assert resync == {"type": "resync", "epoch": hello["epoch"], "seq": seq_before}
    # The stream goes on after a resync: the client reloads and keeps listening.
    assert live["data"]["id"] == live_id


def test_since_without_epoch_is_told_to_resync(client: TestClient, db: Session) -> None:
    w = make_world(db)
    with client.websocket_connect("/api/events") as ws:
        open_stream(ws, admin_token(w), since=0)
        assert ws.receive_json()["type"] == "resync"


@pytest.fixture
def small_buffer_client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    from server_stub.api.app import create_app

    app: FastAPI = create_app(settings.model_copy(update={"event_buffer_size": 10}), engine)
    with TestClient(app) as c:
        yield c


def test_since_older_than_the_buffer_is_told_to_resync(
    small_buffer_client: TestClient, db: Session
) -> None:
    client = small_buffer_client
    w = make_world(db)
    bus = bus_of(client)
    for n in range(30):
        bus.publish("contact.created", w.a.domain.id, {"id": n + 1})
    with client.websocket_connect("/api/events") as ws:
        hello = open_stream(ws, admin_token(w), since=19, epoch=bus.epoch)
        assert ws.receive_json() == {"type": "resync", "epoch": hello["epoch"], "seq": 30}
    # The buffer holds exactly the last ten: one step later, everything can be replayed.
    with client.websocket_connect("/api/events") as ws:
        open_stream(ws, admin_token(w), since=20, epoch=bus.epoch)
        assert [ws.receive_json()["seq"] for _ in range(10)] == list(range(21, 31))


def expect_close(ws: WebSocketTestSession, code: int) -> tuple[dict[str, Any], str]:
    error: dict[str, Any] = ws.receive_json()
    with pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_json()
    assert closed.value.code == code
    return error, closed.value.reason


def test_bad_token_closes_4401_with_a_reason(client: TestClient, db: Session) -> None:
    make_world(db)
    with client.websocket_connect("/api/events", headers={"Accept-Language": "en"}) as ws:
        ws.send_json({"token": "not-a-jwt"})
        error, reason = expect_close(ws, 4401)
    assert error == {
        "type": "error",
        "code": "not_authenticated",
        "message": "Authentication required",
    }
    assert reason == "Authentication required"


def test_first_message_without_token_closes_4401_in_russian_by_default(
    client: TestClient, db: Session
) -> None:
    with client.websocket_connect("/api/events") as ws:
        ws.send_json({"since": 3})
        error, reason = expect_close(ws, 4401)
    assert error["code"] == "not_authenticated" and "токен" in reason


def test_silent_client_is_closed_4401_after_the_timeout(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events_route, "AUTH_TIMEOUT_SECONDS", 0.05)
    with client.websocket_connect("/api/events") as ws:
        error, _ = expect_close(ws, 4401)
    assert error["code"] == "not_authenticated"


def test_inactive_user_token_closes_4401(client: TestClient, db: Session) -> None:
    w = make_world(db)
    w.a.user.active = False
    db.commit()
    with client.websocket_connect("/api/events") as ws:
        ws.send_json({"token": token_for_user(w.a.user)})
        expect_close(ws, 4401)


def test_non_integer_since_closes_4400_naming_it(client: TestClient, db: Session) -> None:
    w = make_world(db)
    with client.websocket_connect("/api/events", headers={"Accept-Language": "en"}) as ws:
        ws.send_json({"token": admin_token(w), "since": True})
        error, _ = expect_close(ws, 4400)
    assert "'since'" in error["message"]


def test_pool_admin_outside_a_domain_closes_4403(client: TestClient, db: Session) -> None:
    w = make_world(db)
    with client.websocket_connect("/api/events") as ws:
        ws.send_json({"token": token_for_pool_admin(w.supervisor)})
        error, _ = expect_close(ws, 4403)
    assert error["code"] == "forbidden"


def test_pool_admin_who_opened_a_domain_gets_its_events(client: TestClient, db: Session) -> None:
    w = make_world(db)
    with client.websocket_connect("/api/events") as ws:
        open_stream(ws, token_for_pool_admin(w.supervisor, w.b.domain.id))
        create_vip(client, w.a.headers(), 1)
        b_id = create_vip(client, w.b.headers(), 2)
        assert ws.receive_json()["data"]["id"] == b_id


def test_ping_is_answered_with_pong(client: TestClient, db: Session) -> None:
    w = make_world(db)
    with client.websocket_connect("/api/events") as ws:
        open_stream(ws, admin_token(w))
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}


def test_disconnect_unsubscribes(client: TestClient, db: Session) -> None:
    w = make_world(db)
    bus = bus_of(client)
    with client.websocket_connect("/api/events") as ws:
        open_stream(ws, admin_token(w))
        assert bus.subscriber_count == 1
    assert bus.subscriber_count == 0
    # Publishing after the client left must not break the request that publishes.
    create_vip(client, w.a.headers(), 1)


def test_too_slow_client_gets_resync_and_is_closed(
    client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events_route, "QUEUE_SIZE", 2)
    w = make_world(db)
    bus = bus_of(client)
    domain_id = w.a.domain.id

    def burst() -> None:
        # Run on the server's event loop: all deliveries land before the stream can drain
        # the queue, exactly like a client that stopped reading.
        for n in range(5):
            bus.publish("contact.created", domain_id, {"id": n})

    with client.websocket_connect("/api/events") as ws:
        open_stream(ws, admin_token(w))
        assert client.portal is not None
        client.portal.call(burst)
        resync = ws.receive_json()
        error, _ = expect_close(ws, 4408)
    assert resync == {"type": "resync", "epoch": bus.epoch, "seq": bus.last_seq}
    assert error["code"] == "too_slow"
