"""Who the callee sees: a colleague by extension and name, a trunk caller by number.

The softphone engine in this process is the callee (the domain's "user"); callers are pjsua2
agents: a colleague registered through the edge, and the carrier's gateway (the edge trusts
it by address). The edge replaces any caller identity a phone sends with the server's word
(P-Asserted-Identity), so a forged one never reaches the callee.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from desktop.softphone.engine.types import EventKind, LineInfo, display_name_of
from server_stub.store.models import Domain, Number, RoutingRule, RuleTarget
from tests.integration.sip.conftest import Pbx, free_port, make_pbx
from tests.integration.softphone.conftest import DOMAIN, Phone, extension, far_end
from tests.sip.agents import Agent
from tests.sip.fixtures import AgentFactory

DID = "+74951112233"  # the company's number, routed to the engine's user
CALLER_ID = "+74951112244"  # the company's default outgoing number
OUTSIDE = "+74957654321"
#: The carrier's From user: a national number, presented in E.164.
CARRIER_CALLER = "84956667788"


@pytest.fixture
def carrier(tmp_path: Path) -> Iterator[Agent]:
    with Agent(CARRIER_CALLER, port=free_port(), workdir=tmp_path / "carrier") as agent:
        yield agent


@pytest.fixture
def pbx(tmp_path: Path, carrier: Agent) -> Iterator[Pbx]:
    (tmp_path / "pbx").mkdir()
    yield from make_pbx(tmp_path / "pbx", trunk=f"127.0.0.1:{carrier.port}")


def _ringing(phone: Phone, already: int = 0) -> LineInfo:
    events = phone.until(lambda: phone.seen.of(EventKind.INCOMING)[already:], what="ringing")
    line = events[0].line
    assert line is not None
    return line


def test_a_colleague_is_shown_by_extension_and_name_even_with_a_forged_identity(
    phone: Phone, pbx: Pbx, agent_factory: AgentFactory
) -> None:
    operator = pbx.world.a.operator
    bob = far_end(pbx, agent_factory, "bob", "operator")
    me = extension(pbx, "user")
    call = bob.call(f"sip:{me}@{DOMAIN}")
    ring = _ringing(phone)
    assert ring.number == operator.extension != "operator"
    assert ring.display_name == operator.display_name == "Оператор alpha"
    phone.engine.reject(ring.id)
    phone.wait_agent(bob, "call_state", call=call, state="DISCONNECTED")

    # The operator's phone claims to be the director; the callee still sees the operator.
    forged = {
        "P-Asserted-Identity": f'"Директор" <sip:1000@{DOMAIN}>',
        "Remote-Party-ID": f'"Директор" <sip:1000@{DOMAIN}>;party=calling',
        "P-Preferred-Identity": f"<sip:1000@{DOMAIN}>",
    }
    call = bob.call(f"sip:{me}@{DOMAIN}", headers=forged)
    ring = _ringing(phone, 1)
    assert (ring.number, ring.display_name) == (operator.extension, "Оператор alpha")
    phone.engine.answer(ring.id)
    phone.wait_agent(bob, "call_state", call=call, state="CONFIRMED")
    bob.hangup(call)
    ended = phone.wait_ended(ring.id)
    assert ended.answered and ended.number == operator.extension
    # The answered call's record once its end is in (the rejected first call ended earlier).
    cdr = pbx.wait_cdr(
        lambda c: (
            c["caller"] == operator.extension
            and c["answered_at"] is not None
            and c["ended_at"] is not None
        )
    )
    assert cdr["result"] == "answered"


def test_the_raw_invite_carries_exactly_one_identity_the_servers(
    pbx: Pbx, agent_factory: AgentFactory
) -> None:
    """What another make of phone would read: one P-Asserted-Identity, no other claims."""
    name = 'Иван "Ваня" Петров'
    renamed = httpx.patch(
        f"{pbx.server.url}/api/users/{pbx.world.a.operator.id}",
        json={"display_name": name},
        headers=pbx.world.a.headers("admin"),
        timeout=5,
    )
    assert renamed.status_code == 200, renamed.text
    bob = far_end(pbx, agent_factory, "bob", "operator")
    me = far_end(pbx, agent_factory, "me", "user")
    me.auto_answer(486)
    bob.call(
        f"sip:{extension(pbx, 'user')}@{DOMAIN}",
        headers={
            "P-Asserted-Identity": f"<sip:1000@{DOMAIN}>",
            "Remote-Party-ID": f"<sip:1000@{DOMAIN}>;party=calling",
        },
    )
    headers = me.wait_event("incoming_call")["headers"]
    ext = pbx.world.a.operator.extension
    assert headers["p-asserted-identity"] == [f'"Иван \\"Ваня\\" Петров" <sip:{ext}@{DOMAIN}>']
    assert display_name_of(headers["p-asserted-identity"][0]) == name  # as the softphone reads it
    assert "remote-party-id" not in headers and "p-preferred-identity" not in headers
    assert "operator@" in headers["from"][0]  # the From is left alone (dialogs match on it)


def test_a_call_from_the_trunk_shows_the_callers_number(
    phone: Phone, pbx: Pbx, carrier: Agent
) -> None:
    a = pbx.world.a
    with pbx.session() as s:
        number = Number(domain_id=a.domain.id, e164=DID)
        s.add(number)
        s.flush()
        s.add(
            RoutingRule(
                domain_id=a.domain.id,
                number_id=number.id,
                priority=1,
                target=RuleTarget.USER,
                target_ref=a.user.id,
            )
        )
        s.commit()
    call = carrier.call(
        f"sip:{DID}@127.0.0.1:{pbx.edge.cfg.port}",
        account="local",
        headers={"P-Asserted-Identity": "<sip:+70000000000@carrier>"},
    )
    ring = _ringing(phone)
    assert (ring.number, ring.display_name) == ("+74956667788", "")
    phone.engine.answer(ring.id)
    phone.wait_agent(carrier, "call_state", call=call, state="CONFIRMED")
    phone.engine.hangup(ring.id)
    phone.wait_agent(carrier, "call_state", call=call, state="DISCONNECTED")
    cdr = pbx.wait_cdr(lambda c: c["called"] == DID and c["ended_at"] is not None)
    assert cdr["result"] == "answered"


def test_a_call_to_the_telephone_network_asserts_the_companys_caller_id(
    phone: Phone, pbx: Pbx, carrier: Agent
) -> None:
    with pbx.session() as s:
        domain = s.get(Domain, pbx.world.a.domain.id)
        assert domain is not None
        number = Number(domain_id=domain.id, e164=CALLER_ID)
        s.add(number)
        s.flush()
        domain.default_outgoing_number_id = number.id
        domain.balance_kopecks = 100_000
        s.commit()
    carrier.auto_answer(200)
    line = phone.engine.dial(OUTSIDE)
    arrived = phone.wait_agent(carrier, "incoming_call")
    assert OUTSIDE in arrived["to"]
    assert arrived["headers"]["p-asserted-identity"] == [f"<sip:{CALLER_ID}@{DOMAIN}>"]
    phone.wait_agent(carrier, "call_state", call=arrived["call"], state="CONFIRMED")
    phone.engine.hangup(line)
    phone.wait_agent(carrier, "call_state", call=arrived["call"], state="DISCONNECTED")
    phone.wait_ended(line)
