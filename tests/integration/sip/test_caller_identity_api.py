"""The ring plan names who the callee sees (``presented_number`` / ``presented_name``) and the
caller ID for legs to the carrier; the edge turns them into P-Asserted-Identity."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from server_stub.store.models import Domain, Number, RoutingRule, RuleTarget
from tests.factories import World, make_world
from tests.integration.sip.test_sip_api import EDGE, TOKEN

CALLER_ID = "+74951112244"
OWN_NUMBER = "+74951112255"
DID = "+74951112233"


@pytest.fixture(autouse=True)
def edge_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULT_EDGE_TOKEN", TOKEN)


@pytest.fixture
def world(db: Session) -> World:
    return make_world(db)


def plan(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    resp = client.post("/api/sip/route", json=body, headers=EDGE)
    assert resp.status_code == 200, resp.text
    assert resp.json()["accepted"], resp.json()
    return dict(resp.json())


def user_call(client: TestClient, caller: str, called: str, call_id: str) -> dict[str, Any]:
    return plan(
        client,
        {"domain": "alpha.test", "caller_login": caller, "called": called, "call_id": call_id},
    )


def test_a_colleague_is_presented_by_extension_and_the_current_name(
    client: TestClient, world: World
) -> None:
    a = world.a
    got = user_call(client, "operator", a.user.extension, "id-1")
    assert (got["presented_number"], got["presented_name"]) == (
        a.operator.extension,
        "Оператор alpha",
    )
    assert got["caller_id"] is None  # nothing goes to the carrier
    renamed = client.patch(
        f"/api/users/{a.operator.id}",
        json={"display_name": 'Иван "Ваня" Петров'},
        headers=a.headers("admin"),
    )
    assert renamed.status_code == 200, renamed.text
    again = user_call(client, "operator", a.user.extension, "id-2")
    assert again["presented_name"] == 'Иван "Ваня" Петров'


def test_a_call_to_the_network_carries_the_own_number_or_the_domain_default(
    client: TestClient, world: World, db: Session
) -> None:
    a = world.a
    domain = db.get(Domain, a.domain.id)
    assert domain is not None
    default, own = (
        Number(domain_id=domain.id, e164=CALLER_ID),
        Number(domain_id=domain.id, e164=OWN_NUMBER),
    )
    db.add_all([default, own])
    db.flush()
    domain.default_outgoing_number_id = default.id
    domain.balance_kopecks = 100_000
    a.operator.outgoing_number_id = own.id
    db.commit()
    by_user = user_call(client, "user", "+74957654321", "out-1")
    assert by_user["caller_id"] == CALLER_ID
    assert by_user["presented_number"] == a.user.extension
    by_operator = user_call(client, "operator", "+74957654321", "out-2")
    assert by_operator["caller_id"] == OWN_NUMBER


def test_a_trunk_caller_is_presented_by_the_number_in_e164(
    client: TestClient, world: World, db: Session
) -> None:
    a = world.a
    number = Number(domain_id=a.domain.id, e164=DID)
    db.add(number)
    db.flush()
    db.add(
        RoutingRule(
            domain_id=a.domain.id,
            number_id=number.id,
            priority=1,
            target=RuleTarget.USER,
            target_ref=a.user.id,
        )
    )
    db.commit()
    got = plan(
        client,
        {"caller_login": "84956667788", "called": DID, "call_id": "in-1", "source": "trunk"},
    )
    assert got["domain"] == "alpha.test"
    assert (got["presented_number"], got["presented_name"]) == ("+74956667788", "")
    anonymous = plan(
        client,
        {"caller_login": "anonymous", "called": DID, "call_id": "in-2", "source": "trunk"},
    )
    assert anonymous["presented_number"] == "anonymous"
