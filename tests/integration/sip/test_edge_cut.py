"""A prepaid call in progress is cut when the money runs out: the billing tick queues the call,
the edge takes the queue (``GET /api/sip/cuts``) every second and sends a BYE to both parties,
and the call's record says why it ended.

The tick is run here in the test process through ``scheduler.billing_tick`` — the very function
the server's clock runs — on the PBX's database: the test servers keep billing's clock off
(``PULT_BILLING_TICK_SECONDS=0``), so nothing is charged at a moment the test does not choose.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from server_stub.api import scheduler
from server_stub.settings import Settings
from server_stub.store import call_cuts
from server_stub.store.models import Domain
from server_stub.store.models_cut import CallCut
from tests.factories import make_world
from tests.integration.sip.conftest import EDGE_TOKEN, Pbx, make_pbx
from tests.integration.sip.test_edge_calls import DOMAIN, registered
from tests.integration.sip.test_edge_trunk import OUTSIDE, carrier  # noqa: F401
from tests.sip.agents import Agent
from tests.sip.fixtures import AgentFactory

EDGE = {"X-Pult-Edge-Token": EDGE_TOKEN}


@pytest.fixture
def trunk_pbx(tmp_path: Path, carrier: Agent) -> Iterator[Pbx]:  # noqa: F811
    (tmp_path / "pbx").mkdir()
    yield from make_pbx(tmp_path / "pbx", trunk=f"127.0.0.1:{carrier.port}")


def _set_balance(pbx: Pbx, kopecks: int) -> None:
    with pbx.session() as s:
        domain = s.get(Domain, pbx.world.a.domain.id)
        assert domain is not None
        domain.balance_kopecks = kopecks
        s.commit()


def _tick(pbx: Pbx, tmp_path: Path) -> list[str]:
    """One run of the server's periodic billing work on the PBX's database."""
    app: Any = SimpleNamespace(
        state=SimpleNamespace(
            session_factory=pbx.session_factory,
            settings=Settings(data_dir=tmp_path, database_url="unused"),
        )
    )
    return list(scheduler.billing_tick(app).calls_to_cut)


def test_a_prepaid_call_is_cut_for_both_parties_when_the_money_runs_out(
    trunk_pbx: Pbx,
    carrier: Agent,  # noqa: F811
    agent_factory: AgentFactory,
    tmp_path: Path,
) -> None:
    _set_balance(trunk_pbx, 100_000)  # 1,000 ₽ on an advance (prepaid) account
    user = registered(trunk_pbx, agent_factory, "user", "user")
    carrier.auto_answer(200)
    call = user.call(f"sip:{OUTSIDE}@{DOMAIN}")
    user.wait_state(call, "CONFIRMED")
    far = carrier.events("incoming_call")[0]["call"]
    carrier.wait_state(far, "CONFIRMED")
    cdr = trunk_pbx.wait_cdr(lambda c: c["called"] == OUTSIDE and c["answered_at"] is not None)

    # Enough money: the tick debits the minute in progress and the call goes on.
    assert _tick(trunk_pbx, tmp_path) == []
    time.sleep(2.0)  # two rounds of the edge asking for cuts
    assert not user.events("call_state", call=call, state="DISCONNECTED")
    assert not carrier.events("call_state", call=far, state="DISCONNECTED")

    # The money runs out: the next tick cuts the call, the edge ends it for both parties.
    _set_balance(trunk_pbx, 100)  # 1 ₽, less than the next minute (2.50 ₽)
    started = time.monotonic()
    assert _tick(trunk_pbx, tmp_path) == [cdr["call_id"]]
    user.wait_state(call, "DISCONNECTED", timeout=5)
    carrier.wait_state(far, "DISCONNECTED", timeout=5)
    assert time.monotonic() - started < 5
    ended = trunk_pbx.wait_cdr(lambda c: c["call_id"] == cdr["call_id"] and c["ended_at"])
    assert ended["result"] == "answered"
    assert ended["cause"] == "out of money"
    # The edge took the cut: nothing is left to end.
    pending = httpx.get(trunk_pbx.server.url + "/api/sip/cuts", headers=EDGE, timeout=5)
    assert pending.status_code == 200 and pending.json() == {"cuts": []}


# --- the queue and its endpoint, without Kamailio ----------------------------------------


@pytest.fixture
def edge_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULT_EDGE_TOKEN", EDGE_TOKEN)


def test_the_edge_takes_each_queued_cut_once(
    client: TestClient, db: Session, edge_env: None
) -> None:
    assert call_cuts.enqueue(db, ["c-1", "c-2"]) == 2
    assert call_cuts.enqueue(db, ["c-2", "c-3"]) == 1  # a call queued twice is cut once
    first = client.get("/api/sip/cuts", headers=EDGE)
    assert first.status_code == 200
    assert sorted(c["call_id"] for c in first.json()["cuts"]) == ["c-1", "c-2", "c-3"]
    assert {c["reason"] for c in first.json()["cuts"]} == {"out_of_money"}
    assert client.get("/api/sip/cuts", headers=EDGE).json() == {"cuts": []}
    db.expire_all()
    assert db.query(CallCut).count() == 0


def test_only_the_edge_may_take_cuts(client: TestClient, db: Session, edge_env: None) -> None:
    w = make_world(db)
    call_cuts.enqueue(db, ["c-9"])
    assert client.get("/api/sip/cuts", headers=w.a.headers("admin")).status_code == 403
    assert client.get("/api/sip/cuts").status_code == 403
    db.expire_all()
    assert db.query(CallCut).count() == 1  # still queued for the edge
