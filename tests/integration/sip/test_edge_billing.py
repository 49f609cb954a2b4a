"""Billing at the SIP edge: a domain past its credit limit cannot make paid calls, and a paid
call that happened is charged exactly once from its CDR."""

from __future__ import annotations

import time
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from server_stub.store import billing_ledger
from server_stub.store.models import Domain, PaymentScheme
from server_stub.store.models_billing import LedgerEntry
from tests.factories import make_world
from tests.integration.sip.conftest import Pbx
from tests.integration.sip.test_edge_calls import DOMAIN, registered
from tests.integration.sip.test_sip_api import EDGE, edge_token, route  # noqa: F401
from tests.sip.fixtures import AgentFactory

LANDLINE = "+74957654321"


def _past_credit_limit(s: Session, domain_id: int) -> None:
    domain = s.get(Domain, domain_id)
    assert domain is not None
    domain.payment_scheme = PaymentScheme.CREDIT
    domain.balance_kopecks = -100_000  # −1,000 ₽ …
    account = billing_ledger.account(s, domain)
    account.credit_limit_kopecks = 100_000  # … with a 1,000 ₽ credit limit: reached
    s.commit()


def test_domain_past_its_credit_limit_is_refused_at_the_edge_with_the_billing_reason(
    pbx: Pbx, agent_factory: AgentFactory
) -> None:
    with pbx.session() as s:
        _past_credit_limit(s, pbx.world.a.domain.id)
    user = registered(pbx, agent_factory, "user", "user")
    call = user.call(f"sip:{LANDLINE}@{DOMAIN}")
    ended = user.wait_state(call, "DISCONNECTED")
    assert ended["status"] == 403
    assert "credit limit" in ended["reason"]
    cdr = pbx.wait_cdr(lambda c: c["called"] == LANDLINE)
    assert cdr["result"] == "refused" and "credit limit" in cdr["cause"]
    # Internal calls are free and still allowed.
    other = registered(pbx, agent_factory, "operator", "operator")
    other.auto_answer(200)
    internal = user.call(f"sip:{pbx.world.a.operator.extension}@{DOMAIN}")
    user.wait_state(internal, "CONFIRMED")
    user.hangup(internal)


def test_a_paid_call_is_charged_once_from_its_cdr_even_when_events_replay(
    client: TestClient, db: Session
) -> None:
    w = make_world(db)
    w.a.domain.balance_kopecks = 100_000
    db.commit()
    plan = route(client, LANDLINE, "paid-1")
    assert plan["accepted"] is True and plan["paid"] is True
    t0 = time.time()
    events = [
        {"call_id": "paid-1", "seq": 1, "type": "answer", "at": t0 + 1, "branch": "trunk"},
        {"call_id": "paid-1", "seq": 2, "type": "end", "at": t0 + 91, "code": 200,
         "reason": "caller hung up"},
    ]  # fmt: skip
    assert client.post("/api/sip/events", json={"events": events}, headers=EDGE).status_code == 200
    calls = db.query(LedgerEntry).filter(LedgerEntry.code == "call").all()
    assert len(calls) == 1 and calls[0].amount_kopecks < 0
    charged = Decimal(calls[0].amount_kopecks) / 100
    # The whole spool again after an edge restart: nothing more is charged.
    client.post("/api/sip/events", json={"events": events[::-1]}, headers=EDGE)
    db.expire_all()
    again = db.query(LedgerEntry).filter(LedgerEntry.code == "call").all()
    assert len(again) == 1 and Decimal(again[0].amount_kopecks) / 100 == charged
    balance = client.get("/api/billing/account", headers=w.a.headers()).json()["balance"]
    assert Decimal(balance) == Decimal(db.get(Domain, w.a.domain.id).balance_kopecks) / 100  # type: ignore[union-attr]
