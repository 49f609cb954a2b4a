"""Transfers and the three-way conference of the softphone engine, proven by tones.

Each party plays its own tone: bob 1300 Hz, carol 2000 Hz, the softphone 440 Hz. Who hears
which tone shows who is connected to whom.
"""

from __future__ import annotations

from pathlib import Path

from desktop.softphone.engine.types import EventKind, LineState
from tests.integration.sip.conftest import Pbx
from tests.integration.softphone.conftest import Phone, extension, far_end
from tests.sip.agents import Agent
from tests.sip.audio import has_tone, tone_wav
from tests.sip.fixtures import AgentFactory

BOB_HZ, CAROL_HZ, ME_HZ = 1300, 2000, 440


def dial(phone: Phone, pbx: Pbx, agent: Agent, role: str) -> tuple[int, int]:
    since = agent.mark()
    line = phone.engine.dial(extension(pbx, role))
    call = phone.incoming(agent, since)
    phone.wait_line(line, LineState.TALKING)
    return line, call


def parties(pbx: Pbx, make: AgentFactory) -> tuple[Agent, Agent]:
    return far_end(pbx, make, "bob", "operator"), far_end(pbx, make, "carol", "supervisor")


def test_blind_transfer_leaves_bob_talking_to_carol_and_the_softphone_out(
    phone: Phone, pbx: Pbx, agent_factory: AgentFactory, tmp_path: Path
) -> None:
    bob, carol = parties(pbx, agent_factory)
    carol.auto_answer()
    line, bob_call = dial(phone, pbx, bob, "operator")
    since_bob, since_carol = bob.mark(), carol.mark()
    phone.engine.blind_transfer(line, extension(pbx, "supervisor"))
    new_call = int(phone.wait_agent(bob, "transfer_request", since=since_bob)["new_call"])
    carol_call = int(phone.wait_agent(carol, "incoming_call", since=since_carol)["call"])
    phone.wait_agent(bob, "media_state", since=since_bob, call=new_call, status="ACTIVE")
    ended = phone.wait_ended(line)
    assert ended.transfer_status == 200
    assert phone.engine.lines() == []
    bob.play_tone(new_call, BOB_HZ)
    carol.play_tone(carol_call, CAROL_HZ)
    phone.record_all(
        [(bob, new_call, tmp_path / "bob.wav"), (carol, carol_call, tmp_path / "carol.wav")],
        tmp_path / "me.wav",
        2.5,
    )
    assert has_tone(tmp_path / "bob.wav", CAROL_HZ)
    assert has_tone(tmp_path / "carol.wav", BOB_HZ)
    del bob_call


def test_attended_transfer_joins_the_held_caller_with_the_consulted_party(
    phone: Phone, pbx: Pbx, agent_factory: AgentFactory, tmp_path: Path
) -> None:
    bob, carol = parties(pbx, agent_factory)
    first, bob_call = dial(phone, pbx, bob, "operator")
    since = bob.mark()
    second, carol_call = dial(phone, pbx, carol, "supervisor")
    # Dialing a second line put the first on hold, as a desk phone does.
    phone.wait_agent(bob, "media_state", since=since, call=bob_call, status="REMOTE_HOLD")
    assert {ln.id: ln.on_hold for ln in phone.engine.lines()} == {first: True, second: False}
    since_bob, since_carol = bob.mark(), carol.mark()
    phone.engine.attended_transfer(first, second)
    replaced = phone.wait_agent(carol, "call_replaced", since=since_carol, call=carol_call)
    carol_new = int(replaced["new_call"])
    phone.wait_ended(first)
    phone.wait_ended(second)
    assert phone.engine.lines() == []
    phone.wait_agent(carol, "media_state", since=since_carol, call=carol_new, status="ACTIVE")
    # Bob got the REFER with Replaces and placed the new call to carol himself.
    bob_new = int(phone.wait_agent(bob, "transfer_request", since=since_bob)["new_call"])
    phone.wait_agent(bob, "media_state", since=since_bob, call=bob_new, status="ACTIVE")
    bob.play_tone(bob_new, BOB_HZ)
    carol.play_tone(carol_new, CAROL_HZ)
    phone.record_all(
        [(bob, bob_new, tmp_path / "bob.wav"), (carol, carol_new, tmp_path / "carol.wav")],
        tmp_path / "me.wav",
        2.5,
    )
    assert has_tone(tmp_path / "bob.wav", CAROL_HZ)
    assert has_tone(tmp_path / "carol.wav", BOB_HZ)


def test_in_a_conference_each_party_hears_the_other_two_and_split_holds_one(
    phone: Phone, pbx: Pbx, agent_factory: AgentFactory, tmp_path: Path
) -> None:
    bob, carol = parties(pbx, agent_factory)
    first, bob_call = dial(phone, pbx, bob, "operator")
    second, carol_call = dial(phone, pbx, carol, "supervisor")
    since = bob.mark()
    phone.engine.conference(first, second)
    phone.wait_agent(bob, "media_state", since=since, call=bob_call, status="ACTIVE")
    assert all(ln.in_conference and not ln.on_hold for ln in phone.engine.lines())
    phone.engine.play_file(tone_wav(tmp_path / "me.wav", ME_HZ, 1.0))
    bob.play_tone(bob_call, BOB_HZ)
    carol.play_tone(carol_call, CAROL_HZ)
    phone.record_all(
        [(bob, bob_call, tmp_path / "bob.wav"), (carol, carol_call, tmp_path / "carol.wav")],
        tmp_path / "heard.wav",
        3.0,
    )
    assert has_tone(tmp_path / "bob.wav", ME_HZ) and has_tone(tmp_path / "bob.wav", CAROL_HZ)
    assert has_tone(tmp_path / "carol.wav", ME_HZ) and has_tone(tmp_path / "carol.wav", BOB_HZ)
    heard = tmp_path / "heard.wav"
    assert has_tone(heard, BOB_HZ) and has_tone(heard, CAROL_HZ) and not has_tone(heard, ME_HZ)

    since = bob.mark()
    phone.engine.split(second)
    phone.wait_agent(bob, "media_state", since=since, call=bob_call, status="REMOTE_HOLD")
    state = {ln.id: (ln.on_hold, ln.in_conference) for ln in phone.engine.lines()}
    assert state == {first: (True, False), second: (False, False)}
    phone.record_all(
        [(carol, carol_call, tmp_path / "carol-after.wav")], tmp_path / "me-after.wav", 2.0
    )
    assert has_tone(tmp_path / "carol-after.wav", ME_HZ)
    assert not has_tone(tmp_path / "carol-after.wav", BOB_HZ)
    assert [e.kind for e in phone.seen.of(EventKind.ERROR)] == []
