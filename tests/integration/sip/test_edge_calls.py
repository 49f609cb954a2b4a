"""Real Kamailio + real pjsua2 phones on 127.0.0.1: registration, calls, refusals, CDRs."""

from __future__ import annotations

from pathlib import Path

from tests.factories import PASSWORD
from tests.integration.sip.conftest import Pbx
from tests.sip.agents import Agent
from tests.sip.audio import has_tone
from tests.sip.fixtures import AgentFactory

DOMAIN = "alpha.test"


def registered(pbx: Pbx, make: AgentFactory, name: str, login: str) -> Agent:
    agent = make(name)
    state = agent.register(pbx.registrar, login, DOMAIN, password=PASSWORD)
    assert state["code"] == 200, state
    return agent


def test_registration_with_right_password_succeeds_and_wrong_one_is_refused(
    pbx: Pbx, agent_factory: AgentFactory
) -> None:
    good = agent_factory("good")
    assert good.register(pbx.registrar, "user", DOMAIN, password=PASSWORD)["code"] == 200
    bad = agent_factory("bad")
    state = bad.register(pbx.registrar, "operator", DOMAIN, password="wrong-" + PASSWORD)
    assert state["code"] in (401, 403), state


def test_two_users_call_by_extension_and_a_440_hz_tone_crosses(
    pbx: Pbx, agent_factory: AgentFactory, tmp_path: Path
) -> None:
    alice = registered(pbx, agent_factory, "alice", "user")
    bob = registered(pbx, agent_factory, "bob", "operator")
    call = alice.call(f"sip:{pbx.world.a.operator.extension}@{DOMAIN}")
    incoming = bob.wait_incoming()
    bob.answer(incoming)
    alice.wait_state(call, "CONFIRMED")
    bob.wait_media(incoming)
    alice.wait_media(call)
    wav = tmp_path / "bob-hears.wav"
    bob.record(incoming, wav)
    alice.play_tone(call, 440)
    import time

    time.sleep(2.5)
    bob.stop_record(incoming)
    alice.hangup(call)
    bob.wait_state(incoming, "DISCONNECTED")
    assert has_tone(wav, 440)
    cdr = pbx.wait_cdr(lambda c: c["result"] == "answered" and c["ended_at"] is not None)
    assert cdr["caller"] == pbx.world.a.user.extension
    assert cdr["called"] == pbx.world.a.operator.extension
    assert cdr["direction"] == "internal"
    assert cdr["answered_by"] == f"sip:operator@{DOMAIN}"
    assert cdr["duration_seconds"] >= 2
    assert cdr["cause"] == "caller hung up"
