"""The route decision's CDR row is stored just behind the answer (server_stub/api/sip_decisions).

The edge gets its ring plan without waiting for a write; these tests pin down that the row
still always arrives: on its own within moments, before the call's events, before the call
list is read, at shutdown, and again after a failed attempt.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from server_stub.api import sip_decisions
from server_stub.store.models_calls import Cdr
from tests.factories import World, make_world

TOKEN = "decisions-test-edge-token"
EDGE = {"X-Pult-Edge-Token": TOKEN}


@pytest.fixture(autouse=True)
def edge_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULT_EDGE_TOKEN", TOKEN)


@pytest.fixture
def world(db: Session) -> World:
    return make_world(db)


def route(client: TestClient, world: World, call_id: str) -> dict[str, Any]:
    body = {
        "domain": "alpha.test",
        "caller_login": "user",
        "called": world.a.operator.extension,
        "call_id": call_id,
    }
    resp = client.post("/api/sip/route", json=body, headers=EDGE)
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def stored(factory: sessionmaker[Session], call_id: str) -> Cdr | None:
    with factory() as s:
        return s.query(Cdr).filter_by(call_id=call_id).one_or_none()


def test_the_row_arrives_by_itself_within_moments(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    route(client, world, "c-alone")
    deadline = time.monotonic() + 5
    while stored(session_factory, "c-alone") is None and time.monotonic() < deadline:
        time.sleep(0.02)
    cdr = stored(session_factory, "c-alone")
    assert cdr is not None, "no reader asked, yet the flusher stored the decision"
    assert cdr.result == "in_progress"
    assert cdr.trace, "the route trace is in the row"


@pytest.fixture
def no_flusher(monkeypatch: pytest.MonkeyPatch) -> None:
    """The flusher waits an hour: only the other ways store the row."""
    monkeypatch.setattr(sip_decisions, "FLUSH_SECONDS", 3600.0)


@pytest.mark.usefixtures("no_flusher")
def test_the_calls_events_find_their_routing(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    route(client, world, "c-events")
    assert stored(session_factory, "c-events") is None  # still kept in memory
    now = time.time()
    events = [
        {"call_id": "c-events", "seq": 1, "type": "answer", "at": now, "branch": "sip:x@y"},
        {"call_id": "c-events", "seq": 2, "type": "end", "at": now + 7, "code": 200},
    ]
    resp = client.post("/api/sip/events", json={"events": events}, headers=EDGE)
    assert resp.json() == {"stored": 2, "duplicates": 0}
    cdr = stored(session_factory, "c-events")
    assert cdr is not None
    assert (cdr.result, cdr.duration_seconds) == ("answered", 7)
    assert cdr.caller == world.a.user.extension  # the routing's facts, not the edge's
    assert cdr.trace


@pytest.mark.usefixtures("no_flusher")
def test_the_call_list_shows_a_call_routed_a_moment_ago(client: TestClient, world: World) -> None:
    route(client, world, "c-listed")
    items = client.get("/api/cdrs", headers=world.a.headers("admin")).json()["items"]
    assert [c["call_id"] for c in items] == ["c-listed"]


@pytest.mark.usefixtures("no_flusher")
def test_stopping_the_server_stores_what_it_kept(
    app: FastAPI, world: World, session_factory: sessionmaker[Session]
) -> None:
    with TestClient(app) as client:
        route(client, world, "c-shutdown")
        assert stored(session_factory, "c-shutdown") is None
    assert stored(session_factory, "c-shutdown") is not None


@pytest.mark.usefixtures("no_flusher")
def test_a_failed_store_keeps_the_rows_for_the_next_one(
    client: TestClient,
    world: World,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    route(client, world, "c-retry")
    real = sip_decisions._insert

    def broken(session: Session, rows: list[dict[str, Any]]) -> int:
        real(session, rows)  # written, then the transaction fails: nothing may stay
        raise OSError("disk full")

    monkeypatch.setattr(sip_decisions, "_insert", broken)
    with pytest.raises(OSError):
        sip_decisions.store_with(session_factory)
    assert stored(session_factory, "c-retry") is None
    monkeypatch.setattr(sip_decisions, "_insert", real)
    assert sip_decisions.store_with(session_factory) == 1
    assert stored(session_factory, "c-retry") is not None


@pytest.mark.usefixtures("no_flusher")
def test_a_second_decision_for_a_call_changes_nothing(
    client: TestClient, world: World, session_factory: sessionmaker[Session]
) -> None:
    route(client, world, "c-twice")
    sip_decisions.store_with(session_factory)
    first = stored(session_factory, "c-twice")
    route(client, world, "c-twice")
    route(client, world, "c-twice")
    assert sip_decisions.store_with(session_factory) == 0
    with session_factory() as s:
        assert s.query(Cdr).filter_by(call_id="c-twice").count() == 1
    again = stored(session_factory, "c-twice")
    assert first is not None and again is not None
    assert again.started_at == first.started_at


@pytest.mark.usefixtures("no_flusher")
def test_a_read_waits_for_rows_another_thread_is_storing(
    client: TestClient,
    world: World,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The flusher took the row and has not committed it yet: the call list must not be read
    before it has (it found nothing kept, and read too early, once)."""
    route(client, world, "c-inflight")
    real = sip_decisions._insert
    started, release = threading.Event(), threading.Event()

    def slow(session: Session, rows: list[dict[str, Any]]) -> int:
        started.set()
        release.wait(5)
        return real(session, rows)

    monkeypatch.setattr(sip_decisions, "_insert", slow)
    flusher = threading.Thread(target=sip_decisions.store_with, args=(session_factory,))
    flusher.start()
    assert started.wait(5)
    timer = threading.Timer(0.3, release.set)
    timer.start()
    items = client.get("/api/cdrs", headers=world.a.headers("admin")).json()["items"]
    flusher.join(5)
    timer.join()
    assert [c["call_id"] for c in items] == ["c-inflight"]
