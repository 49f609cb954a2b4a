"""The carrier trunk: a call to a company number goes where the number's rules say, and a
user's call to the telephone network leaves through the trunk and is charged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from server_stub.store.models import (
    CallGroup,
    Domain,
    GroupAlgorithm,
    GroupMember,
    Number,
    RoutingRule,
    RuleTarget,
)
from server_stub.store.models_billing import LedgerEntry
from tests.integration.sip.conftest import Pbx, free_port, make_pbx
from tests.integration.sip.test_edge_calls import DOMAIN, registered
from tests.sip.agents import Agent, record_together
from tests.sip.audio import has_tone
from tests.sip.fixtures import AgentFactory

DID = "+74951112233"
OUTSIDE = "+74957654321"
CARRIER_PORT = free_port()


@pytest.fixture
def carrier(tmp_path: Path) -> Iterator[Agent]:
    """The carrier's gateway: one SIP endpoint that sends incoming calls and takes outgoing."""
    with Agent("carrier", port=CARRIER_PORT, workdir=tmp_path / "carrier") as agent:
        yield agent


@pytest.fixture
def trunk_pbx(tmp_path: Path, carrier: Agent) -> Iterator[Pbx]:
    (tmp_path / "pbx").mkdir()
    yield from make_pbx(tmp_path / "pbx", trunk=f"127.0.0.1:{carrier.port}")


def _number_to_group(pbx: Pbx) -> int:
    a = pbx.world.a
    with pbx.session() as s:
        group = CallGroup(
            domain_id=a.domain.id,
            name="Приём",
            extension="500",
            algorithm=GroupAlgorithm.RING_ALL,
            total_wait_seconds=20,
        )
        number = Number(domain_id=a.domain.id, e164=DID)
        s.add_all([group, number])
        s.flush()
        s.add(GroupMember(group_id=group.id, user_id=a.operator.id))
        s.add(RoutingRule(
            domain_id=a.domain.id, number_id=number.id, priority=1, target=RuleTarget.GROUP,
            target_ref=group.id,
        ))  # fmt: skip
        s.commit()
        return group.id


def test_a_call_to_a_company_number_reaches_the_group_its_rule_names(
    trunk_pbx: Pbx, carrier: Agent, agent_factory: AgentFactory, tmp_path: Path
) -> None:
    group_id = _number_to_group(trunk_pbx)
    operator = registered(trunk_pbx, agent_factory, "op", "operator")
    operator.auto_answer(200)
    call = carrier.call(f"sip:{DID}@127.0.0.1:{trunk_pbx.edge.cfg.port}", account="local")
    carrier.wait_media(call)
    incoming = operator.events("incoming_call")[0]["call"]
    operator.wait_media(incoming)
    carrier.play_tone(call, 440)
    operator.play_tone(incoming, 880)
    heard_by_carrier, heard_by_operator = record_together(
        [(carrier, call, tmp_path / "carrier.wav"), (operator, incoming, tmp_path / "op.wav")], 2.0
    )
    assert has_tone(heard_by_operator, 440) and has_tone(heard_by_carrier, 880)
    carrier.hangup(call)
    cdr = trunk_pbx.wait_cdr(lambda c: c["called"] == DID and c["ended_at"] is not None)
    assert cdr["result"] == "answered" and cdr["direction"] == "incoming"
    assert cdr["group_id"] == group_id and cdr["caller"] != ""
    assert cdr["answered_by"] == f"sip:operator@{DOMAIN}"


def test_an_unknown_number_from_the_trunk_is_refused(trunk_pbx: Pbx, carrier: Agent) -> None:
    call = carrier.call(f"sip:+74950000000@127.0.0.1:{trunk_pbx.edge.cfg.port}", account="local")
    ended = carrier.wait_state(call, "DISCONNECTED")
    assert ended["status"] == 404


def test_a_call_to_the_telephone_network_leaves_through_the_trunk_and_is_charged(
    trunk_pbx: Pbx, carrier: Agent, agent_factory: AgentFactory, tmp_path: Path
) -> None:
    with trunk_pbx.session() as s:
        domain = s.get(Domain, trunk_pbx.world.a.domain.id)
        assert domain is not None
        domain.balance_kopecks = 100_000
        s.commit()
    user = registered(trunk_pbx, agent_factory, "user", "user")
    carrier.auto_answer(200)
    call = user.call(f"sip:{OUTSIDE}@{DOMAIN}")
    user.wait_media(call)
    arrived = carrier.events("incoming_call")[0]
    assert OUTSIDE in arrived["to"]
    carrier.wait_media(arrived["call"])
    user.play_tone(call, 440)
    heard = record_together([(carrier, arrived["call"], tmp_path / "far.wav")], 2.0)[0]
    assert has_tone(heard, 440)
    user.hangup(call)
    cdr = trunk_pbx.wait_cdr(lambda c: c["called"] == OUTSIDE and c["ended_at"] is not None)
    assert cdr["result"] == "answered" and cdr["duration_seconds"] >= 2
    with trunk_pbx.session() as s:
        charges = s.query(LedgerEntry).filter(LedgerEntry.code == "call").all()
    # Long distance (no default number sets a home area): 2.50 ₽ a started minute.
    assert [c.amount_kopecks for c in charges] == [-250]
