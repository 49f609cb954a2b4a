"""The softphone engine over the real edge: registration with HA1, audio both ways, hold, DTMF.

The engine plays a tone file instead of a microphone and records what it hears; the far end
is a pjsua2 agent process registered as another user of the same domain.
"""

from __future__ import annotations

from pathlib import Path

from desktop.softphone.engine.types import Direction, EventKind, LineState
from tests.integration.sip.conftest import Pbx
from tests.integration.softphone.conftest import Phone, extension, far_end
from tests.sip.audio import has_tone, tone_wav
from tests.sip.fixtures import AgentFactory


def connect(phone: Phone, pbx: Pbx, bob_agent: object, role: str = "operator") -> tuple[int, int]:
    from tests.sip.agents import Agent

    assert isinstance(bob_agent, Agent)
    since = bob_agent.mark()
    line = phone.engine.dial(extension(pbx, role))
    call = phone.incoming(bob_agent, since)
    phone.wait_line(line, LineState.TALKING)
    return line, call


def test_registered_with_the_servers_ha1_a_call_carries_tones_both_ways(
    phone: Phone, pbx: Pbx, agent_factory: AgentFactory, tmp_path: Path
) -> None:
    reg = phone.engine.registration
    assert reg.registered and reg.code == 200
    assert phone.engine.codecs()[:3] == ["G722/16000/1", "PCMA/8000/1", "PCMU/8000/1"]
    bob = far_end(pbx, agent_factory, "bob", "operator")
    line, call = connect(phone, pbx, bob)
    info = phone.line(line)
    assert info is not None and info.direction is Direction.OUT
    assert info.number == extension(pbx, "operator")
    phone.engine.play_file(tone_wav(tmp_path / "440.wav", 440, 1.0))
    bob.play_tone(call, 1300)
    phone.record_all([(bob, call, tmp_path / "bob.wav")], tmp_path / "me.wav", 2.5)
    assert has_tone(tmp_path / "bob.wav", 440) and not has_tone(tmp_path / "bob.wav", 1300)
    assert has_tone(tmp_path / "me.wav", 1300) and not has_tone(tmp_path / "me.wav", 440)
    q = phone.engine.quality(line)
    assert q.codec.startswith("G722") and q.bars >= 4, q
    phone.engine.hangup(line)
    ended = phone.wait_ended(line)
    assert ended.answered and ended.connected_at is not None
    phone.wait_agent(bob, "call_state", call=call, state="DISCONNECTED")


def test_hold_silences_and_resume_brings_audio_back_both_ways(
    phone: Phone, pbx: Pbx, agent_factory: AgentFactory, tmp_path: Path
) -> None:
    bob = far_end(pbx, agent_factory, "bob", "operator")
    line, call = connect(phone, pbx, bob)
    phone.engine.play_file(tone_wav(tmp_path / "440.wav", 440, 1.0))
    bob.play_tone(call, 1300)
    since = bob.mark()
    phone.engine.hold(line)
    phone.wait_agent(bob, "media_state", since=since, call=call, status="REMOTE_HOLD")
    phone.until(lambda: (ln := phone.line(line)) is not None and ln.on_hold)
    phone.record_all([(bob, call, tmp_path / "held.wav")], tmp_path / "me-held.wav", 1.5)
    assert not has_tone(tmp_path / "held.wav", 440)
    assert not has_tone(tmp_path / "me-held.wav", 1300)
    since = bob.mark()
    phone.engine.resume(line)
    phone.wait_agent(bob, "media_state", since=since, call=call, status="ACTIVE")
    phone.until(lambda: (ln := phone.line(line)) is not None and not ln.on_hold)
    phone.record_all([(bob, call, tmp_path / "back.wav")], tmp_path / "me-back.wav", 2.5)
    assert has_tone(tmp_path / "back.wav", 440)
    assert has_tone(tmp_path / "me-back.wav", 1300)


def test_dtmf_digits_arrive_in_order_and_incoming_digits_are_reported(
    phone: Phone, pbx: Pbx, agent_factory: AgentFactory
) -> None:
    bob = far_end(pbx, agent_factory, "bob", "operator")
    line, call = connect(phone, pbx, bob)
    since = bob.mark()
    phone.engine.send_dtmf(line, "19*#0")
    phone.until(lambda: len([e for e in bob.events("dtmf")]) >= 5, what="5 digits at bob")
    digits = "".join(e["digit"] for e in bob.events("dtmf")[:5])
    assert digits == "19*#0"
    assert {e["method"] for e in bob.events("dtmf")} == {"rfc2833"}
    del since
    bob.dtmf(call, "42")
    phone.until(lambda: len(phone.seen.of(EventKind.DTMF)) >= 2, what="digits from bob")
    assert [e.data["digit"] for e in phone.seen.of(EventKind.DTMF)] == ["4", "2"]


def test_an_incoming_call_rings_and_is_answered_or_rejected(
    phone: Phone, pbx: Pbx, agent_factory: AgentFactory
) -> None:
    bob = far_end(pbx, agent_factory, "bob", "operator")
    me = extension(pbx, "user")
    call = bob.call(f"sip:{me}@{DOMAIN_OF(pbx)}")
    ring = phone.until(lambda: phone.seen.of(EventKind.INCOMING), what="ringing")[0].line
    assert ring.state is LineState.INCOMING and ring.direction is Direction.IN
    # The edge asserts who calls: the extension, not the SIP login of the From.
    assert ring.number == extension(pbx, "operator")
    phone.wait_agent(bob, "call_state", call=call, state="EARLY")
    phone.engine.reject(ring.id)
    phone.wait_agent(bob, "call_state", call=call, state="DISCONNECTED")
    assert phone.wait_ended(ring.id).answered is False

    call = bob.call(f"sip:{me}@{DOMAIN_OF(pbx)}")
    ring = phone.until(lambda: phone.seen.of(EventKind.INCOMING)[1:], what="ringing")[0].line
    phone.engine.answer(ring.id)
    phone.wait_agent(bob, "call_state", call=call, state="CONFIRMED")
    phone.wait_line(ring.id, LineState.TALKING)


def DOMAIN_OF(pbx: Pbx) -> str:
    return str(pbx.world.a.domain.name)
