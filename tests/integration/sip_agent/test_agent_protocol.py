"""The agent's command protocol: errors, registration, auto-answer and process cleanup."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.sip.agents import Agent, AgentError, connect
from tests.sip.fake_registrar import FakeRegistrar, sip_ha1
from tests.sip.fixtures import AgentFactory


def test_a_bad_command_raises_with_the_agents_reason(agent_factory: AgentFactory) -> None:
    alice = agent_factory("alice")
    with pytest.raises(AgentError, match="no call 99"):
        alice.hangup(99)
    with pytest.raises(AgentError, match="unknown command 'fly'"):
        alice.command("fly")
    with pytest.raises(AgentError, match="exactly one of password or ha1"):
        alice.register("sip:127.0.0.1:5060", "alice", "pult.test")
    with pytest.raises(AgentError, match="bad arguments"):
        alice.command("hangup", call=1, colour="red")
    assert alice.ping()["port"] == alice.port  # still alive after the errors


def test_playing_a_missing_file_is_refused(agent_factory: AgentFactory) -> None:
    alice = agent_factory("alice")
    bob = agent_factory("bob")
    call, _ = connect(alice, bob)
    with pytest.raises(AgentError, match="no such file"):
        alice.play(call, "/nonexistent.wav")


def test_close_ends_the_process_even_with_a_call_up(agent_factory: AgentFactory) -> None:
    alice = agent_factory("alice")
    bob = agent_factory("bob")
    _, incoming = connect(alice, bob)
    alice.close()
    assert alice.returncode == 0
    bob.wait_state(incoming, "DISCONNECTED")  # quitting hangs up properly (BYE)
    assert "Assertion" not in alice.log_tail()
    with pytest.raises(AgentError, match="not running"):
        alice.ping()


def test_a_child_that_ignores_quit_is_killed(tmp_path: Path) -> None:
    agent = Agent("stuck", workdir=tmp_path)
    try:
        os.kill(agent.pid, signal.SIGSTOP)  # frozen: it cannot answer "quit"
        agent.close(timeout=0.5)
        assert agent.killed
        assert agent.returncode == -signal.SIGKILL
    finally:
        agent.close()


def test_auto_answer_rings_first_then_answers_after_the_delay(
    agent_factory: AgentFactory,
) -> None:
    alice = agent_factory("alice")
    bob = agent_factory("bob")
    bob.auto_answer(200, delay_ms=300)
    call = alice.call(bob.uri())
    alice.wait_state(call, "CONFIRMED")
    states = [e["state"] for e in alice.events("call_state", call=call)]
    assert states.index("EARLY") < states.index("CONFIRMED")


def test_auto_answer_with_an_error_code_rejects(agent_factory: AgentFactory) -> None:
    alice = agent_factory("alice")
    bob = agent_factory("bob")
    bob.auto_answer(603)
    call = alice.call(bob.uri())
    assert alice.wait_state(call, "DISCONNECTED")["status"] == 603


@pytest.mark.parametrize("secret", ["password", "ha1"])
def test_register_with_password_or_ha1_then_unregister(
    agent_factory: AgentFactory, secret: str
) -> None:
    alice = agent_factory("alice")
    with FakeRegistrar({"alice": "s3cret"}) as registrar:
        if secret == "password":
            state = alice.register(
                registrar.uri, "alice", "pult.test", password="s3cret", expires=120
            )
        else:
            ha1 = sip_ha1("alice", registrar.realm, "s3cret")
            state = alice.register(registrar.uri, "alice", "pult.test", ha1=ha1, expires=120)
        assert state["code"] == 200
        assert state["expires"] > 0
        binding = registrar.bindings["alice"]
        assert f"127.0.0.1:{alice.port}" in binding.contact
        assert binding.expires == 120

        gone = alice.unregister()
        assert gone["code"] == 200
        assert gone["expires"] == 0
        assert "alice" not in registrar.bindings


def test_register_with_a_wrong_password_reports_403(agent_factory: AgentFactory) -> None:
    alice = agent_factory("alice")
    with FakeRegistrar({"alice": "s3cret"}) as registrar:
        state = alice.register(registrar.uri, "alice", "pult.test", password="wrong")
        assert state["code"] == 403
        assert registrar.bindings == {}
