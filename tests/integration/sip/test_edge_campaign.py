"""An outbound campaign over the real SIP edge: an operator's pjsua2 phone dials the client's
number from the card, the client is busy, then answers; the attempts and the result are what the
operator's card and the campaign's progress counters show."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from server_stub.store.models import CallGroup, GroupAlgorithm, GroupMember
from tests.factories import PASSWORD
from tests.integration.sip.conftest import Pbx
from tests.sip.fixtures import AgentFactory

DOMAIN = "alpha.test"


class Api:
    def __init__(self, pbx: Pbx) -> None:
        self.url = pbx.server.url
        self.world = pbx.world

    def __call__(self, who: str, method: str, path: str, json: Any = None) -> Any:
        r = httpx.request(
            method,
            self.url + path,
            json=json,
            headers=self.world.a.headers(who),
            timeout=10,
        )
        assert r.is_success, f"{method} {path}: {r.status_code} {r.text[:400]}"
        return r.json() if r.content else None


def wait_for(get: Callable[[], Any], check: Callable[[Any], bool], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    value = get()
    while not check(value):
        assert time.monotonic() < deadline, f"timed out; last: {value}"
        time.sleep(0.2)
        value = get()
    return value


def test_operator_dials_from_the_card_busy_then_answered_and_the_counters_show_it(
    pbx: Pbx, agent_factory: AgentFactory
) -> None:
    w = pbx.world
    with pbx.session() as db:
        group = CallGroup(
            domain_id=w.a.domain.id,
            name="Обзвон",
            extension="720",
            algorithm=GroupAlgorithm.LONGEST_IDLE,
        )
        db.add(group)
        db.flush()
        db.add(GroupMember(group_id=group.id, user_id=w.a.operator.id, priority=10))
        db.commit()
        group_id = group.id
    api = Api(pbx)
    now = datetime.now(UTC)
    campaign = api(
        "admin",
        "POST",
        "/api/campaigns",
        {
            "name": "Оповещение об акции",
            "group_id": group_id,
            "attempts": 2,
            "method": "sequential",
            "max_minutes": 5,
            "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(days=1)).isoformat(),
            "active": True,
        },
    )
    # The client is a colleague's phone: its extension is the number on the card.
    client_number = w.a.user.extension
    api(
        "admin",
        "POST",
        f"/api/campaigns/{campaign['id']}/clients",
        {"name": "Николай", "numbers": [client_number], "notes": "Инфа"},
    )

    operator = agent_factory("operator")
    assert operator.register(pbx.registrar, "operator", DOMAIN, password=PASSWORD)["code"] == 200
    client = agent_factory("client")
    assert client.register(pbx.registrar, "user", DOMAIN, password=PASSWORD)["code"] == 200

    api("operator", "PUT", "/api/operator/status", {"status": "ready"})
    view = api("operator", "POST", "/api/operator/campaign/start", {"campaign_id": campaign["id"]})
    assert view["state"] == "campaign"
    card = api("operator", "POST", "/api/operator/campaign/next")["card"]
    assert card["name"] == "Николай" and card["numbers"] == [client_number]

    def my_card() -> dict[str, Any]:
        return dict(api("operator", "GET", "/api/operator/campaign")["card"])

    # Attempt 1: the client's phone is busy.
    attempt = api("operator", "POST", "/api/operator/campaign/attempts")["attempt"]
    assert attempt["numbers"] == [client_number] and attempt["ring_seconds"] == 20
    call = operator.call(f"sip:{attempt['numbers'][0]}@{DOMAIN}")
    incoming = client.wait_incoming()
    client.reject(incoming, 486)
    operator.wait_state(call, "DISCONNECTED")
    shown = wait_for(my_card, lambda c: c["attempts"][0]["outcome"] != "in_progress")
    first = shown["attempts"][0]
    assert (first["outcome"], first["source"]) == ("busy", "cdr")
    assert shown["attempts_left"] == 1

    # Attempt 2: the client answers and they talk.
    attempt = api("operator", "POST", "/api/operator/campaign/attempts")["attempt"]
    mark = client.mark()
    call = operator.call(f"sip:{attempt['numbers'][0]}@{DOMAIN}")
    incoming = client.wait_incoming()
    client.answer(incoming)
    operator.wait_state(call, "CONFIRMED", since=0)
    shown = wait_for(my_card, lambda c: c["attempts"][1]["outcome"] == "answered")
    assert shown["attempts"][1]["talk_until"] is not None  # the 5-minute limit runs
    # Talking to a client is still the campaign state (the shift report counts it there).
    assert api("operator", "GET", "/api/operator/campaign")["state"] == "campaign"
    time.sleep(1)
    operator.hangup(call)
    client.wait_state(incoming, "DISCONNECTED", since=mark)
    pbx.wait_cdr(lambda c: c["result"] == "answered" and c["ended_at"] is not None)

    statuses = {s["name"]: s["id"] for s in view["campaign"]["statuses"]}
    result = api(
        "operator",
        "POST",
        "/api/operator/campaign/result",
        {"status_id": statuses["Успешный вызов"], "comment": "согласился"},
    )
    assert result["card"] is None
    progress = api("admin", "GET", f"/api/campaigns/{campaign['id']}")["progress"]
    assert (progress["total"], progress["done"], progress["remaining"], progress["called"]) == (
        1,
        1,
        0,
        1,
    )
    assert progress["by_result"] == {"Успешный вызов": 1}
    listing = api("admin", "GET", f"/api/campaigns/{campaign['id']}/clients")
    row = listing["items"][0]
    assert (row["status"], row["attempts_used"], row["comment"]) == (
        "Успешный вызов",
        2,
        "согласился",
    )
