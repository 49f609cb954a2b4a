"""Real calls between separate pjsua2 agent processes on 127.0.0.1, proven by tones."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sip import audio
from tests.sip.agents import connect, record_together
from tests.sip.fixtures import AgentFactory

ALICE_HZ, BOB_HZ = 440, 880


@pytest.mark.parametrize("codec", ["PCMU", "PCMA", "G722"])
def test_each_party_hears_the_others_tone_and_not_its_own(
    agent_factory: AgentFactory, tmp_path: Path, codec: str
) -> None:
    alice = agent_factory("alice", codecs=[codec])
    bob = agent_factory("bob", codecs=[codec])
    call, incoming = connect(alice, bob)
    assert alice.events("media_state", call=call)[-1]["codec"].startswith(codec)
    alice.play_tone(call, ALICE_HZ)
    bob.play_tone(incoming, BOB_HZ)

    heard_by_alice, heard_by_bob = record_together(
        [(alice, call, tmp_path / "alice.wav"), (bob, incoming, tmp_path / "bob.wav")], 2.0
    )
    alice.hangup(call)
    bob.wait_state(incoming, "DISCONNECTED")

    assert audio.duration(heard_by_bob) >= 1.5
    assert audio.has_tone(heard_by_bob, ALICE_HZ)
    assert not audio.has_tone(heard_by_bob, BOB_HZ)
    assert audio.has_tone(heard_by_alice, BOB_HZ)
    assert not audio.has_tone(heard_by_alice, ALICE_HZ)


def test_a_call_over_tcp_carries_audio_until_the_player_stops(
    agent_factory: AgentFactory, tmp_path: Path
) -> None:
    alice = agent_factory("alice", transport="tcp")
    bob = agent_factory("bob", transport="tcp")
    call, incoming = connect(alice, bob)
    assert ";transport=tcp" in bob.uri()
    alice.play_tone(call, ALICE_HZ)
    (heard_by_bob,) = record_together([(bob, incoming, tmp_path / "bob.wav")], 1.5)
    assert audio.dominant_frequencies(heard_by_bob) == [pytest.approx(ALICE_HZ, abs=3)]

    alice.stop_play(call)
    (after_stop,) = record_together([(bob, incoming, tmp_path / "after_stop.wav")], 1.0)
    assert not audio.has_tone(after_stop, ALICE_HZ)
    assert audio.rms(after_stop, skip_seconds=0.5) < 0.01  # the jitter buffer drains first


def test_hold_stops_the_held_partys_audio_and_resume_brings_it_back(
    agent_factory: AgentFactory, tmp_path: Path
) -> None:
    alice = agent_factory("alice")
    bob = agent_factory("bob")
    call, incoming = connect(alice, bob)
    alice.play_tone(call, ALICE_HZ)
    bob.play_tone(incoming, BOB_HZ)
    (before,) = record_together([(alice, call, tmp_path / "before.wav")], 1.2)

    mark_a, mark_b = alice.mark(), bob.mark()
    alice.hold(call)
    alice.wait_media(call, "LOCAL_HOLD", since=mark_a)
    bob.wait_media(incoming, "REMOTE_HOLD", since=mark_b)
    during, bob_during = record_together(
        [(alice, call, tmp_path / "during.wav"), (bob, incoming, tmp_path / "bob_during.wav")],
        1.2,
    )

    mark_a, mark_b = alice.mark(), bob.mark()
    alice.unhold(call)
    alice.wait_media(call, "ACTIVE", since=mark_a)
    bob.wait_media(incoming, "ACTIVE", since=mark_b)
    (after,) = record_together([(alice, call, tmp_path / "after.wav")], 1.2)

    assert audio.has_tone(before, BOB_HZ)
    # Hold is a sendonly re-INVITE: bob (recvonly) goes quiet, alice keeps sending - what a
    # PBX uses for music on hold - so bob still hears alice's tone.
    assert not audio.has_tone(during, BOB_HZ)
    assert audio.rms(during) < 0.01
    assert audio.has_tone(bob_during, ALICE_HZ)
    assert audio.has_tone(after, BOB_HZ)


@pytest.mark.parametrize("method", ["rfc2833", "info"])
def test_dtmf_digits_arrive_in_order(agent_factory: AgentFactory, method: str) -> None:
    alice = agent_factory("alice")
    bob = agent_factory("bob")
    call, incoming = connect(alice, bob)
    alice.dtmf(call, "1234#", method=method)
    received = [bob.wait_event("dtmf", call=incoming, timeout=5) for _ in range(len("1234#"))]
    assert "".join(e["digit"] for e in received) == "1234#"
    assert {e["method"] for e in received} == {method}


def test_a_rejected_call_reports_the_code_to_the_caller(agent_factory: AgentFactory) -> None:
    alice = agent_factory("alice")
    bob = agent_factory("bob")
    call = alice.call(bob.uri(), headers={"X-Pult-Test": "42"})
    incoming = bob.wait_incoming()
    offer = bob.events("incoming_call", call=incoming)[0]
    assert offer["headers"]["x-pult-test"] == ["42"]
    assert "sip:alice@" in offer["from"]
    alice.wait_state(call, "EARLY")  # the agent rings (180) before anybody answers
    bob.reject(incoming, 486)
    ended = alice.wait_state(call, "DISCONNECTED")
    assert ended["status"] == 486
