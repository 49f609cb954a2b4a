"""One pjsua2 SIP endpoint driven by JSON lines: the child process behind ``tests.sip.agents``.

    python -m tests.sip.agent_main --name alice --port 0 --transport udp

Protocol (stdout carries nothing else): first an event ``{"event": "ready", "port": N, ...}``;
then one reply per command read from stdin (``{"id": n, "cmd": "call", ...}`` gives
``{"id": n, "ok": true, ...}`` or ``{"id": n, "ok": false, "error": "..."}``), interleaved with
asynchronous events (``{"event": "call_state", ...}``). pjlib writes its log to file
descriptor 1 from ``libCreate`` on, before any configuration applies, so the protocol runs on a
private duplicate of stdout and descriptor 1 is pointed at stderr.

pjsua2 rules followed here (ARCHITECTURE.md): one thread (``threadCnt=0``,
``mainThreadOnly=True``, ``libHandleEvents`` polled by the main loop), Python references to
every Call/player/recorder, media rewired on every media-state change, and shutdown in the
order hang up -> drop references -> ``libDestroy``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import queue
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pjsua2 as pj

from tests.sip import audio

Json = dict[str, Any]

CALL_STATES = {
    pj.PJSIP_INV_STATE_NULL: "NULL",
    pj.PJSIP_INV_STATE_CALLING: "CALLING",
    pj.PJSIP_INV_STATE_INCOMING: "INCOMING",
    pj.PJSIP_INV_STATE_EARLY: "EARLY",
    pj.PJSIP_INV_STATE_CONNECTING: "CONNECTING",
    pj.PJSIP_INV_STATE_CONFIRMED: "CONFIRMED",
    pj.PJSIP_INV_STATE_DISCONNECTED: "DISCONNECTED",
}
MEDIA_STATES = {
    pj.PJSUA_CALL_MEDIA_NONE: "NONE",
    pj.PJSUA_CALL_MEDIA_ACTIVE: "ACTIVE",
    pj.PJSUA_CALL_MEDIA_LOCAL_HOLD: "LOCAL_HOLD",
    pj.PJSUA_CALL_MEDIA_REMOTE_HOLD: "REMOTE_HOLD",
    pj.PJSUA_CALL_MEDIA_ERROR: "ERROR",
}
#: Media states in which the call has a conference-bridge port worth wiring.
WIRED_MEDIA = {
    pj.PJSUA_CALL_MEDIA_ACTIVE,
    pj.PJSUA_CALL_MEDIA_LOCAL_HOLD,
    pj.PJSUA_CALL_MEDIA_REMOTE_HOLD,
}
DTMF_METHODS = {"rfc2833": pj.PJSUA_DTMF_METHOD_RFC2833, "info": pj.PJSUA_DTMF_METHOD_SIP_INFO}
MAX_CALLS = 4  # the PyPI wheel is built with PJSUA_MAX_CALLS = 4
#: pjsua prefers Speex, which mangles pure tones (a 1300 Hz tone comes out with strong 100 and
#: 1100 Hz products); telephone systems negotiate these anyway.
DEFAULT_CODECS = "G722,PCMA,PCMU"


class CommandError(Exception):
    """A command that cannot be carried out; its text goes back as ``error``."""


def pj_error_text(exc: BaseException) -> str:
    if isinstance(exc, pj.Error):
        return f"{exc.title}: {exc.reason} (status {exc.status})"
    return f"{type(exc).__name__}: {exc}"


def parse_headers(whole_msg: str) -> dict[str, list[str]]:
    """Header name (lower case) -> values, from a raw SIP message; the body is ignored."""
    head = whole_msg.replace("\r\n", "\n").split("\n\n", 1)[0]
    headers: dict[str, list[str]] = {}
    for line in head.split("\n")[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers.setdefault(name.strip().lower(), []).append(value.strip())
    return headers


class Emitter:
    """Writes protocol lines; callbacks and commands both run on the main thread."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out
        self._lock = threading.Lock()

    def send(self, obj: Json) -> None:
        line = json.dumps(obj, separators=(",", ":"))
        with self._lock:
            self._out.write(line + "\n")
            self._out.flush()

    def event(self, kind: str, **fields: Any) -> None:
        self.send({"event": kind, **fields})


