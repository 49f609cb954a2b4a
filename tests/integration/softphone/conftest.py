"""The softphone engine in this process against the project's Kamailio and server.

The engine is polled by the test itself (it is single-threaded by design), so every wait here
goes through :func:`until`, which keeps ``engine.poll`` running while it waits for the far
ends (``tests.sip`` agents in their own processes).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from desktop.softphone.engine.types import Event, EventKind, LineInfo, LineState, SipAccount
from tests.factories import PASSWORD
from tests.integration.sip.conftest import Pbx, make_pbx
from tests.sip.agents import Agent
from tests.sip.fixtures import AgentFactory, agent_factory  # noqa: F401

pytest.importorskip("pjsua2")

from desktop.softphone.engine.engine import Engine
from tests.integration.softphone.engine_child import engine_config

DOMAIN = "alpha.test"


@pytest.fixture
def pbx(tmp_path: Path) -> Iterator[Pbx]:
    yield from make_pbx(tmp_path)


@dataclass
class Seen:
    """Every event the engine sent, in order."""

    events: list[Event] = field(default_factory=list)

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: EventKind) -> list[Event]:
        return [e for e in self.events if e.kind is kind]


@dataclass
class Phone:
    engine: Engine
    seen: Seen
    tmp: Path

    def until(self, check: Callable[[], Any], timeout: float = 10.0, what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.engine.poll(10)
            result = check()
            if result:
                return result
        raise AssertionError(
            f"timed out after {timeout} s waiting for {what or check}; lines: "
            f"{self.engine.lines()}; last events: {self.seen.events[-8:]}"
        )

    def pump(self, seconds: float) -> None:
        """Let audio flow for a while (RTP is received inside poll)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.engine.poll(10)

    def line(self, line_id: int) -> LineInfo | None:
        return next((ln for ln in self.engine.lines() if ln.id == line_id), None)

    def wait_line(self, line_id: int, state: LineState, timeout: float = 10.0) -> LineInfo:
        return self.until(  # type: ignore[no-any-return]
            lambda: (ln := self.line(line_id)) is not None and ln.state is state and ln,
            timeout,
            f"line {line_id} {state}",
        )

    def wait_ended(self, line_id: int, timeout: float = 10.0) -> LineInfo:
        def ended() -> LineInfo | None:
            for e in self.seen.of(EventKind.ENDED):
                if e.line is not None and e.line.id == line_id:
                    return e.line
            return None

        return self.until(ended, timeout, f"line {line_id} to end")  # type: ignore[no-any-return]

    def wait_agent(
        self, agent: Agent, kind: str, since: int = 0, timeout: float = 10.0, **match: Any
    ) -> dict[str, Any]:
        """Poll the engine until the agent reports a matching event after ``since``."""

        def fits() -> bool:
            return any(
                e.get("event") == kind and all(e.get(k) == v for k, v in match.items())
                for e in agent.events()[since:]
            )

        self.until(fits, timeout, f"{agent.name}: {kind} {match}")
        return agent.wait_event(kind, since=since, timeout=1.0, **match)

    def incoming(self, agent: Agent, since: int, answer: bool = True) -> int:
        """The agent's call id of the call that just reached it (answered unless told)."""
        call = int(self.wait_agent(agent, "incoming_call", since=since)["call"])
        if answer:
            agent.answer(call)
            self.wait_agent(agent, "media_state", since=since, call=call, status="ACTIVE")
        return call

    def record_all(self, legs: list[tuple[Agent, int, Path]], mine: Path, seconds: float) -> None:
        """Record on every agent leg and in the engine for the same ``seconds``."""
        for agent, call, path in legs:
            agent.record(call, path)
        self.engine.record_to(mine)
        self.pump(seconds)
        self.engine.record_to(None)
        for agent, call, _ in legs:
            agent.stop_record(call)


def me_account(pbx: Pbx, role: str = "user") -> SipAccount:
    """The SIP identity exactly as the desktop gets it: GET /api/auth/me."""
    resp = httpx.get(pbx.server.url + "/api/auth/me", headers=pbx.world.a.headers(role), timeout=5)
    resp.raise_for_status()
    sip = resp.json()["sip"]
    # The server's configured registrar is the production port; the test edge has its own.
    return SipAccount(
        login=sip["sip_login"], domain=sip["sip_domain"], ha1=sip["ha1"], registrar=pbx.registrar
    )


@contextmanager
def registered_phone(pbx: Pbx, tmp_path: Path, role: str = "user") -> Iterator[Phone]:
    """An engine in this process, registered as ``role`` of domain A; shut down afterwards."""
    engine = Engine(engine_config())
    seen = Seen()
    engine.add_listener(seen)
    engine.start()
    try:
        engine.register(me_account(pbx, role))
        p = Phone(engine, seen, tmp_path)
        p.until(lambda: engine.registration.registered, what="registration")
        yield p
    finally:
        engine.shutdown()


@pytest.fixture
def phone(pbx: Pbx, tmp_path: Path) -> Iterator[Phone]:
    with registered_phone(pbx, tmp_path) as p:
        yield p


def far_end(pbx: Pbx, make: AgentFactory, name: str, role: str) -> Agent:
    agent = make(name)
    state = agent.register(pbx.registrar, role, DOMAIN, password=PASSWORD)
    assert state["code"] == 200, state
    return agent


def extension(pbx: Pbx, role: str) -> str:
    return str(getattr(pbx.world.a, role).extension)
