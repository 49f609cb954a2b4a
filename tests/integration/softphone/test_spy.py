"""Supervisor listen-in / whisper / barge-in, proven by tones through real Kamailio and pjsua2.

The customer (a SIP agent) plays 440 Hz and calls the operator; the operator is the softphone
engine in this process, its "microphone" plays 880 Hz and its "speaker" is recorded; the
supervisor is a second engine in its own process (pjsua2 allows one endpoint per process),
playing 1300 Hz and recording what it hears. The supervisor starts the session through the
API and dials the ``target`` it got; mode changes are PATCHed to the API and then sent by the
supervisor's phone inside the call.

Who hears which tone: the customer hears the operator only (plus the supervisor in barge);
the operator hears the customer (plus the supervisor in whisper and barge); the supervisor
hears the customer and the operator in every mode.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from desktop.softphone.engine.types import EventKind, LineState
from tests.integration.sip.conftest import REPO, Pbx
from tests.integration.softphone.conftest import (
    DOMAIN,
    Phone,
    far_end,
    me_account,
    registered_phone,
)
from tests.sip.agents import Agent
from tests.sip.audio import has_tone, tone_wav
from tests.sip.fixtures import AgentFactory

CUSTOMER_HZ, OPERATOR_HZ, SUPERVISOR_HZ = 440, 880, 1300
ALL = {CUSTOMER_HZ, OPERATOR_HZ, SUPERVISOR_HZ}


class Supervisor:
    """The supervisor's softphone engine in a child process (``engine_child``)."""

    def __init__(self, workdir: Path) -> None:
        self.log = (workdir / "supervisor.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.softphone.engine_child"],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            bufsize=1,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in: IO[str] = self.proc.stdin
        self._out: IO[str] = self.proc.stdout

    def __call__(self, cmd: str, **params: Any) -> Any:
        self._in.write(json.dumps({"cmd": cmd, **params}) + "\n")
        self._in.flush()
        line = self._out.readline()
        assert line, f"the supervisor's engine died on {cmd}"
        reply = json.loads(line)
        assert reply["ok"], f"supervisor {cmd}: {reply.get('error')}"
        return reply.get("result")

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self("quit")
                self.proc.wait(10)
            except (AssertionError, OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


@pytest.fixture
def operator(pbx: Pbx, tmp_path: Path) -> Iterator[Phone]:
    with registered_phone(pbx, tmp_path, "operator") as p:
        yield p


@pytest.fixture
def supervisor(pbx: Pbx, tmp_path: Path) -> Iterator[Supervisor]:
    sup = Supervisor(tmp_path)
    try:
        account = me_account(pbx, "supervisor")
        sup("register", account={**account.__dict__, "transport": account.transport.value})
        deadline = time.monotonic() + 10
        while not sup("registered"):
            assert time.monotonic() < deadline, "the supervisor's phone did not register"
            time.sleep(0.05)
        yield sup
    finally:
        sup.close()


def api(pbx: Pbx, method: str, path: str, role: str = "supervisor", **kw: Any) -> httpx.Response:
    return httpx.request(
        method, pbx.server.url + path, headers=pbx.world.a.headers(role), timeout=5, **kw
    )


def customer_calls_operator(pbx: Pbx, op: Phone, customer: Agent) -> tuple[int, int]:
    """The customer's call is answered by the operator: (operator's line, customer's call)."""
    call = customer.call(f"sip:{pbx.world.a.operator.extension}@{DOMAIN}")
    line = op.until(
        lambda: next((ln.id for ln in op.engine.lines() if ln.state is LineState.INCOMING), None),
        what="the customer's call ringing",
    )
    op.engine.answer(line)
    op.wait_line(line, LineState.TALKING)
    op.wait_agent(customer, "media_state", call=call, status="ACTIVE")
    return int(line), call


def start_session(pbx: Pbx, op: Phone, mode: str) -> dict[str, Any]:
    """POST /api/acd/spy once the server knows the operator is talking (the edge reports the
    answer a moment later)."""
    body = {"operator_id": pbx.world.a.operator.id, "mode": mode}
    resp = op.until(
        lambda: (r := api(pbx, "POST", "/api/acd/spy", json=body)).status_code != 409 and r,
        what="the server to see the operator talking",
    )
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


def spy_events(op: Phone) -> list[dict[str, Any]]:
    return [e.data for e in op.seen.of(EventKind.SPY)]


def spy_answers(sup: Supervisor, since: int) -> list[dict[str, Any]]:
    """The supervisor phone's answers to its mode changes, after event ``since``."""
    return [e for e in sup("events", since=since) if e["kind"] == "spy"]


def answer_to(op: Phone, sup: Supervisor, since: int) -> list[dict[str, Any]]:
    return op.until(lambda: spy_answers(sup, since), what="the answer to a mode change")  # type: ignore[no-any-return]


def wait_mode(op: Phone, mode: str) -> None:
    op.until(lambda: spy_events(op) and spy_events(op)[-1]["mode"] == mode, what=f"mode {mode}")


def record(
    op: Phone, sup: Supervisor, customer: Agent, call: int, tmp: Path, tag: str
) -> dict[str, Path]:
    paths = {who: tmp / f"{tag}-{who}.wav" for who in ("customer", "operator", "supervisor")}
    customer.record(call, paths["customer"])
    sup("record_to", path=str(paths["supervisor"]))
    op.engine.record_to(paths["operator"])
    op.pump(3.0)
    op.engine.record_to(None)
    sup("record_to", path=None)
    customer.stop_record(call)
    return paths


def heard(path: Path) -> set[int]:
    return {hz for hz in ALL if has_tone(path, hz)}


EXPECTED = {
    "listen": {
        "customer": {OPERATOR_HZ},
        "operator": {CUSTOMER_HZ},
        "supervisor": {CUSTOMER_HZ, OPERATOR_HZ},
    },
    "whisper": {
        "customer": {OPERATOR_HZ},
        "operator": {CUSTOMER_HZ, SUPERVISOR_HZ},
        "supervisor": {CUSTOMER_HZ, OPERATOR_HZ},
    },
    "barge": {
        "customer": {OPERATOR_HZ, SUPERVISOR_HZ},
        "operator": {CUSTOMER_HZ, SUPERVISOR_HZ},
        "supervisor": {CUSTOMER_HZ, OPERATOR_HZ},
    },
}


def assert_matrix(paths: dict[str, Path], mode: str) -> None:
    got = {who: heard(path) for who, path in paths.items()}
    assert got == EXPECTED[mode], f"{mode}: heard {got}, expected {EXPECTED[mode]}"


def test_listen_whisper_barge_tone_matrix_in_one_session(
    pbx: Pbx,
    operator: Phone,
    supervisor: Supervisor,
    agent_factory: AgentFactory,
    tmp_path: Path,
) -> None:
    customer = far_end(pbx, agent_factory, "customer", "user")
    line, call = customer_calls_operator(pbx, operator, customer)
    customer.play_tone(call, CUSTOMER_HZ)
    operator.engine.play_file(tone_wav(tmp_path / "op-mic.wav", OPERATOR_HZ, 1.0))
    supervisor("play_file", path=str(tone_wav(tmp_path / "sup-mic.wav", SUPERVISOR_HZ, 1.0)))

    session = start_session(pbx, operator, "listen")
    assert set(session) >= {"id", "operator_id", "mode", "target"}
    sup_line = supervisor("dial", target=session["target"])
    wait_mode(operator, "listen")
    operator.until(
        lambda: any(
            ln["id"] == sup_line and ln["state"] == "talking" for ln in supervisor("lines")
        ),
        what="the supervisor's call to connect",
    )
    # The supervisor is not a line on the operator's phone: nothing rang, one call is shown.
    assert [ln.id for ln in operator.engine.lines()] == [line]
    assert operator.seen.of(EventKind.INCOMING)[-1].line.id == line  # type: ignore[union-attr]
    operator.pump(0.5)
    assert_matrix(record(operator, supervisor, customer, call, tmp_path, "listen"), "listen")

    for mode in ("whisper", "barge", "listen"):
        resp = api(pbx, "PATCH", f"/api/acd/spy/{session['id']}", json={"mode": mode})
        assert resp.status_code == 200, resp.text
        since = len(supervisor("events"))
        supervisor("set_spy_mode", line=sup_line, mode=mode)
        wait_mode(operator, mode)
        answer = answer_to(operator, supervisor, since)
        assert answer[-1]["data"]["accepted"] is True, answer
        operator.pump(0.5)
        assert_matrix(record(operator, supervisor, customer, call, tmp_path, mode), mode)

    # A mode the server did not set (no PATCH) is refused by the edge; nothing changes.
    since = len(supervisor("events"))
    supervisor("set_spy_mode", line=sup_line, mode="barge")
    answer = answer_to(operator, supervisor, since)
    assert answer[-1]["data"]["status"] == 403, answer
    operator.pump(0.5)
    assert spy_events(operator)[-1]["mode"] == "listen"
    assert_matrix(record(operator, supervisor, customer, call, tmp_path, "forged"), "listen")

    # Ending: the API closes the session, the supervisor hangs up, the operator is told.
    assert api(pbx, "DELETE", f"/api/acd/spy/{session['id']}").status_code == 204
    supervisor("hangup", line=sup_line)
    wait_mode(operator, "")
    assert [ln.id for ln in operator.engine.lines()] == [line]
    audit = api(
        pbx, "GET", "/api/audit", role="admin", params={"object_type": "spy_session", "limit": 50}
    )
    assert audit.status_code == 200, audit.text
    actions = [row["action"] for row in audit.json()["items"]]
    assert sorted(actions) == sorted(["start", "change_mode", "change_mode", "change_mode", "end"])


def test_a_spy_header_a_client_sends_itself_is_stripped(
    pbx: Pbx, operator: Phone, agent_factory: AgentFactory
) -> None:
    """Only the server may make the operator's phone answer silently: a forged header from a
    caller arrives as nothing, and the call rings like any other."""
    intruder = far_end(pbx, agent_factory, "intruder", "user")
    intruder.call(
        f"sip:{pbx.world.a.operator.extension}@{DOMAIN}",
        headers={"X-Pult-Spy": "barge;session=1"},
    )
    incoming = operator.until(lambda: operator.seen.of(EventKind.INCOMING), what="the call to ring")
    assert incoming[-1].line is not None and incoming[-1].line.state is LineState.INCOMING
    assert spy_events(operator) == []
    operator.pump(1.0)
    assert [ln.state for ln in operator.engine.lines()] == [LineState.INCOMING]


def test_a_spy_token_opens_one_call_for_its_own_supervisor_only(
    pbx: Pbx, operator: Phone, agent_factory: AgentFactory
) -> None:
    customer = far_end(pbx, agent_factory, "customer", "user")
    customer_calls_operator(pbx, operator, customer)
    session = start_session(pbx, operator, "listen")
    # Another person of the domain (the admin) dialling the supervisor's target is refused.
    admin = far_end(pbx, agent_factory, "admin", "admin")
    since = admin.mark()
    call = admin.call(f"sip:{session['target']}")
    ended = admin.wait_event("call_state", since=since, call=call, state="DISCONNECTED")
    assert ended["status"] == 403, ended
    assert spy_events(operator) == []
