"""Transfers and a local three-way conference between agent processes, proven by tones."""

from __future__ import annotations

from pathlib import Path

from tests.sip import audio
from tests.sip.agents import connect, record_together
from tests.sip.fixtures import AgentFactory

ALICE_HZ, BOB_HZ, CAROL_HZ = 440, 880, 1300


def test_blind_transfer_connects_alice_to_carol_and_bob_leaves(
    agent_factory: AgentFactory, tmp_path: Path
) -> None:
    alice = agent_factory("alice")
    bob = agent_factory("bob")
    carol = agent_factory("carol")
    carol.auto_answer()
    to_bob, from_alice = connect(alice, bob)

    bob.xfer(from_alice, carol.uri())
    request = alice.wait_event("transfer_request", call=to_bob)
    assert request["to"].startswith(carol.uri().split(";")[0].rstrip(">"))
    to_carol = int(request["new_call"])
    alice.play_tone(to_carol, ALICE_HZ)
    at_carol = carol.wait_incoming()
    carol.play_tone(at_carol, CAROL_HZ)
    alice.wait_state(to_carol, "CONFIRMED")
    alice.wait_media(to_carol)
    carol.wait_media(at_carol)

    done = bob.wait_event("transfer_status", call=from_alice, final=True)
    assert done["status"] == 200
    bob.wait_state(from_alice, "DISCONNECTED")
    alice.wait_state(to_bob, "DISCONNECTED")

    heard_by_carol, heard_by_alice = record_together(
        [(carol, at_carol, tmp_path / "carol.wav"), (alice, to_carol, tmp_path / "alice.wav")],
        1.5,
    )
    assert audio.has_tone(heard_by_carol, ALICE_HZ)
    assert audio.has_tone(heard_by_alice, CAROL_HZ)
    assert [c["call"] for c in bob.calls()] == []


def test_attended_transfer_replaces_bobs_consultation_call(
    agent_factory: AgentFactory, tmp_path: Path
) -> None:
    alice = agent_factory("alice")
    bob = agent_factory("bob")
    carol = agent_factory("carol")
    to_bob, from_alice = connect(alice, bob)
    consult, at_carol = connect(bob, carol)

    bob.xfer_replaces(from_alice, consult)
    request = alice.wait_event("transfer_request", call=to_bob)
    to_carol = int(request["new_call"])
    alice.play_tone(to_carol, ALICE_HZ)
    replaced = carol.wait_event("call_replaced", call=at_carol)
    carol_new = int(replaced["new_call"])
    carol.play_tone(carol_new, CAROL_HZ)
    alice.wait_state(to_carol, "CONFIRMED")
    carol.wait_media(carol_new)

    bob.wait_state(from_alice, "DISCONNECTED")
    bob.wait_state(consult, "DISCONNECTED")
    carol.wait_state(at_carol, "DISCONNECTED")

    heard_by_carol, heard_by_alice = record_together(
        [(carol, carol_new, tmp_path / "carol.wav"), (alice, to_carol, tmp_path / "alice.wav")],
        1.5,
    )
    assert audio.has_tone(heard_by_carol, ALICE_HZ)
    assert audio.has_tone(heard_by_alice, CAROL_HZ)


def test_three_way_conference_each_party_hears_the_other_two(
    agent_factory: AgentFactory, tmp_path: Path
) -> None:
    alice = agent_factory("alice")
    bob = agent_factory("bob")
    carol = agent_factory("carol")
    to_bob, at_bob = connect(alice, bob)
    to_carol, at_carol = connect(alice, carol)
    assert sorted(alice.conference([to_bob, to_carol])) == sorted([to_bob, to_carol])
    alice.play_tone(to_bob, ALICE_HZ)  # alice's "microphone" feeds the whole conference
    bob.play_tone(at_bob, BOB_HZ)
    carol.play_tone(at_carol, CAROL_HZ)

    heard = dict(
        zip(
            ("alice", "bob", "carol"),
            record_together(
                [
                    (alice, to_bob, tmp_path / "alice.wav"),
                    (bob, at_bob, tmp_path / "bob.wav"),
                    (carol, at_carol, tmp_path / "carol.wav"),
                ],
                2.0,
            ),
            strict=True,
        )
    )
    own = {"alice": ALICE_HZ, "bob": BOB_HZ, "carol": CAROL_HZ}
    for party, path in heard.items():
        others = [hz for p, hz in own.items() if p != party]
        assert all(audio.has_tone(path, hz) for hz in others), (
            party,
            audio.dominant_frequencies(path),
        )
        assert not audio.has_tone(path, own[party]), (party, audio.dominant_frequencies(path))