class AgentCall(pj.Call):
    """A call with its agent-level id (pjsua reuses call ids 0..3, tests must not)."""

    def __init__(self, agent: Agent, acc: pj.Account, aid: int, call_id: int) -> None:
        super().__init__(acc, call_id)
        self.agent = agent
        self.aid = aid
        self.acc = acc
        self.player: pj.AudioMediaPlayer | None = None
        self.recorder: pj.AudioMediaRecorder | None = None
        self.recorder_path = ""
        self.group: set[int] = {aid}
        self.media_status = pj.PJSUA_CALL_MEDIA_NONE
        self.media_index = -1
        self.state = pj.PJSIP_INV_STATE_NULL
        self.hangup_on_transfer = False
        self.replacement: AgentCall | None = None
        self.ended = False

    # pjsua2 callbacks: they run inside libHandleEvents on the main thread. Exceptions must not
    # escape into the SWIG director (they would be printed and swallowed, or abort the process).
    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        self.agent.guard(self._on_state)

    def _on_state(self) -> None:
        ci = self.getInfo()
        self.state = ci.state
        self.agent.emit.event(
            "call_state",
            call=self.aid,
            state=CALL_STATES.get(ci.state, str(ci.state)),
            status=ci.lastStatusCode,
            reason=ci.lastReason,
            remote=ci.remoteUri,
        )
        if ci.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.ended = True
            # Deleting a Call inside its own callback crashes pjsua2: defer to the main loop.
            self.agent.later(0.0, lambda: self.agent.forget_call(self.aid))

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:
        self.agent.guard(self._on_media)

    def _on_media(self) -> None:
        ci = self.getInfo()
        status, index = pj.PJSUA_CALL_MEDIA_NONE, -1
        for mi in ci.media:
            if mi.type == pj.PJMEDIA_TYPE_AUDIO:
                status, index = mi.status, mi.index
                break
        self.media_status, self.media_index = status, index
        codec = ""
        if status != pj.PJSUA_CALL_MEDIA_NONE and index >= 0:
            with contextlib.suppress(pj.Error):
                si = self.getStreamInfo(index)
                codec = f"{si.codecName}/{si.codecClockRate}"
        self.agent.emit.event(
            "media_state",
            call=self.aid,
            status=MEDIA_STATES.get(status, str(status)),
            codec=codec,
        )
        self.agent.rewire()

    def onDtmfDigit(self, prm: pj.OnDtmfDigitParam) -> None:
        method = "info" if prm.method == pj.PJSUA_DTMF_METHOD_SIP_INFO else "rfc2833"
        self.agent.emit.event("dtmf", call=self.aid, digit=prm.digit, method=method)

    def onCallTransferRequest(self, prm: pj.OnCallTransferRequestParam) -> None:
        def accept() -> None:
            # Without prm.newCall pjsua2 reuses THIS object for the new call and switches its
            # id back and forth between the two calls.
            new = self.agent.new_call(self.acc, pj.PJSUA_INVALID_ID)
            prm.newCall = new
            self.agent.emit.event(
                "transfer_request", call=self.aid, to=prm.dstUri, new_call=new.aid
            )

        self.agent.guard(accept)

    def onCallTransferStatus(self, prm: pj.OnCallTransferStatusParam) -> None:
        self.agent.emit.event(
            "transfer_status",
            call=self.aid,
            status=prm.statusCode,
            reason=prm.reason,
            final=bool(prm.finalNotify),
        )
        if prm.finalNotify and 200 <= prm.statusCode < 300 and self.hangup_on_transfer:
            # A phone leaves the call once the transfer target answered.
            self.agent.later(0.0, lambda: self.agent.hangup_quietly(self.aid))

    def onCallReplaceRequest(self, prm: pj.OnCallReplaceRequestParam) -> None:
        def accept() -> None:
            new = self.agent.new_call(self.acc, pj.PJSUA_INVALID_ID)
            prm.newCall = new
            self.replacement = new
            self.agent.emit.event("replace_request", call=self.aid, new_call=new.aid)

        self.agent.guard(accept)

    def onCallReplaced(self, prm: pj.OnCallReplacedParam) -> None:
        def note() -> None:
            # prm.newCall comes back as a fresh SWIG proxy, not our object: keep our own link.
            new = self.replacement
            if new is None:
                new = self.agent.new_call(self.acc, prm.newCallId)
                prm.newCall = new
            self.replacement = None
            self.agent.emit.event("call_replaced", call=self.aid, new_call=new.aid)

        self.agent.guard(note)

    def audio_media(self) -> pj.AudioMedia | None:
        if self.ended or self.media_status not in WIRED_MEDIA or self.media_index < 0:
            return None
        try:
            return self.getAudioMedia(self.media_index)
        except pj.Error:
            return None


