"""Ring plans executed by the real edge: refusals, groups, timing, CDRs and server restarts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from server_stub.store.models import (
    CallGroup,
    GroupAlgorithm,
    GroupMember,
    OutgoingRestriction,
    User,
)
from server_stub.store.models_calls import Cdr
from tests.factories import PASSWORD
from tests.integration.sip.conftest import Pbx, make_pbx, unsent_events
from tests.integration.sip.test_edge_calls import DOMAIN, registered
from tests.sip.agents import Agent
from tests.sip.fixtures import AgentFactory


def make_group(
    pbx: Pbx, algorithm: GroupAlgorithm, members: list[str], step: int, total: int
) -> str:
    with pbx.session() as s:
        users = {u.login: u for u in s.query(User).filter(User.domain_id == pbx.world.a.domain.id)}
        group = CallGroup(
            domain_id=pbx.world.a.domain.id,
            name=f"Group {algorithm.value}",
            extension="500",
            algorithm=algorithm,
            step_seconds=step,
            total_wait_seconds=total,
        )
        s.add(group)
        s.flush()
        for priority, login in enumerate(members, start=1):
            s.add(GroupMember(group_id=group.id, user_id=users[login].id, priority=priority))
        s.commit()
    return "500"


def phones(pbx: Pbx, make: AgentFactory, *logins: str) -> dict[str, Agent]:
    return {login: registered(pbx, make, login, login) for login in logins}


def test_operator_restricted_to_internal_calls_gets_403_with_reason_and_a_cdr(
    pbx: Pbx, agent_factory: AgentFactory
) -> None:
    with pbx.session() as s:
        op = s.get(User, pbx.world.a.operator.id)
        assert op is not None
        op.outgoing_restriction = OutgoingRestriction.INTERNAL_ONLY
        s.commit()
    operator = registered(pbx, agent_factory, "op", "operator")
    call = operator.call(f"sip:+442079460000@{DOMAIN}")
    ended = operator.wait_state(call, "DISCONNECTED")
    assert ended["status"] == 403
    assert "outgoing restriction" in ended["reason"]
    cdr = pbx.wait_cdr(lambda c: c["called"] == "+442079460000")
    assert cdr["result"] == "refused"
    assert cdr["sip_code"] == 403
    assert "outgoing restriction" in cdr["cause"]
    assert any("refused (403)" in line for line in cdr["trace"])


def test_ring_all_group_rings_everyone_first_answer_talks_others_stop(
    pbx: Pbx, agent_factory: AgentFactory
) -> None:
    members = phones(pbx, agent_factory, "user", "operator", "supervisor")
    caller = registered(pbx, agent_factory, "caller", "admin")
    ext = make_group(pbx, GroupAlgorithm.RING_ALL, list(members), step=5, total=20)
    call = caller.call(f"sip:{ext}@{DOMAIN}")
    incoming = {login: agent.wait_incoming() for login, agent in members.items()}
    members["operator"].answer(incoming["operator"])
    caller.wait_state(call, "CONFIRMED")
    for login in ("user", "supervisor"):
        ended = members[login].wait_state(incoming[login], "DISCONNECTED", timeout=5)
        assert ended["status"] != 200
    caller.hangup(call)
    members["operator"].wait_state(incoming["operator"], "DISCONNECTED")
    cdr = pbx.wait_cdr(lambda c: c["called"] == ext and c["ended_at"] is not None)
    assert cdr["result"] == "answered"
    assert cdr["answered_by"] == f"sip:operator@{DOMAIN}"
    assert cdr["group_id"] is not None


def _arrival(agent: Agent, start: float, timeout: float = 15.0) -> tuple[int, float]:
    call = agent.wait_incoming(timeout=timeout)
    return call, time.monotonic() - start


def test_one_after_another_keeps_its_timing(pbx: Pbx, agent_factory: AgentFactory) -> None:
    members = phones(pbx, agent_factory, "user", "operator")
    caller = registered(pbx, agent_factory, "caller", "admin")
    ext = make_group(pbx, GroupAlgorithm.SERIAL, ["user", "operator"], step=3, total=6)
    start = time.monotonic()
    call = caller.call(f"sip:{ext}@{DOMAIN}")
    first, t1 = _arrival(members["user"], start)
    _second, t2 = _arrival(members["operator"], start)
    members["user"].wait_state(first, "DISCONNECTED", timeout=2)  # stopped when the next rang
    ended = caller.wait_state(call, "DISCONNECTED", timeout=10)
    t_end = time.monotonic() - start
    assert t1 < 1.0
    assert abs(t2 - 3) <= 1.0, t2
    assert abs(t_end - 6) <= 1.0, t_end
    assert ended["status"] == 480
    cdr = pbx.wait_cdr(lambda c: c["called"] == ext and c["ended_at"] is not None)
    assert cdr["result"] == "missed"


def test_add_the_next_keeps_its_timing_and_everyone_stops_at_the_total(
    pbx: Pbx, agent_factory: AgentFactory
) -> None:
    members = phones(pbx, agent_factory, "user", "operator", "supervisor")
    caller = registered(pbx, agent_factory, "caller", "admin")
    ext = make_group(pbx, GroupAlgorithm.ADD_NEXT, list(members), step=3, total=8)
    start = time.monotonic()
    call = caller.call(f"sip:{ext}@{DOMAIN}")
    arrivals = {login: _arrival(agent, start) for login, agent in members.items()}
    assert arrivals["user"][1] < 1.0
    assert abs(arrivals["operator"][1] - 3) <= 1.0, arrivals
    assert abs(arrivals["supervisor"][1] - 6) <= 1.0, arrivals
    # The first member still rings while the others join.
    assert not members["user"].events("call_state", call=arrivals["user"][0], state="DISCONNECTED")
    ended = caller.wait_state(call, "DISCONNECTED", timeout=10)
    assert abs(time.monotonic() - start - 8) <= 1.0
    assert ended["status"] == 480


def test_busy_and_unanswered_calls_have_cdrs_too(pbx: Pbx, agent_factory: AgentFactory) -> None:
    callee = registered(pbx, agent_factory, "callee", "operator")
    caller = registered(pbx, agent_factory, "caller", "user")
    op_ext = pbx.world.a.operator.extension
    call = caller.call(f"sip:{op_ext}@{DOMAIN}")
    callee.reject(callee.wait_incoming(), 486)
    assert caller.wait_state(call, "DISCONNECTED")["status"] == 486
    call = caller.call(f"sip:{op_ext}@{DOMAIN}")
    callee.wait_incoming()
    time.sleep(0.5)
    caller.hangup(call)  # CANCEL while it rings
    caller.wait_state(call, "DISCONNECTED")
    call = caller.call(f"sip:{pbx.world.a.supervisor.extension}@{DOMAIN}")  # not registered
    assert caller.wait_state(call, "DISCONNECTED")["status"] == 480
    pbx.wait_cdr(lambda c: c["result"] == "busy" and c["sip_code"] == 486)
    pbx.wait_cdr(lambda c: c["result"] == "missed" and c["sip_code"] == 487)
    pbx.wait_cdr(
        lambda c: c["called"] == pbx.world.a.supervisor.extension and c["result"] == "missed"
    )
    with pbx.session() as s:
        assert s.query(Cdr).count() == 3  # one per call, none twice


def test_a_server_restart_in_the_middle_of_a_call_loses_nothing(
    pbx: Pbx, agent_factory: AgentFactory
) -> None:
    alice = registered(pbx, agent_factory, "alice", "user")
    bob = registered(pbx, agent_factory, "bob", "operator")
    call = alice.call(f"sip:{pbx.world.a.operator.extension}@{DOMAIN}")
    incoming = bob.wait_incoming()
    bob.answer(incoming)
    alice.wait_state(call, "CONFIRMED")
    time.sleep(0.5)
    pbx.server.stop()
    time.sleep(1.5)
    bob.hangup(incoming)  # the BYE crosses the edge while the server is down
    alice.wait_state(call, "DISCONNECTED")
    spool = pbx.edge.cfg.run_dir / "spool"
    time.sleep(0.5)
    assert unsent_events(spool) >= 1, "the end event waits in the spool"
    pbx.server.start()
    cdr = pbx.wait_cdr(lambda c: c["ended_at"] is not None, timeout=15)
    assert cdr["result"] == "answered"
    assert cdr["cause"] == "callee hung up"
    assert cdr["duration_seconds"] >= 2  # the end time is the hang-up, not the replay
    deadline = time.monotonic() + 5
    while unsent_events(spool) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert unsent_events(spool) == 0


BAN_SECONDS = 5


@pytest.fixture
def strict_pbx(tmp_path: Path) -> Iterator[Pbx]:
    yield from make_pbx(tmp_path, ban_after=3, ban_seconds=BAN_SECONDS)


def test_repeated_wrong_passwords_ban_the_address_for_a_while(
    strict_pbx: Pbx, agent_factory: AgentFactory
) -> None:
    pbx = strict_pbx
    agents = [agent_factory(name) for name in ("bad0", "bad1", "bad2", "good", "again")]
    for bad in agents[:3]:
        state = bad.register(pbx.registrar, "user", DOMAIN, password="nope")
        assert state["code"] in (401, 403)
    banned_at = time.monotonic()
    state = agents[3].register(pbx.registrar, "user", DOMAIN, password=PASSWORD)
    assert state["code"] == 403  # banned: even the right password is refused
    assert "too many failed attempts" in state["reason"]
    time.sleep(max(0.0, banned_at + BAN_SECONDS + 1.5 - time.monotonic()))
    assert agents[4].register(pbx.registrar, "user", DOMAIN, password=PASSWORD)["code"] == 200
