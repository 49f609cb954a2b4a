"""The softphone over TLS to the project's Kamailio, which made its own certificate.

The edge starts with a TLS listener and no configured certificate, so it generates a
self-signed one in its run directory; the phone verifies the edge with exactly that file. A
phone that trusts another CA must not register, and must say why.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from desktop.softphone.engine.types import (
    EventKind,
    LineState,
    Registration,
    SipAccount,
    Transport,
)
from tests.integration.sip.conftest import Pbx, free_port, make_pbx
from tests.integration.softphone.conftest import Phone, Seen, extension, far_end, me_account
from tests.sip.audio import has_tone, tone_wav
from tests.sip.fixtures import AgentFactory

pytest.importorskip("pjsua2")

from desktop.softphone.engine.engine import Engine, EngineConfig
from server_stub.sip.edge import self_signed


@pytest.fixture
def pbx(tmp_path: Path) -> Iterator[Pbx]:
    yield from make_pbx(tmp_path, tls_port=free_port())


def tls_engine(ca_file: Path | None) -> tuple[Engine, Seen]:
    engine = Engine(
        EngineConfig(
            bind_address="127.0.0.1",
            audio="null",
            network_check=0,
            device_check=0,
            first_retry=1,
            tls=True,
            tls_ca_file=str(ca_file or ""),
            log_level=3,
        )
    )
    seen = Seen()
    engine.add_listener(seen)
    engine.start()
    return engine, seen


def tls_account(pbx: Pbx) -> SipAccount:
    cfg = pbx.edge.cfg
    return replace(
        me_account(pbx),
        registrar=f"sip:{cfg.address}:{cfg.tls_port}",
        transport=Transport.TLS,
    )


def test_the_edge_made_a_certificate_and_the_phone_calls_over_verified_tls(
    pbx: Pbx, agent_factory: AgentFactory, tmp_path: Path
) -> None:
    ca = pbx.edge.cfg.tls_ca_file
    assert ca.is_file() and "BEGIN CERTIFICATE" in ca.read_text()
    engine, seen = tls_engine(ca)
    try:
        phone = Phone(engine, seen, tmp_path)
        engine.register(tls_account(pbx))
        phone.until(lambda: engine.registration.registered, what="registration over TLS")
        assert engine.registration.code == 200
        # The registrar holds a TLS contact: the PBX reaches this phone over the same channel.
        bob = far_end(pbx, agent_factory, "bob", "operator")
        since = bob.mark()
        line = engine.dial(extension(pbx, "operator"))
        call = phone.incoming(bob, since)
        phone.wait_line(line, LineState.TALKING)
        engine.play_file(tone_wav(tmp_path / "440.wav", 440, 1.0))
        bob.play_tone(call, 1300)
        phone.record_all([(bob, call, tmp_path / "bob.wav")], tmp_path / "me.wav", 2.5)
        assert has_tone(tmp_path / "bob.wav", 440)
        assert has_tone(tmp_path / "me.wav", 1300)
        engine.hangup(line)
        phone.wait_ended(line)

        # And the other way: bob calls the phone, whose only registration is the TLS one.
        me = extension(pbx, "user")
        bob.call(f"sip:{me}@{pbx.world.a.domain.name}")
        ring = phone.until(lambda: seen.of(EventKind.INCOMING), what="incoming over TLS")[0]
        assert ring.line is not None and ring.line.state is LineState.INCOMING
    finally:
        engine.shutdown()


@pytest.mark.parametrize("trust", ["another CA", "the system's CAs"])
def test_a_phone_trusting_another_ca_does_not_register_and_says_why(
    pbx: Pbx, tmp_path: Path, trust: str
) -> None:
    # Without a CA file the phone still verifies, against the system's CAs.
    other_ca = self_signed(tmp_path / "other-ca", "127.0.0.1")[0] if trust == "another CA" else None
    engine, seen = tls_engine(other_ca)
    try:
        phone = Phone(engine, seen, tmp_path)
        engine.register(tls_account(pbx))

        def failed() -> Registration | None:
            for e in seen.of(EventKind.REGISTRATION):
                reg = e.registration
                if reg is not None and reg.code >= 300:
                    return reg
            return None

        reg = phone.until(failed, 15, "the registration to fail")
        assert not reg.registered and reg.retrying
        assert "certificate" in reg.reason.lower(), reg
        phone.pump(1.5)
        assert not engine.registration.registered
    finally:
        engine.shutdown()
