"""Parent-side controller of a ``tests.sip.agent_main`` child: one SIP endpoint per process.

    with Agent("alice") as alice, Agent("bob") as bob:
        bob.auto_answer()
        call = alice.call(bob.uri())
        alice.wait_event("call_state", call=call, state="CONFIRMED")

Every method sends one command and blocks until its reply (raising :class:`AgentError` with the
child's message). Events are kept in arrival order; :meth:`Agent.wait_event` returns the first
not-yet-consumed event that matches, so an event that arrived before the wait is not lost.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Any

REPO_ROOT = Path(__file__).resolve().parents[2]

Event = dict[str, Any]
Predicate = Callable[[Event], bool]


class AgentError(Exception):
    """A command failed in the agent, or the agent did not answer in time."""


class Agent:
    """A running SIP agent child process; a context manager that always reaps the child."""

    def __init__(
        self,
        name: str,
        transport: str = "udp",
        port: int = 0,
        codecs: list[str] | None = None,
        workdir: Path | str | None = None,
        log_level: int = 3,
        start_timeout: float = 10.0,
    ) -> None:
        self.name = name
        self.transport = transport
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix=f"sipagent-{name}-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.workdir / f"{name}.log"
        self._log: IO[bytes] = self.log_path.open("wb")
        cmd = [
            sys.executable,
            "-m",
            "tests.sip.agent_main",
            "--name",
            name,
            "--port",
            str(port),
            "--transport",
            transport,
            "--workdir",
            str(self.workdir),
            "--log-level",
            str(log_level),
        ]
        if codecs:
            cmd += ["--codecs", ",".join(codecs)]
        self._proc = subprocess.Popen(
            cmd,
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            bufsize=1,
        )
        self._cond = threading.Condition()
        self._events: list[Event] = []
        self._consumed: set[int] = set()
        self._replies: dict[int, Event] = {}
        self._eof = False
        self._ids = itertools.count(1)
        self._send_lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, name=f"agent-{name}", daemon=True)
        self._reader.start()
        self.closed = False
        self.killed = False
        try:
            ready = self.wait_event("ready", timeout=start_timeout)
        except AgentError:
            self.close()
            raise
        self.port: int = int(ready["port"])
        self.host: str = str(ready["host"])
        self.pid: int = int(ready["pid"])

    # --- plumbing ----------------------------------------------------------------------------
    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            try:
                msg = json.loads(line)
            except json.JSONDecodeError:
                msg = {"event": "garbage", "line": line.rstrip("\n")}
            with self._cond:
                if "event" in msg:
                    self._events.append(msg)
                else:
                    self._replies[int(msg.get("id", 0))] = msg
                self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the child's pjsua log, for failure messages."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def command(self, cmd: str, timeout: float = 10.0, **params: Any) -> Event:
        """Send one command and wait for its reply; raises AgentError on failure."""
        req_id = next(self._ids)
        line = json.dumps({"id": req_id, "cmd": cmd, **params}) + "\n"
        with self._send_lock:
            if self._proc.stdin is None or self._proc.poll() is not None:
                raise AgentError(f"{self.name}: agent is not running ({cmd})")
            try:
                self._proc.stdin.write(line)
                self._proc.stdin.flush()
            except (BrokenPipeError, OSError) as exc:
                raise AgentError(f"{self.name}: agent is gone ({cmd}): {exc}") from exc
        deadline = time.monotonic() + timeout
        with self._cond:
            while req_id not in self._replies:
                left = deadline - time.monotonic()
                if self._eof or left <= 0:
                    why = "exited" if self._eof else f"no reply in {timeout} s"
                    raise AgentError(f"{self.name}: {cmd}: {why}\n{self.log_tail()}")
                self._cond.wait(left)
            reply = self._replies.pop(req_id)
        if not reply.get("ok"):
            raise AgentError(f"{self.name}: {cmd}: {reply.get('error')}")
        return reply

    def wait_event(
        self,
        kind: str,
        predicate: Predicate | None = None,
        timeout: float = 10.0,
        since: int = 0,
        **match: Any,
    ) -> Event:
        """Consume and return the first unconsumed event of ``kind`` matching all conditions.

        ``match`` compares fields for equality (``call=3, state="CONFIRMED"``); ``predicate``
        can express anything else; ``since`` (from :meth:`mark`) ignores earlier events, so a
        second "ACTIVE" after a re-INVITE is not confused with the first one.
        Raises AgentError after ``timeout`` seconds.
        """

        def fits(ev: Event) -> bool:
            if ev.get("event") != kind:
                return False
            if any(ev.get(k) != v for k, v in match.items()):
                return False
            return predicate is None or predicate(ev)

        deadline = time.monotonic() + timeout
        with self._cond:
            scanned = since
            while True:
                for i in range(scanned, len(self._events)):
                    if i not in self._consumed and fits(self._events[i]):
                        self._consumed.add(i)
                        return self._events[i]
                scanned = len(self._events)
                left = deadline - time.monotonic()
                if left <= 0 or (self._eof and scanned == len(self._events)):
                    seen = [e for e in self._events if e.get("event") == kind][-5:]
                    raise AgentError(
                        f"{self.name}: no {kind} event matching {match or ''} within {timeout} s;"
                        f" last {kind} events: {seen}\n{self.log_tail()}"
                    )
                self._cond.wait(left)

    def mark(self) -> int:
        """The number of events received so far, for ``wait_event(..., since=mark)``."""
        with self._cond:
            return len(self._events)

    def events(self, kind: str | None = None, **match: Any) -> list[Event]:
        """Every event received so far (consumed or not), optionally filtered."""
        with self._cond:
            return [
                e
                for e in self._events
                if (kind is None or e.get("event") == kind)
                and all(e.get(k) == v for k, v in match.items())
            ]

    def uri(self, user: str | None = None) -> str:
        """A direct SIP URI of this agent, e.g. ``sip:bob@127.0.0.1:40123``."""
        suffix = ";transport=tcp" if self.transport == "tcp" else ""
        return f"sip:{user or self.name}@{self.host}:{self.port}{suffix}"

    # --- lifecycle ---------------------------------------------------------------------------
    def close(self, timeout: float = 5.0) -> None:
        """Ask the agent to quit (it hangs up its calls), then kill it if it lingers."""
        if self.closed:
            return
        self.closed = True
        if self._proc.poll() is None:
            with contextlib.suppress(AgentError):
                self.command("quit", timeout=timeout)
            try:
                self._proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.killed = True
                self._proc.kill()
                self._proc.wait(timeout=timeout)
        for stream in (self._proc.stdin, self._proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self._reader.join(timeout=timeout)
        self._log.close()

    @property
    def returncode(self) -> int | None:
        return self._proc.poll()

    def __enter__(self) -> Agent:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- commands ----------------------------------------------------------------------------
    def ping(self) -> Event:
        return self.command("ping")

    def set_codecs(self, codecs: list[str]) -> list[str]:
        """Enable only codecs whose id starts with one of ``codecs``, in that priority."""
        return list(self.command("codecs", codecs=codecs)["codecs"])

    def register(
        self,
        registrar_uri: str,
        user: str,
        domain: str,
        password: str | None = None,
        ha1: str | None = None,
        transport: str | None = None,
        expires: int = 300,
        proxy: str | None = None,
        wait: bool = True,
        timeout: float = 10.0,
    ) -> Event:
        """Register; with ``wait`` returns the first ``reg_state`` event (check its ``code``)."""
        params: dict[str, Any] = {
            "registrar_uri": registrar_uri,
            "user": user,
            "domain": domain,
            "expires": expires,
        }
        for key, value in (
            ("password", password),
            ("ha1", ha1),
            ("transport", transport),
            ("proxy", proxy),
        ):
            if value is not None:
                params[key] = value
        reply = self.command("register", **params)
        if not wait:
            return reply
        return self.wait_event("reg_state", timeout=timeout)

    def unregister(self, wait: bool = True, timeout: float = 10.0) -> Event:
        reply = self.command("unregister")
        if not wait:
            return reply
        return self.wait_event("reg_state", timeout=timeout)

    def call(self, uri: str, headers: dict[str, str] | None = None, account: str = "auto") -> int:
        """Start a call; returns the agent's call id (never reused within one agent)."""
        return int(self.command("call", uri=uri, headers=headers or {}, account=account)["call"])

    def answer(self, call: int, code: int = 200) -> None:
        self.command("answer", call=call, code=code)

    def reject(self, call: int, code: int = 486) -> None:
        self.command("reject", call=call, code=code)

    def hangup(self, call: int) -> None:
        self.command("hangup", call=call)

    def hold(self, call: int) -> None:
        self.command("hold", call=call)

    def unhold(self, call: int) -> None:
        self.command("unhold", call=call)

    def dtmf(self, call: int, digits: str, method: str = "rfc2833") -> None:
        self.command("dtmf", call=call, digits=digits, method=method)

    def xfer(self, call: int, uri: str, hangup_on_success: bool = True) -> None:
        """Blind transfer (REFER); the agent hangs up ``call`` once the target answered."""
        self.command("xfer", call=call, uri=uri, hangup_on_success=hangup_on_success)

    def xfer_replaces(self, call: int, other_call: int, hangup_on_success: bool = True) -> None:
        """Attended transfer: REFER ``call``'s peer to ``other_call``'s peer (with Replaces)."""
        self.command(
            "xfer_replaces", call=call, other_call=other_call, hangup_on_success=hangup_on_success
        )

    def conference(self, calls: list[int]) -> list[int]:
        """Mix these calls locally; returns the whole conference group."""
        return list(self.command("conference", calls=calls)["group"])

    def play(self, call: int, wav_path: str | Path, loop: bool = True) -> None:
        self.command("play", call=call, wav_path=str(wav_path), loop=loop)

    def play_tone(self, call: int, hz: float, rate: int = 16000) -> None:
        self.command("play_tone", call=call, hz=hz, rate=rate)

    def stop_play(self, call: int) -> None:
        self.command("stop_play", call=call)

    def record(self, call: int, wav_path: str | Path) -> None:
        """Record what this agent RECEIVES on ``call`` (in a conference: from the whole group)."""
        self.command("record", call=call, wav_path=str(wav_path))

    def stop_record(self, call: int) -> str:
        """Close the recording (the WAV is complete when this returns); returns its path."""
        return str(self.command("stop_record", call=call)["path"])

    def auto_answer(self, code: int = 200, delay_ms: int = 0) -> None:
        """Answer every incoming call with ``code`` after ``delay_ms``; code 0 switches it off."""
        self.command("auto_answer", code=code, delay_ms=delay_ms)

    def calls(self) -> list[Event]:
        return list(self.command("calls")["calls"])

    # --- conveniences for tests --------------------------------------------------------------
    def wait_state(self, call: int, state: str, timeout: float = 10.0, since: int = 0) -> Event:
        return self.wait_event("call_state", timeout=timeout, since=since, call=call, state=state)

    def wait_media(
        self, call: int, status: str = "ACTIVE", timeout: float = 10.0, since: int = 0
    ) -> Event:
        return self.wait_event(
            "media_state", timeout=timeout, since=since, call=call, status=status
        )

    def wait_incoming(self, timeout: float = 10.0) -> int:
        return int(self.wait_event("incoming_call", timeout=timeout)["call"])


def connect(caller: Agent, callee: Agent, uri: str | None = None) -> tuple[int, int]:
    """Call ``callee`` directly (it auto-answers) and wait until audio flows both ways.

    Returns (caller's call id, callee's call id).
    """
    callee.auto_answer()
    since = callee.mark()
    call = caller.call(uri or callee.uri())
    incoming = int(callee.wait_event("incoming_call", since=since)["call"])
    caller.wait_state(call, "CONFIRMED")
    callee.wait_state(incoming, "CONFIRMED")
    caller.wait_media(call)
    callee.wait_media(incoming)
    return call, incoming


def record_together(legs: list[tuple[Agent, int, Path]], seconds: float) -> list[Path]:
    """Record every (agent, call, path) leg for the same ``seconds``; returns the paths.

    The one place tests sleep: audio needs wall-clock time to flow.
    """
    for agent, call, path in legs:
        agent.record(call, path)
    time.sleep(seconds)
    for agent, call, _ in legs:
        agent.stop_record(call)
    return [path for _, _, path in legs]
