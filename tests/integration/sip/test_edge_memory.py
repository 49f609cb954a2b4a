"""The edge keeps only what calls in progress need: an ended call leaves its call table
(Kamailio's shared memory held every call of the last hours and ran out near 300 calls a
second), and its spool journals go once sent."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.sip.conftest import Pbx, make_pbx, unsent_events
from tests.integration.sip.test_edge_calls import DOMAIN, registered
from tests.sip.fixtures import AgentFactory


@pytest.fixture
def pbx(tmp_path: Path) -> Iterator[Pbx]:
    yield from make_pbx(tmp_path, forget_after_seconds=1, journal_seconds=1)


def table_keys(pbx: Pbx) -> list[str]:
    """The names in the edge's "calls" table, read over Kamailio's control socket."""
    kamcmd = shutil.which("kamcmd")
    assert kamcmd, "kamcmd comes with the kamailio package"
    socket = pbx.edge.cfg.run_dir.resolve() / "kamailio_ctl"
    out = subprocess.run(
        [kamcmd, "-s", f"unix:{socket}", "htable.dump", "calls"],
        capture_output=True,
        text=True,
        timeout=10,
    ).stdout
    return re.findall(r"^\s*name:\s*(\S+)\s*$", out, flags=re.MULTILINE)


def test_an_ended_calls_keys_leave_the_table(pbx: Pbx, agent_factory: AgentFactory) -> None:
    alice = registered(pbx, agent_factory, "alice", "user")
    bob = registered(pbx, agent_factory, "bob", "operator")
    call = alice.call(f"sip:{pbx.world.a.operator.extension}@{DOMAIN}")
    incoming = bob.wait_incoming()
    bob.answer(incoming)
    alice.wait_state(call, "CONFIRMED")
    cdr = pbx.wait_cdr(lambda c: c["answered_at"] is not None)
    call_id = cdr["call_id"]
    during = [k for k in table_keys(pbx) if k.startswith(call_id + "|")]
    assert f"{call_id}|plan" in during and f"{call_id}|ftag" in during  # a call in progress
    alice.hangup(call)
    bob.wait_state(incoming, "DISCONNECTED")
    pbx.wait_cdr(lambda c: c["ended_at"] is not None)
    # Forgotten 1 s after the end; Kamailio removes expired items every 5 s.
    deadline = time.monotonic() + 15
    left = during
    while time.monotonic() < deadline:
        left = [k for k in table_keys(pbx) if k.startswith(call_id + "|")]
        if not any(k.count("|") == 1 for k in left):
            break
        time.sleep(0.5)
    # Only a branch's small keys (its label, "ringing seen") wait for the table's own expiry.
    assert [k for k in left if k.count("|") == 1] == []
    assert all(k.split("|")[1] in ("br", "ring", "nonbusy") for k in left), left


def test_sent_journals_leave_the_spool(pbx: Pbx, agent_factory: AgentFactory) -> None:
    """A new journal every second here (every minute by default): a call's events span
    several, all arrive, and each journal is deleted two periods after its own."""
    alice = registered(pbx, agent_factory, "alice", "user")
    bob = registered(pbx, agent_factory, "bob", "operator")
    call = alice.call(f"sip:{pbx.world.a.operator.extension}@{DOMAIN}")
    incoming = bob.wait_incoming()
    time.sleep(1.2)  # ringing and answer in different journals
    bob.answer(incoming)
    alice.wait_state(call, "CONFIRMED")
    time.sleep(1.2)
    spool = pbx.edge.cfg.run_dir / "spool"
    assert list(spool.glob("*.jsonl")), "the events went through journals"
    bob.hangup(incoming)
    alice.wait_state(call, "DISCONNECTED")
    cdr = pbx.wait_cdr(lambda c: c["ended_at"] is not None)
    assert (cdr["result"], cdr["cause"]) == ("answered", "callee hung up")
    assert cdr["duration_seconds"] >= 1
    deadline = time.monotonic() + 10
    while list(spool.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert unsent_events(spool) == 0
    assert sorted(p.name for p in spool.iterdir()) == []  # journals and their offsets
