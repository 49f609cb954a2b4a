"""Registration survives what laptops go through: a network change, a suspend, a registrar
restart. Each time the project's Kamailio must answer a fresh REGISTER by itself and another
phone must reach this one afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from desktop.softphone.engine.types import EventKind, Transport
from tests.integration.sip.conftest import Pbx, make_pbx
from tests.integration.softphone.conftest import Phone, Seen, extension, far_end, me_account
from tests.sip.fixtures import AgentFactory

pytest.importorskip("pjsua2")

from desktop.softphone.engine.engine import Engine, EngineConfig

FIRST_RETRY = 1
RETRY = 3


@pytest.fixture
def pbx(tmp_path: Path) -> Iterator[Pbx]:
    yield from make_pbx(tmp_path)


@dataclass
class WallClock:
    """The wall clock as a suspended laptop sees it on waking: ahead of the monotonic one."""

    ahead: float = 0.0

    def __call__(self) -> float:
        return time.time() + self.ahead


@dataclass
class Setup:
    phone: Phone
    wall: WallClock

    def oks(self) -> int:
        """REGISTER answers with 200 so far: each one is a registration the registrar took."""
        return sum(
            1
            for e in self.phone.seen.of(EventKind.REGISTRATION)
            if e.registration is not None and e.registration.code == 200
        )


def start(pbx: Pbx, tmp_path: Path, transport: Transport = Transport.UDP) -> Iterator[Setup]:
    wall = WallClock()
    engine = Engine(
        EngineConfig(
            bind_address="127.0.0.1",
            audio="null",
            network_check=0.2,
            device_check=0,
            first_retry=FIRST_RETRY,
            retry=RETRY,
            log_level=3,
        ),
        wall_clock=wall,
    )
    seen = Seen()
    engine.add_listener(seen)
    engine.start()
    try:
        engine.register(replace(me_account(pbx), transport=transport))
        phone = Phone(engine, seen, tmp_path)
        phone.until(lambda: engine.registration.registered, what="registration")
        yield Setup(phone, wall)
    finally:
        engine.shutdown()


@pytest.fixture
def udp(pbx: Pbx, tmp_path: Path) -> Iterator[Setup]:
    yield from start(pbx, tmp_path)


@pytest.fixture
def tcp(pbx: Pbx, tmp_path: Path) -> Iterator[Setup]:
    yield from start(pbx, tmp_path, Transport.TCP)


def reachable(s: Setup, pbx: Pbx, agent_factory: AgentFactory) -> None:
    """Another phone calls this one through the registrar: it rings here."""
    bob = far_end(pbx, agent_factory, "bob", "operator")
    before = len(s.phone.seen.of(EventKind.INCOMING))
    call = bob.call(f"sip:{extension(pbx, 'user')}@{pbx.world.a.domain.name}")
    ring = s.phone.until(
        lambda: s.phone.seen.of(EventKind.INCOMING)[before:], what="the call from bob"
    )[0].line
    assert ring is not None
    s.phone.engine.answer(ring.id)
    s.phone.wait_agent(bob, "call_state", call=call, state="CONFIRMED")


def test_after_a_network_change_the_phone_registers_again(
    udp: Setup, pbx: Pbx, agent_factory: AgentFactory
) -> None:
    udp.phone.pump(1.0)
    before = udp.oks()
    udp.phone.engine.network_changed()
    udp.phone.until(lambda: udp.oks() > before, what="a fresh REGISTER answered")
    assert udp.phone.engine.registration.registered
    reachable(udp, pbx, agent_factory)


def test_after_a_suspend_the_phone_registers_again(
    udp: Setup, pbx: Pbx, agent_factory: AgentFactory
) -> None:
    # Awake and on the same network: the checks run (every 0.2 s) but nothing re-registers.
    udp.phone.pump(1.0)
    before = udp.oks()
    udp.phone.pump(1.0)
    assert udp.oks() == before
    # The laptop slept for an hour: the wall clock moved, the monotonic one did not.
    udp.wall.ahead += 3600
    udp.phone.until(lambda: udp.oks() > before, 5, "a fresh REGISTER after waking")
    assert udp.phone.engine.registration.registered
    reachable(udp, pbx, agent_factory)


def test_after_the_registrar_restarts_the_phone_registers_by_itself(
    tcp: Setup, pbx: Pbx, agent_factory: AgentFactory
) -> None:
    engine = tcp.phone.engine
    pbx.edge.stop()
    # The connection dropped: the phone knows it is not registered and keeps trying.
    tcp.phone.until(
        lambda: not engine.registration.registered and engine.registration.retrying,
        FIRST_RETRY + RETRY + 5,
        "the phone to notice the registrar is gone",
    )
    tcp.phone.pump(1.0)
    before = tcp.oks()
    pbx.edge.start()  # same port, empty location table (it is kept in memory)
    back = time.monotonic()
    tcp.phone.until(
        lambda: tcp.oks() > before and engine.registration.registered,
        RETRY + 3,
        "the phone to register again",
    )
    assert time.monotonic() - back <= RETRY + 2
    reachable(tcp, pbx, agent_factory)