class LocalAccount(pj.Account):
    def __init__(self, agent: Agent) -> None:
        super().__init__()
        self.agent = agent

    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:
        self.agent.guard(lambda: self.agent.on_incoming(self, prm))

    def onRegState(self, prm: pj.OnRegStateParam) -> None:
        self.agent.emit.event(
            "reg_state",
            code=prm.code,
            reason=prm.reason,
            expires=prm.expiration,
            status=prm.status,
        )


class Agent:
    def __init__(self, args: argparse.Namespace, emit: Emitter) -> None:
        self.args = args
        self.emit = emit
        self.workdir = Path(args.workdir or tempfile.mkdtemp(prefix=f"sipagent-{args.name}-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.ep = pj.Endpoint()
        self.calls: dict[int, AgentCall] = {}
        self.next_aid = 1
        self.transport_id = -1
        self.port = 0
        self.local_acc: LocalAccount | None = None
        self.reg_acc: LocalAccount | None = None
        self.ever_registered = False
        self.auto_answer_code = 0
        self.auto_answer_delay = 0.0
        self.timers: list[tuple[float, Callable[[], None]]] = []
        self.commands: queue.Queue[str | None] = queue.Queue()
        self.quitting = False

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        self.ep.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = True
        cfg.uaConfig.maxCalls = MAX_CALLS
        cfg.uaConfig.userAgent = f"pult-test-agent/{self.args.name}"
        cfg.logConfig.level = self.args.log_level
        cfg.logConfig.consoleLevel = self.args.log_level
        cfg.medConfig.clockRate = 16000
        cfg.medConfig.noVad = True  # VAD would replace a quiet tone with comfort noise
        self.ep.libInit(cfg)

        tcfg = pj.TransportConfig()
        tcfg.port = self.args.port
        tcfg.boundAddress = self.args.host
        tcfg.publicAddress = self.args.host
        kind = pj.PJSIP_TRANSPORT_TCP if self.args.transport == "tcp" else pj.PJSIP_TRANSPORT_UDP
        self.transport_id = self.ep.transportCreate(kind, tcfg)
        local_name: str = self.ep.transportGetInfo(self.transport_id).localName
        self.port = int(local_name.rsplit(":", 1)[1])
        self.ep.libStart()
        # No sound card in CI: the null device still clocks the conference bridge.
        self.ep.audDevManager().setNullDev()
        if self.args.codecs and self.args.codecs != "all":
            self.set_codecs([c for c in self.args.codecs.split(",") if c])

        self.local_acc = LocalAccount(self)
        self.local_acc.create(self.account_config(f"sip:{self.args.name}@{self.host_port()}"))
        self.emit.event(
            "ready",
            name=self.args.name,
            port=self.port,
            transport=self.args.transport,
            host=self.args.host,
            pid=os.getpid(),
            workdir=str(self.workdir),
        )

    def host_port(self) -> str:
        suffix = ";transport=tcp" if self.args.transport == "tcp" else ""
        return f"{self.args.host}:{self.port}{suffix}"

    def account_config(self, id_uri: str) -> pj.AccountConfig:
        acfg = pj.AccountConfig()
        acfg.idUri = id_uri
        acfg.sipConfig.transportId = self.transport_id
        tp = acfg.mediaConfig.transportConfig
        tp.boundAddress = self.args.host  # RTP on loopback, and the SDP says so
        tp.port = 0
        return acfg

    def run(self) -> None:
        reader = threading.Thread(target=self._read_stdin, name="stdin", daemon=True)
        reader.start()
        while not self.quitting:
            self.ep.libHandleEvents(10)
            self._drain_commands()
            self._run_timers()
        self.shutdown()

    def _read_stdin(self) -> None:
        # Never touches pjsua: pjlib refuses calls from threads it does not know.
        for line in sys.stdin:
            self.commands.put(line)
        self.commands.put(None)

    def _drain_commands(self) -> None:
        while not self.quitting:
            try:
                line = self.commands.get_nowait()
            except queue.Empty:
                return
            if line is None:  # parent went away: behave as "quit"
                self.quitting = True
                return
            if line.strip():
                self.handle_line(line)

    def _run_timers(self) -> None:
        now = time.monotonic()
        due = [t for t in self.timers if t[0] <= now]
        if not due:
            return
        self.timers = [t for t in self.timers if t[0] > now]
        for _, fn in due:
            self.guard(fn)

    def later(self, delay: float, fn: Callable[[], None]) -> None:
        self.timers.append((time.monotonic() + delay, fn))

    def guard(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as exc:
            self.emit.event("error", error=pj_error_text(exc))

    def shutdown(self) -> None:
        with contextlib.suppress(pj.Error):
            self.ep.hangupAllCalls()
        deadline = time.monotonic() + 2.0
        while any(not c.ended for c in self.calls.values()) and time.monotonic() < deadline:
            self.ep.libHandleEvents(10)
        for aid in list(self.calls):
            self.forget_call(aid)
        # No local variable may still hold a Call here: a pjsua2 Call destroyed after
        # libDestroy aborts the process (assertion in pjsua_call_set_user_data).
        for acc in (self.reg_acc, self.local_acc):
            if acc is not None:
                with contextlib.suppress(pj.Error):
                    acc.shutdown()
        self.reg_acc = self.local_acc = None
        self.timers.clear()
        gc.collect()  # every SWIG object must be gone before libDestroy
        # libDestroy sleeps a fixed second for unregistrations unless told there is no network;
        # calls are already over, so only a registered agent needs that grace.
        self.ep.libDestroy(0 if self.ever_registered else pj.PJSUA_DESTROY_NO_NETWORK)

    # --- commands ----------------------------------------------------------------------------
    def handle_line(self, line: str) -> None:
        req_id: Any = None
        try:
            req = json.loads(line)
            if not isinstance(req, dict):
                raise CommandError("a command is a JSON object")
            req_id = req.pop("id", None)
            name = str(req.pop("cmd", ""))
            handler = getattr(self, f"cmd_{name}", None)
            if handler is None:
                raise CommandError(f"unknown command {name!r}")
            result = handler(**req)
            reply: Json = {"ok": True, **(result or {})}
        except TypeError as exc:
            reply = {"ok": False, "error": f"bad arguments: {exc}"}
        except (CommandError, pj.Error, ValueError, OSError) as exc:
            text = str(exc) if isinstance(exc, CommandError) else pj_error_text(exc)
            reply = {"ok": False, "error": text}
        if req_id is not None:
            reply["id"] = req_id
        self.emit.send(reply)

    def call(self, aid: int) -> AgentCall:
        found = self.calls.get(int(aid))
        if found is None:
            raise CommandError(f"no call {aid}")
        return found

    def live_call(self, aid: int) -> AgentCall:
        found = self.call(aid)
        if found.ended:
            raise CommandError(f"call {aid} has ended")
        return found

    def cmd_ping(self) -> Json:
        return {"port": self.port}

    def cmd_quit(self) -> Json:
        self.quitting = True
        return {}

    def cmd_calls(self) -> Json:
        return {
            "calls": [
                {
                    "call": c.aid,
                    "state": CALL_STATES.get(c.state, str(c.state)),
                    "media": MEDIA_STATES.get(c.media_status, str(c.media_status)),
                }
                for c in self.calls.values()
            ]
        }

    def cmd_codecs(self, codecs: list[str]) -> Json:
        return {"codecs": self.set_codecs(codecs)}

    def set_codecs(self, wanted: list[str]) -> list[str]:
        """Enable only codecs whose id starts with one of ``wanted`` (e.g. "PCMU", "G722")."""
        chosen: list[str] = []
        for info in self.ep.codecEnum2():
            rank = next(
                (i for i, w in enumerate(wanted) if info.codecId.lower().startswith(w.lower())),
                None,
            )
            self.ep.codecSetPriority(info.codecId, 0 if rank is None else 250 - rank)
            if rank is not None:
                chosen.append(info.codecId)
        if not chosen:
            raise CommandError(f"no codec matches {wanted}")
        return chosen

    def cmd_register(
        self,
        registrar_uri: str,
        user: str,
        domain: str,
        password: str | None = None,
        ha1: str | None = None,
        transport: str | None = None,
        expires: int = 300,
        proxy: str | None = None,
    ) -> Json:
        if (password is None) == (ha1 is None):
            raise CommandError("register needs exactly one of password or ha1")
        if transport and transport != self.args.transport:
            raise CommandError(f"this agent only has a {self.args.transport} transport")
        if self.reg_acc is not None:
            self.drop_registration()
        if self.args.transport == "tcp" and "transport=" not in registrar_uri:
            registrar_uri += ";transport=tcp"
        acfg = self.account_config(f"sip:{user}@{domain}")
        acfg.regConfig.registrarUri = registrar_uri
        acfg.regConfig.timeoutSec = int(expires)
        acfg.regConfig.retryIntervalSec = 0  # a failed registration is a test result
        # Calls of the registered user go through the registrar, as a real phone's do.
        acfg.sipConfig.proxies.append(proxy or f"{registrar_uri};lr")
        if ha1 is not None:
            cred = pj.AuthCredInfo("digest", "*", user, pj.PJSIP_CRED_DATA_DIGEST, ha1)
        else:
            cred = pj.AuthCredInfo("digest", "*", user, pj.PJSIP_CRED_DATA_PLAIN_PASSWD, password)
        acfg.sipConfig.authCreds.append(cred)
        acc = LocalAccount(self)
        acc.create(acfg)
        self.reg_acc = acc
        self.ever_registered = True
        return {"uri": acfg.idUri}

    def cmd_unregister(self) -> Json:
        if self.reg_acc is None:
            raise CommandError("not registered")
        self.reg_acc.setRegistration(False)
        return {}

    def drop_registration(self) -> None:
        if self.reg_acc is not None:
            with contextlib.suppress(pj.Error):
                self.reg_acc.shutdown()
            self.reg_acc = None

    def cmd_call(
        self, uri: str, headers: dict[str, str] | None = None, account: str = "auto"
    ) -> Json:
        acc = self.local_acc if account == "local" or self.reg_acc is None else self.reg_acc
        assert acc is not None
        if sum(1 for c in self.calls.values() if not c.ended) >= MAX_CALLS:
            raise CommandError(f"at most {MAX_CALLS} calls per agent")
        prm = pj.CallOpParam(True)
        for name, value in (headers or {}).items():
            hdr = pj.SipHeader()
            hdr.hName, hdr.hValue = name, value
            prm.txOption.headers.append(hdr)
        new = self.new_call(acc, pj.PJSUA_INVALID_ID)
        try:
            new.makeCall(uri, prm)
        except pj.Error:
            self.calls.pop(new.aid, None)
            raise
        return {"call": new.aid}

    def new_call(self, acc: pj.Account, call_id: int) -> AgentCall:
        new = AgentCall(self, acc, self.next_aid, call_id)
        self.calls[new.aid] = new
        self.next_aid += 1
        return new

    def on_incoming(self, acc: LocalAccount, prm: pj.OnIncomingCallParam) -> None:
        new = self.new_call(acc, prm.callId)
        ci = new.getInfo()
        self.emit.event(
            "incoming_call",
            call=new.aid,
            to=ci.localUri,
            headers=parse_headers(prm.rdata.wholeMsg),
            **{"from": ci.remoteUri},
        )
        ring = pj.CallOpParam()
        ring.statusCode = 180
        new.answer(ring)
        if self.auto_answer_code:
            code = self.auto_answer_code
            self.later(self.auto_answer_delay, lambda: self.answer_if_ringing(new.aid, code))

    def answer_if_ringing(self, aid: int, code: int) -> None:
        c = self.calls.get(aid)
        if c is not None and not c.ended and c.state != pj.PJSIP_INV_STATE_CONFIRMED:
            self.cmd_answer(aid, code)

    def cmd_auto_answer(self, code: int = 200, delay_ms: int = 0) -> Json:
        self.auto_answer_code = int(code)
        self.auto_answer_delay = max(0, int(delay_ms)) / 1000.0
        return {}

    def cmd_answer(self, call: int, code: int = 200) -> Json:
        prm = pj.CallOpParam()
        prm.statusCode = int(code)
        c = self.live_call(call)
        if code >= 300:
            c.hangup(prm)  # a final error answer to an incoming call is a hangup in pjsua
        else:
            c.answer(prm)
        return {}

    def cmd_reject(self, call: int, code: int = 486) -> Json:
        prm = pj.CallOpParam()
        prm.statusCode = int(code)
        self.live_call(call).hangup(prm)
        return {}

    def cmd_hangup(self, call: int) -> Json:
        self.live_call(call).hangup(pj.CallOpParam())
        return {}

    def hangup_quietly(self, aid: int) -> None:
        c = self.calls.get(aid)
        if c is not None and not c.ended:
            with contextlib.suppress(pj.Error):
                c.hangup(pj.CallOpParam())

    def cmd_hold(self, call: int) -> Json:
        self.live_call(call).setHold(pj.CallOpParam(True))
        return {}

    def cmd_unhold(self, call: int) -> Json:
        prm = pj.CallOpParam(True)
        prm.opt.flag = pj.PJSUA_CALL_UNHOLD
        self.live_call(call).reinvite(prm)
        return {}

    def cmd_dtmf(self, call: int, digits: str, method: str = "rfc2833") -> Json:
        if method not in DTMF_METHODS:
            raise CommandError(f"method must be one of {sorted(DTMF_METHODS)}")
        prm = pj.CallSendDtmfParam()
        prm.digits = digits
        prm.method = DTMF_METHODS[method]
        self.live_call(call).sendDtmf(prm)
        return {}

    def cmd_xfer(self, call: int, uri: str, hangup_on_success: bool = True) -> Json:
        c = self.live_call(call)
        c.hangup_on_transfer = hangup_on_success
        c.xfer(uri, pj.CallOpParam(True))
        return {}

    def cmd_xfer_replaces(self, call: int, other_call: int, hangup_on_success: bool = True) -> Json:
        c = self.live_call(call)
        other = self.live_call(other_call)
        c.hangup_on_transfer = hangup_on_success
        c.xferReplaces(other, pj.CallOpParam(True))
        return {}

    # --- media -------------------------------------------------------------------------------
    def cmd_conference(self, calls: list[int]) -> Json:
        members = [self.live_call(a) for a in calls]
        group: set[int] = set()
        for m in members:
            group |= m.group
        for aid in group:
            self.calls[aid].group = group
        self.rewire()
        return {"group": sorted(group)}

    def cmd_play(self, call: int, wav_path: str, loop: bool = True) -> Json:
        c = self.live_call(call)
        if not Path(wav_path).is_file():
            raise CommandError(f"no such file: {wav_path}")
        player = pj.AudioMediaPlayer()
        player.createPlayer(str(wav_path), 0 if loop else pj.PJMEDIA_FILE_NO_LOOP)
        c.player = player  # replacing the old one destroys it, which unplugs it
        self.rewire()
        return {"path": str(wav_path)}

    def cmd_play_tone(self, call: int, hz: float, rate: int = 16000) -> Json:
        path = self.workdir / f"tone_{hz:g}_{rate}.wav"
        if not path.exists():
            audio.tone_wav(path, hz, seconds=1.0, rate=rate)
        return self.cmd_play(call, str(path), loop=True)

    def cmd_stop_play(self, call: int) -> Json:
        self.call(call).player = None
        return {}

    def cmd_record(self, call: int, wav_path: str) -> Json:
        c = self.live_call(call)
        self.close_recorder(c)
        rec = pj.AudioMediaRecorder()
        rec.createRecorder(str(wav_path))
        c.recorder, c.recorder_path = rec, str(wav_path)
        self.rewire()
        return {"path": str(wav_path)}

    def cmd_stop_record(self, call: int) -> Json:
        c = self.calls.get(int(call))
        path = self.close_recorder(c) if c is not None else ""
        return {"path": path}

    def close_recorder(self, c: AgentCall) -> str:
        """Destroy the recorder, which is what writes the WAV header's final sizes."""
        had = c.recorder is not None
        path, c.recorder, c.recorder_path = c.recorder_path, None, ""
        gc.collect()
        if had:
            # Since pjproject 2.14 the bridge removes ports asynchronously: the WAV writer is
            # closed (and its header sizes written) a frame or so later, on the clock thread.
            deadline = time.monotonic() + 2.0
            while not audio.wav_is_complete(path) and time.monotonic() < deadline:
                self.ep.libHandleEvents(10)
        return path

    def rewire(self) -> None:
        """Connect every bridge port as the call/conference layout says.

        Per call: its player -> the call, the call -> its recorder. In a conference group every
        member's audio goes to every other member, and every member's player and recorder is
        shared by the group. startTransmit on an existing connection is harmless, so this runs
        on every media change (pjsua drops a call's connections when its stream is rebuilt).
        """
        done: set[int] = set()
        for c in list(self.calls.values()):
            if c.aid in done:
                continue
            members = [self.calls[a] for a in sorted(c.group) if a in self.calls]
            done |= {m.aid for m in members}
            media = {m.aid: m.audio_media() for m in members}
            for m in members:
                src = media[m.aid]
                if src is None:
                    continue
                for other in members:
                    dst = media[other.aid]
                    if other.aid != m.aid and dst is not None:
                        src.startTransmit(dst)
                    if other.player is not None:
                        other.player.startTransmit(src)
                    if other.recorder is not None:
                        src.startTransmit(other.recorder)

    def forget_call(self, aid: int) -> None:
        c = self.calls.pop(aid, None)
        if c is None:
            return
        self._release_media(c)
        for other in self.calls.values():
            other.group.discard(aid)
        c.group = set()

    def _release_media(self, c: AgentCall) -> None:
        path = c.recorder_path
        c.player = None
        if c.recorder is not None:
            self.close_recorder(c)
            self.emit.event("record_stopped", call=c.aid, path=path)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--name", default="agent")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = any free port")
    p.add_argument("--transport", choices=["udp", "tcp"], default="udp")
    p.add_argument(
        "--codecs",
        default=DEFAULT_CODECS,
        help="comma-separated codec id prefixes in priority order, or 'all' for pjsua's own",
    )
    p.add_argument("--workdir", default="")
    p.add_argument("--log-level", type=int, default=3, help="pjsua log level (to stderr)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    emit = Emitter(proto)
    agent = Agent(args, emit)
    try:
        agent.start()
    except Exception as exc:
        emit.event("fatal", error=pj_error_text(exc))
        return 1
    agent.run()
    emit.event("bye")
    proto.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
