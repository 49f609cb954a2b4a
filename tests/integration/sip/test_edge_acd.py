"""ACD queues through the real edge: callers wait with ringback, the server's dispatcher picks
the operator, Kamailio rings that operator's pjsua phone for the group's answer time.

Callers come in from the carrier (every request from 127.0.0.1 is the trunk here, so each
caller agent is a customer whose From number is its name); operators are registered phones
that set their status through the API, as the desktop workstation does.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from server_stub.store import provision
from server_stub.store.models import (
    CallGroup,
    Domain,
    GroupAlgorithm,
    GroupMember,
    Number,
    RoutingRule,
    RuleTarget,
    User,
    VipNumber,
)
from tests.factories import PASSWORD, auth, token_for_user
from tests.integration.sip.conftest import Pbx, make_pbx
from tests.integration.sip.test_edge_calls import DOMAIN
from tests.sip.agents import Agent, record_together
from tests.sip.audio import has_tone
from tests.sip.fixtures import AgentFactory

DID = "+74951112200"
ANSWER = 2  # seconds an operator's phone rings for one offer
POST_CALL = 3  # seconds of post-call work after each call


@pytest.fixture
def pbx(tmp_path: Path) -> Iterator[Pbx]:
    yield from make_pbx(tmp_path, trunk="127.0.0.1")


@dataclass
class Desk:
    """One operator: a registered phone and the workstation's API calls."""

    login: str
    user_id: int
    phone: Agent
    url: str

    def headers(self) -> dict[str, str]:
        with_id = User(id=self.user_id)
        return auth(token_for_user(with_id))

    def status(self, status: str) -> dict[str, Any]:
        r = httpx.put(
            self.url + "/api/operator/status",
            json={"status": status},
            headers=self.headers(),
            timeout=5,
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    def me(self) -> dict[str, Any]:
        r = httpx.get(self.url + "/api/operator/me", headers=self.headers(), timeout=5)
        assert r.status_code == 200, r.text
        return dict(r.json())

    def wait_state(self, state: str, timeout: float = 5.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        me = self.me()
        while me["state"] != state and time.monotonic() < deadline:
            time.sleep(0.1)
            me = self.me()
        assert me["state"] == state, me
        return me


def acd_group(
    pbx: Pbx,
    logins: list[str],
    algorithm: GroupAlgorithm = GroupAlgorithm.LONGEST_IDLE,
    vips: dict[str, int] | None = None,
) -> dict[str, int]:
    """An ACD group the company number leads to; its operators (created); {login: user id}."""
    with pbx.session() as s:
        domain = s.get(Domain, pbx.world.a.domain.id)
        assert domain is not None
        group = CallGroup(
            domain_id=domain.id,
            name="Поддержка",
            extension="700",
            algorithm=algorithm,
            answer_seconds=ANSWER,
            post_call_seconds=POST_CALL,
        )
        number = Number(domain_id=domain.id, e164=DID)
        s.add_all([group, number])
        s.flush()
        ids = {}
        for login in logins:
            user = provision.create_user(
                s, domain, login, PASSWORD, f"Оператор {login}", is_operator=True
            )
            s.add(GroupMember(group_id=group.id, user_id=user.id, priority=1))
            ids[login] = user.id
        s.add(
            RoutingRule(
                domain_id=domain.id,
                number_id=number.id,
                priority=1,
                target=RuleTarget.GROUP,
                target_ref=group.id,
            )
        )
        for e164, priority in (vips or {}).items():
            s.add(VipNumber(domain_id=domain.id, e164=e164, priority=priority))
        s.commit()
    return ids


def desks(pbx: Pbx, make: AgentFactory, ids: dict[str, int]) -> dict[str, Desk]:
    out = {}
    for login, uid in ids.items():
        phone = make(login)
        state = phone.register(pbx.registrar, login, DOMAIN, password=PASSWORD)
        assert state["code"] == 200, state
        out[login] = Desk(login, uid, phone, pbx.server.url)
    return out


def dial(pbx: Pbx, caller: Agent) -> int:
    return caller.call(f"sip:{DID}@127.0.0.1:{pbx.edge.cfg.port}", account="local")


def incoming_from(desk: Desk, timeout: float = 10.0) -> tuple[int, str]:
    """The next call ringing this operator's phone and the caller's number it shows."""
    ev = desk.phone.wait_event("incoming_call", timeout=timeout)
    return int(ev["call"]), str(ev["from"])


def test_a_queued_call_rings_the_ready_operator_and_both_hear_each_other(
    pbx: Pbx, agent_factory: AgentFactory, tmp_path: Path
) -> None:
    ids = acd_group(pbx, ["op1"])
    (desk,) = desks(pbx, agent_factory, ids).values()
    desk.status("ready")
    caller = agent_factory("+74950000001")
    call = dial(pbx, caller)
    caller.wait_event("call_state", call=call, state="EARLY", timeout=5)  # ringback
    incoming, shown = incoming_from(desk)
    assert "74950000001" in shown
    desk.phone.answer(incoming)
    caller.wait_media(call)
    desk.phone.wait_media(incoming)
    assert desk.wait_state("incoming_call")["call_id"]
    caller.play_tone(call, 440)
    (heard,) = record_together([(desk.phone, incoming, tmp_path / "op.wav")], 1.5)
    assert has_tone(heard, 440)
    caller.hangup(call)
    desk.phone.wait_state(incoming, "DISCONNECTED")
    me = desk.wait_state("post_call")
    assert me["post_call_remaining_seconds"] is not None
    cdr = pbx.wait_cdr(lambda c: c["ended_at"] is not None)
    assert cdr["result"] == "answered"
    assert cdr["answered_by"] == f"sip:op1@{DOMAIN}"
    assert cdr["group_id"] is not None


def test_no_operator_online_ends_the_call_with_a_clear_status(
    pbx: Pbx, agent_factory: AgentFactory
) -> None:
    acd_group(pbx, ["op1", "op2"])  # members, but nobody has come online
    caller = agent_factory("+74950000009")
    call = dial(pbx, caller)
    ended = caller.wait_state(call, "DISCONNECTED", timeout=5)
    assert ended["status"] == 480
    assert "no operator" in ended["reason"].lower() and "online" in ended["reason"]
    cdr = pbx.wait_cdr(lambda c: c["ended_at"] is not None)
    assert cdr["result"] == "missed"
    assert "online" in cdr["cause"]


def waiting(pbx: Pbx) -> int:
    r = httpx.get(
        pbx.server.url + "/api/stats/groups", headers=pbx.world.a.headers("supervisor"), timeout=5
    )
    assert r.status_code == 200, r.text
    return int(r.json()["items"][0]["waiting"])


def wait_waiting(pbx: Pbx, count: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while waiting(pbx) != count and time.monotonic() < deadline:
        time.sleep(0.1)
    assert waiting(pbx) == count


def test_a_vip_caller_is_answered_before_earlier_callers(
    pbx: Pbx, agent_factory: AgentFactory
) -> None:
    vip = "+74950000077"
    ids = acd_group(pbx, ["op1", "op2"], vips={vip: 1})
    ops = desks(pbx, agent_factory, ids)
    for desk in ops.values():
        desk.status("away")  # online, not taking calls yet: the callers wait
    callers = {n: agent_factory(n) for n in ("+74950000001", "+74950000002", vip)}
    calls = {}
    for number, agent in callers.items():
        calls[number] = dial(pbx, agent)
        agent.wait_event("call_state", call=calls[number], state="EARLY", timeout=5)
        time.sleep(0.2)  # a clear arrival order
    wait_waiting(pbx, 3)
    ops["op1"].status("ready")  # the first free operator
    incoming, shown = incoming_from(ops["op1"])
    assert vip in shown
    ops["op1"].phone.answer(incoming)
    callers[vip].wait_state(calls[vip], "CONFIRMED")
    ops["op2"].status("ready")
    incoming2, shown2 = incoming_from(ops["op2"])
    assert "+74950000001" in shown2  # then the earlier of the ordinary callers
    ops["op2"].phone.answer(incoming2)
    callers["+74950000001"].wait_state(calls["+74950000001"], "CONFIRMED")
    assert waiting(pbx) == 1
    assert not callers["+74950000002"].events("call_state", state="CONFIRMED")
    callers[vip].hangup(calls[vip])
    cdr = pbx.wait_cdr(lambda c: c["caller"] == vip and c["ended_at"] is not None)
    assert cdr["answered_by"] == f"sip:op1@{DOMAIN}" and cdr["result"] == "answered"


def test_an_unanswered_offer_returns_the_call_to_the_head_of_the_queue(
    pbx: Pbx, agent_factory: AgentFactory
) -> None:
    ids = acd_group(pbx, ["op1", "op2"])
    ops = desks(pbx, agent_factory, ids)
    ops["op2"].status("away")
    ops["op1"].status("ready")
    first, second = agent_factory("+74950000001"), agent_factory("+74950000002")
    start = time.monotonic()
    call1 = dial(pbx, first)
    offered, shown = incoming_from(ops["op1"])
    assert "+74950000001" in shown
    call2 = dial(pbx, second)
    # op1 lets it ring: after the answer time the phone stops and the call is queued again.
    ops["op1"].phone.wait_state(offered, "DISCONNECTED", timeout=ANSWER + 2)
    assert ANSWER - 0.5 <= time.monotonic() - start <= ANSWER + 1.5
    # Not offered to op1 again at once: op1 gets the later call, and lets it lapse as well.
    offered2, shown2 = incoming_from(ops["op1"])
    assert "+74950000002" in shown2
    ops["op1"].phone.wait_state(offered2, "DISCONNECTED", timeout=ANSWER + 2)
    assert ops["op1"].wait_state("idle")["status"] == "away"  # two lapses in a row: away
    ops["op2"].status("ready")
    incoming, shown3 = incoming_from(ops["op2"])
    assert "+74950000001" in shown3  # the call that lapsed first is at the head
    ops["op2"].phone.answer(incoming)
    first.wait_state(call1, "CONFIRMED")
    assert not second.events("call_state", call=call2, state="CONFIRMED")
    assert second.events("call_state", call=call2, state="EARLY")  # still hears ringback


def test_post_call_work_blocks_offers_for_the_configured_seconds(
    pbx: Pbx, agent_factory: AgentFactory
) -> None:
    ids = acd_group(pbx, ["op1"])
    desk = desks(pbx, agent_factory, ids)["op1"]
    desk.status("ready")
    a, b, c = (agent_factory(n) for n in ("+74950000001", "+74950000002", "+74950000003"))
    call_a = dial(pbx, a)
    incoming, _ = incoming_from(desk)
    desk.phone.answer(incoming)
    a.wait_state(call_a, "CONFIRMED")
    dial(pbx, b)
    wait_waiting(pbx, 1)
    desk.phone.hangup(incoming)
    hung_up = time.monotonic()
    offered, shown = incoming_from(desk, timeout=POST_CALL + 5)
    gap = time.monotonic() - hung_up
    assert "+74950000002" in shown
    # Not before the post-call work is over; the server's timer ticks once a second.
    assert POST_CALL - 0.3 <= gap <= POST_CALL + 1.6, gap
    desk.phone.answer(offered)
    desk.wait_state("incoming_call")
    dial(pbx, c)
    wait_waiting(pbx, 1)
    desk.phone.hangup(offered)
    desk.wait_state("post_call")
    # Finishing post-call work early frees the operator: the waiting call rings at once.
    r = httpx.post(
        pbx.server.url + "/api/operator/post-call/finish", headers=desk.headers(), timeout=5
    )
    assert r.status_code == 200, r.text
    finished = time.monotonic()
    _, shown = incoming_from(desk, timeout=3)
    assert "+74950000003" in shown
    assert time.monotonic() - finished < 1.0


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [(GroupAlgorithm.LONGEST_IDLE, "op2"), (GroupAlgorithm.LEAST_BUSY, "op1")],
)
def test_longest_idle_and_least_busy_pick_the_right_operator(
    pbx: Pbx, agent_factory: AgentFactory, algorithm: GroupAlgorithm, expected: str
) -> None:
    """op2 talks long and finishes first; op1 talks briefly and finishes later. The next
    call goes to op2 (idle longest) or to op1 (least talk time for its working time)."""
    ids = acd_group(pbx, ["op1", "op2"], algorithm)
    ops = desks(pbx, agent_factory, ids)
    ops["op2"].status("ready")
    time.sleep(0.3)
    ops["op1"].status("ready")
    callers = [agent_factory(f"+7495000000{n}") for n in (1, 2, 3)]
    call1 = dial(pbx, callers[0])
    long_call, _ = incoming_from(ops["op2"])  # both idle, op2 for longer (and equally busy)
    ops["op2"].phone.answer(long_call)
    callers[0].wait_state(call1, "CONFIRMED")
    time.sleep(2.5)
    call2 = dial(pbx, callers[1])
    short_call, _ = incoming_from(ops["op1"])
    ops["op1"].phone.answer(short_call)
    callers[1].wait_state(call2, "CONFIRMED")
    ops["op2"].phone.hangup(long_call)  # op2: about 3 s of talk, ends first
    time.sleep(0.5)
    ops["op1"].phone.hangup(short_call)  # op1: about 0.5 s of talk, ends later
    for desk in ops.values():
        desk.wait_state("idle", timeout=POST_CALL + 3)
    dial(pbx, callers[2])
    _, shown = incoming_from(ops[expected])
    assert "+74950000003" in shown
    other = "op1" if expected == "op2" else "op2"
    assert len(ops[other].phone.events("incoming_call")) == 1


def test_a_caller_who_gives_up_leaves_the_queue(pbx: Pbx, agent_factory: AgentFactory) -> None:
    ids = acd_group(pbx, ["op1"])
    desk = desks(pbx, agent_factory, ids)["op1"]
    desk.status("away")
    caller = agent_factory("+74950000001")
    call = dial(pbx, caller)
    wait_waiting(pbx, 1)
    caller.hangup(call)  # CANCEL while waiting
    assert caller.wait_state(call, "DISCONNECTED")["status"] == 487
    wait_waiting(pbx, 0)
    desk.status("ready")
    time.sleep(0.5)
    assert not desk.phone.events("incoming_call")
    cdr = pbx.wait_cdr(lambda c: c["ended_at"] is not None)
    assert cdr["result"] == "missed" and cdr["sip_code"] == 487
    # Giving up while an operator's phone rings: it stops, and it is no fault of the operator.
    call = dial(pbx, caller)
    offered, _ = incoming_from(desk)
    caller.hangup(call)
    assert caller.wait_state(call, "DISCONNECTED")["status"] == 487
    desk.phone.wait_state(offered, "DISCONNECTED", timeout=2)
    me = desk.wait_state("idle")
    assert me["status"] == "ready" and me["missed"] == 0
    second = pbx.wait_cdr(lambda c: c["call_id"] != cdr["call_id"] and c["ended_at"] is not None)
    assert second["result"] == "missed" and second["sip_code"] == 487


def test_declining_on_the_workstation_stops_the_phone_and_offers_the_next_operator(
    pbx: Pbx, agent_factory: AgentFactory
) -> None:
    ids = acd_group(pbx, ["op1", "op2"])
    ops = desks(pbx, agent_factory, ids)
    ops["op1"].status("ready")
    time.sleep(0.3)
    ops["op2"].status("ready")
    caller = agent_factory("+74950000001")
    call = dial(pbx, caller)
    offered, _ = incoming_from(ops["op1"])
    offer = ops["op1"].me()["offer"]
    r = httpx.post(
        f"{pbx.server.url}/api/operator/offers/{offer['id']}/reject",
        headers=ops["op1"].headers(),
        timeout=5,
    )
    assert r.status_code == 200, r.text
    declined = time.monotonic()
    ops["op1"].phone.wait_state(offered, "DISCONNECTED", timeout=2)
    assert time.monotonic() - declined < 1.0  # stopped by the decline, not the answer time
    incoming, _ = incoming_from(ops["op2"], timeout=3)
    ops["op2"].phone.answer(incoming)
    caller.wait_state(call, "CONFIRMED")
