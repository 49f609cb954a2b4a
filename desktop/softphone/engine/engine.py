"""The softphone engine: one pjsua2 endpoint, one account, up to two lines. No Qt in here.

Threading (ARCHITECTURE.md): ``threadCnt=0`` and ``mainThreadOnly=True``; whoever owns the
engine calls :meth:`Engine.poll` every ~20 ms (the Qt adapter from a QTimer, tests from their
wait loops) and every callback and listener runs inside that call. Python references to every
Call, player and recorder live here; media is rewired on every media-state change; shutdown
hangs up, drops references, then destroys the library.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pjsua2 as pj

from desktop.softphone.engine import audio_bridge, quality
from desktop.softphone.engine.calls import SoftAccount, SoftCall
from desktop.softphone.engine.devices import (
    DEFAULT,
    AudioChoice,
    SoundDevice,
    effective,
    pick,
    signature,
)
from desktop.softphone.engine.types import (
    SPY_CONTENT_TYPE,
    SPY_HEADER,
    Direction,
    EngineError,
    Event,
    EventKind,
    LineInfo,
    LineState,
    Listener,
    Quality,
    Registration,
    SipAccount,
    SpyMode,
    Transport,
    header_value,
    parse_spy,
    target_uri,
)

log = logging.getLogger(__name__)

#: The PyPI wheel is built with PJSUA_MAX_CALLS = 4; two lines plus transfer legs fit.
PJ_MAX_CALLS = 4
#: Codec preference (issue 5). Speex, pjsua's own favourite, is pushed to the back: it mangles
#: tones (DTMF-like signalling, hold music) and no PBX needs it.
CODEC_ORDER = ("opus", "G722", "PCMA", "PCMU")
BUSY = 486
NOTHING_TO_HEAR = 480  # a listen-in call arrives when this phone is in no call


@dataclass(frozen=True)
class EngineConfig:
    user_agent: str = "Pult softphone"
    #: "" binds every interface; tests bind 127.0.0.1.
    bind_address: str = ""
    sip_port: int = 0  # 0 = any free port (one per transport)
    tls: bool = False
    tls_ca_file: str = ""
    #: "auto": native devices when pjsua2 has them, else the PortAudio bridge, else silence;
    #: "null": no sound at all (tests, servers).
    audio: str = "auto"
    max_lines: int = 2
    reg_expires: int = 300
    #: A failed registration is retried after ``first_retry`` s, then every ``retry`` s.
    first_retry: int = 2
    retry: int = 15
    #: Seconds between checks for a changed local address or a wall-clock jump (sleep).
    network_check: float = 5.0
    #: Seconds between sound-device rescans (0 = never; PortAudio rescans only when idle).
    device_check: float = 5.0
    log_level: int = 2


class _LogWriter(pj.LogWriter):
    """pjlib's log into Python logging (it would print to stdout otherwise)."""

    def write(self, entry: pj.LogEntry) -> None:
        level = logging.WARNING if entry.level <= 2 else logging.DEBUG
        log.log(level, "pjsua: %s", str(entry.msg).rstrip())


class Engine:
    """See module docstring; every public method runs on the polling thread."""

    def __init__(
        self, config: EngineConfig | None = None, wall_clock: Callable[[], float] = time.time
    ) -> None:
        self.config = config or EngineConfig()
        #: Compared with the monotonic clock to notice a suspend (see _check_network).
        self.wall_clock = wall_clock
        # pjsua2 allows one Endpoint per process, even before libCreate: made in start().
        self.ep: Any = None
        self.dnd = False
        self.auto_answer: float | None = None
        self._listeners: list[Listener] = []
        self._writer: _LogWriter | None = None
        self._transports: dict[Transport, int] = {}
        self._account: SipAccount | None = None
        self._acc: SoftAccount | None = None
        self._registration = Registration()
        self._calls: dict[int, SoftCall] = {}
        self._next_id = 1
        self._later: list[tuple[float, Callable[[], None]]] = []
        self._links: dict[tuple[int, int], tuple[pj.AudioMedia, pj.AudioMedia]] = {}
        self._audio_mode = "null"
        self._choice = AudioChoice()
        self._devices: list[SoundDevice] = []
        self._bridge: audio_bridge.SoundBridge | None = None
        self._ringer: audio_bridge.Ringer | None = None
        self._native_mic: pj.AudioMedia | None = None
        self._native_spk: pj.AudioMedia | None = None
        self._player: pj.AudioMediaPlayer | None = None
        self._recorder: pj.AudioMediaRecorder | None = None
        self._recorder_path = ""
        self._started = False
        self._ever_registered = False
        self._wall = wall_clock()
        self._mono = time.monotonic()
        self._next_net_check = 0.0
        self._local_ip = ""
        self._next_dev_check = 0.0

    # --- lifecycle ---------------------------------------------------------------------------
    @property
    def audio_mode(self) -> str:
        """ "native", "bridge" or "null" (known after :meth:`start`)."""
        return self._audio_mode

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def start(self) -> None:
        cfg = self.config
        self.ep = pj.Endpoint()
        self.ep.libCreate()
        ep_cfg = pj.EpConfig()
        ep_cfg.uaConfig.threadCnt = 0
        ep_cfg.uaConfig.mainThreadOnly = True
        ep_cfg.uaConfig.maxCalls = PJ_MAX_CALLS
        ep_cfg.uaConfig.userAgent = cfg.user_agent
        self._writer = _LogWriter()
        ep_cfg.logConfig.writer = self._writer
        ep_cfg.logConfig.level = cfg.log_level
        ep_cfg.logConfig.consoleLevel = cfg.log_level
        ep_cfg.logConfig.decor = 0
        ep_cfg.medConfig.clockRate = audio_bridge.RATE
        ep_cfg.medConfig.noVad = True  # VAD would cut quiet tones and hold music
        self.ep.libInit(ep_cfg)
        self._create_transports()
        self.ep.libStart()
        self._started = True
        self._set_codecs()
        self._setup_audio()

    def _create_transports(self) -> None:
        cfg = self.config
        kinds = [
            (Transport.UDP, pj.PJSIP_TRANSPORT_UDP),
            (Transport.TCP, pj.PJSIP_TRANSPORT_TCP),
        ]
        if cfg.tls:
            kinds.append((Transport.TLS, pj.PJSIP_TRANSPORT_TLS))
        for name, kind in kinds:
            tcfg = pj.TransportConfig()
            tcfg.port = cfg.sip_port
            if cfg.bind_address:
                tcfg.boundAddress = cfg.bind_address
            if name is Transport.TLS:
                # Always verify the registrar: against the CA given (an edge's own certificate)
                # or the system's store; a failure shows as the registration's reason.
                tcfg.tlsConfig.CaListFile = cfg.tls_ca_file or _system_ca_file()
                tcfg.tlsConfig.verifyServer = True
            try:
                self._transports[name] = self.ep.transportCreate(kind, tcfg)
            except pj.Error as exc:
                # A build without TLS, or a port taken: the other transports still work.
                log.warning("no %s transport: %s", name, exc.reason)

    def _set_codecs(self) -> None:
        for info in self.ep.codecEnum2():
            cid = str(info.codecId)
            rank = next(
                (i for i, w in enumerate(CODEC_ORDER) if cid.lower().startswith(w.lower())),
                None,
            )
            # Unlisted codecs stay usable for odd peers, behind the listed ones.
            prio = 250 - rank if rank is not None else (1 if not cid.startswith("L16") else 0)
            self.ep.codecSetPriority(cid, prio)

    def codecs(self) -> list[str]:
        """Enabled codecs, most preferred first."""
        found = sorted(self.ep.codecEnum2(), key=lambda c: -int(c.priority))
        return [str(c.codecId) for c in found if int(c.priority) > 0]

    def _setup_audio(self) -> None:
        mode = self.config.audio
        adm = self.ep.audDevManager()
        if mode in ("auto", "native") and adm.getDevCount() > 0:
            self._audio_mode = "native"
        elif mode in ("auto", "bridge") and audio_bridge.available():
            self._audio_mode = "bridge"
        else:
            self._audio_mode = "null"
        if self._audio_mode != "native":
            # No devices in pjsua: the null device still clocks the conference bridge.
            adm.setNullDev()
        if self._audio_mode != "null":
            self._devices = self._scan_devices(refresh=False)
            self._ringer = audio_bridge.Ringer()
        self._apply_native_devices()

    def shutdown(self) -> None:
        if not self._started:
            return
        self._started = False
        if self._ringer is not None:
            self._ringer.stop()
        with contextlib.suppress(pj.Error):
            self.ep.hangupAllCalls()
        deadline = time.monotonic() + 2.0
        while any(not c.ended for c in self._calls.values()) and time.monotonic() < deadline:
            self.ep.libHandleEvents(10)
        self._links.clear()
        self._calls.clear()
        self._close_bridge()
        self._player = None
        self._finish_recording()
        self._native_mic = self._native_spk = None
        if self._acc is not None:
            with contextlib.suppress(pj.Error):
                self._acc.shutdown()
        self._acc = None
        self._later.clear()
        # A pjsua2 Call destroyed after libDestroy aborts the process: all must be gone now.
        gc.collect()
        self.ep.libDestroy(0 if self._ever_registered else pj.PJSUA_DESTROY_NO_NETWORK)
        self.ep = None  # frees the process's one Endpoint for a later engine
        gc.collect()
        self._writer = None

    def guard(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as exc:
            log.exception("softphone callback failed")
            self._emit(Event(EventKind.ERROR, data={"message": str(exc)}))

    def _emit(self, event: Event) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("softphone listener failed on %s", event.kind)

    # --- polling -----------------------------------------------------------------------------
    def poll(self, timeout_ms: int = 0) -> None:
        if not self._started:
            return
        self.ep.libHandleEvents(timeout_ms)
        now = time.monotonic()
        if self._later:
            due = [t for t in self._later if t[0] <= now]
            if due:
                self._later = [t for t in self._later if t[0] > now]
                for _, fn in due:
                    self.guard(fn)
        if self.config.network_check and now >= self._next_net_check:
            self._next_net_check = now + self.config.network_check
            self._check_network(now)
        if self.config.device_check and now >= self._next_dev_check:
            self._next_dev_check = now + self.config.device_check
            self._check_devices()

    def later(self, delay: float, fn: Callable[[], None]) -> None:
        self._later.append((time.monotonic() + delay, fn))

    def _check_network(self, mono: float) -> None:
        wall = self.wall_clock()
        # The wall clock runs through a suspend, the monotonic one does not.
        slept = (wall - self._wall) - (mono - self._mono) > 10.0
        self._wall, self._mono = wall, mono
        address = self._route_address()
        moved = bool(self._local_ip) and address != self._local_ip
        self._local_ip = address
        if (slept or moved) and self._acc is not None:
            log.info("network changed (slept=%s, address %s): re-registering", slept, address)
            self.network_changed()

    def _route_address(self) -> str:
        """The local address that reaches the registrar (a UDP connect sends nothing)."""
        host = "8.8.8.8"
        if self._account is not None:
            text = self._account.registrar.split(":", 1)[-1]
            host = text.split(";", 1)[0].rsplit(":", 1)[0] or host
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                probe.connect((host, 5060))
                return str(probe.getsockname()[0])
        except OSError:
            return ""

    def network_changed(self) -> None:
        """After a network change or a wake-up: new transports, re-register, re-INVITE calls."""
        prm = pj.IpChangeParam()
        try:
            self.ep.handleIpChange(prm)
        except pj.Error as exc:
            log.warning("handleIpChange failed: %s; re-registering", exc.reason)
            if self._acc is not None:
                with contextlib.suppress(pj.Error):
                    self._acc.setRegistration(True)

    # --- registration ------------------------------------------------------------------------
    @property
    def registration(self) -> Registration:
        return self._registration

    @property
    def account(self) -> SipAccount | None:
        return self._account

    def register(self, account: SipAccount) -> None:
        if not self._started:
            raise EngineError("not_started")
        transport = account.transport
        if transport not in self._transports:
            raise EngineError("no_transport", str(transport))
        self._drop_account()
        suffix = "" if transport is Transport.UDP else f";transport={transport.value}"
        registrar = account.registrar + suffix
        acfg = pj.AccountConfig()
        acfg.idUri = (
            f'"{account.display_name}" <{account.uri}>' if account.display_name else account.uri
        )
        acfg.regConfig.registrarUri = registrar
        acfg.regConfig.timeoutSec = self.config.reg_expires
        acfg.regConfig.firstRetryIntervalSec = self.config.first_retry
        acfg.regConfig.retryIntervalSec = self.config.retry
        acfg.regConfig.randomRetryIntervalSec = 1
        acfg.sipConfig.transportId = self._transports[transport]
        # Calls go through the registrar, as the PBX routes and bills them.
        acfg.sipConfig.proxies.append(f"{registrar};lr")
        acfg.sipConfig.authCreds.append(
            pj.AuthCredInfo(
                "digest", account.domain, account.login, pj.PJSIP_CRED_DATA_DIGEST, account.ha1
            )
        )
        if self.config.bind_address:
            acfg.mediaConfig.transportConfig.boundAddress = self.config.bind_address
        acc = SoftAccount(self)
        acc.create(acfg)
        self._acc = acc
        self._account = account
        self._ever_registered = True
        self._registration = Registration(retrying=True)

    def unregister(self) -> None:
        self._drop_account()
        self._account = None
        self._set_registration(Registration())

    def _drop_account(self) -> None:
        if self._acc is not None:
            with contextlib.suppress(pj.Error):
                self._acc.shutdown()
            self._acc = None

    def on_reg_state(self, code: int, reason: str, expires: int) -> None:
        ok = 200 <= code < 300
        self._set_registration(
            Registration(
                registered=ok and expires > 0,
                code=code,
                reason=reason,
                expires=expires,
                retrying=not ok and self._acc is not None,
            )
        )

    def _set_registration(self, reg: Registration) -> None:
        self._registration = reg
        self._emit(Event(EventKind.REGISTRATION, registration=reg))

    # --- lines -------------------------------------------------------------------------------
    def lines(self) -> list[LineInfo]:
        return [c.info() for c in self._live()]

    def line(self, line_id: int) -> LineInfo:
        return self._call(line_id).info()

    def _call(self, line_id: int) -> SoftCall:
        found = self._calls.get(line_id)
        if found is None or found.ended:
            raise EngineError("no_line", str(line_id))
        return found

    def _live(self) -> list[SoftCall]:
        """The person's lines: every call not over, except supervisors listening in."""
        return [c for c in self._calls.values() if not c.ended and c.spy is None]

    def _spies(self) -> list[SoftCall]:
        return [c for c in self._calls.values() if not c.ended and c.spy is not None]

    def new_call(
        self,
        acc: pj.Account,
        direction: Direction,
        remote_uri: str,
        call_id: int = pj.PJSUA_INVALID_ID,
    ) -> SoftCall:
        call = SoftCall(self, acc, self._next_id, direction, remote_uri, call_id)
        self._next_id += 1
        self._calls[call.line_id] = call
        return call

    def dial(self, target: str) -> int:
        if self._acc is None or self._account is None:
            raise EngineError("no_account")
        if len(self._live()) >= self.config.max_lines:
            raise EngineError("lines_busy")
        try:
            uri = target_uri(target, self._account.domain)
        except ValueError as exc:
            raise EngineError("bad_target", target) from exc
        self._hold_others(None)
        call = self.new_call(self._acc, Direction.OUT, uri)
        try:
            call.makeCall(uri, pj.CallOpParam(True))
        except pj.Error as exc:
            self._calls.pop(call.line_id, None)
            raise EngineError("dial_failed", exc.reason) from exc
        self._emit(Event(EventKind.LINE, line=call.info()))
        return call.line_id

    def on_incoming(self, acc: SoftAccount, call_id: int, message: str = "") -> None:
        live = self._live()
        call = self.new_call(acc, Direction.IN, "", call_id)
        call.remote_uri = str(call.getInfo().remoteUri)
        call.take_identity(message)
        spy = parse_spy(header_value(message, SPY_HEADER) or "")
        if spy is not None:
            self._answer_spy(call, spy[0], spy[1], live)
            return
        prm = pj.CallOpParam()
        if self.dnd or len(live) >= self.config.max_lines:
            call.refused = "dnd" if self.dnd else "busy"
            prm.statusCode = BUSY
            call.hangup(prm)
            return
        prm.statusCode = 180
        call.answer(prm)
        info = call.info()
        self._emit(Event(EventKind.INCOMING, line=info))
        self._emit(Event(EventKind.LINE, line=info))
        self._update_ringer()
        if self.auto_answer is not None and not live:
            line_id = call.line_id
            self.later(self.auto_answer, lambda: self._auto_answer(line_id))

    def _answer_spy(
        self, call: SoftCall, mode: SpyMode, session: int | None, live: list[SoftCall]
    ) -> None:
        """A supervisor joins this operator's call: answered at once, without ringing and
        without a line (the SIP edge lets only the server set the header, and only for a
        supervisor of this domain). Do-not-disturb does not apply to the supervisor."""
        call.spy, call.spy_session = mode, session
        prm = pj.CallOpParam()
        if not any(c.state is LineState.TALKING for c in live):
            call.refused = "nothing_to_hear"
            prm.statusCode = NOTHING_TO_HEAR
            call.hangup(prm)
            return
        prm.statusCode = 200
        call.answer(prm)
        call.state = LineState.CONNECTING
        self._emit_spy(call)

    def _emit_spy(self, call: SoftCall) -> None:
        mode = "" if call.ended or call.spy is None else call.spy.value
        self._emit(
            Event(
                EventKind.SPY,
                data={"mode": mode, "session": call.spy_session, "call": call.line_id},
            )
        )

    def spies(self) -> dict[int, SpyMode]:
        """Supervisors listening in on this phone now: call id → mode."""
        return {c.line_id: c.spy for c in self._spies() if c.spy is not None}

    def on_call_message(self, call: SoftCall, content_type: str, body: str) -> None:
        """A mode change from the supervisor (the edge relayed it: the server allowed it)."""
        if call.spy is None or SPY_CONTENT_TYPE not in content_type.lower():
            return
        found = parse_spy(body)
        if found is None or found[0] is call.spy:
            return
        call.spy = found[0]
        self.rewire()
        self._emit_spy(call)

    def set_spy_mode(self, line_id: int, mode: SpyMode | str) -> None:
        """On the supervisor's phone: ask the operator's phone to mix ``mode`` on this call
        (set the mode with the server's API first; the edge refuses any other). The answer
        comes as an EventKind.SPY event with the SIP status."""
        call = self._call(line_id)
        try:
            wanted = SpyMode(str(mode))
        except ValueError as exc:
            raise EngineError("bad_mode", str(mode)) from exc
        if call.state is not LineState.TALKING:
            raise EngineError("not_talking", str(line_id))
        prm = pj.SendInstantMessageParam()
        prm.contentType = SPY_CONTENT_TYPE
        prm.content = wanted.value
        call.spy_request = wanted
        call.sendInstantMessage(prm)

    def on_call_message_status(self, call: SoftCall, code: int, reason: str) -> None:
        wanted, call.spy_request = call.spy_request, None
        if wanted is None:
            return
        self._emit(
            Event(
                EventKind.SPY,
                line=call.info(),
                data={
                    "mode": wanted.value,
                    "status": code,
                    "reason": reason,
                    "accepted": 200 <= code < 300,
                },
            )
        )

    def _auto_answer(self, line_id: int) -> None:
        call = self._calls.get(line_id)
        if call is not None and call.state is LineState.INCOMING:
            self.answer(line_id)

    def answer(self, line_id: int) -> None:
        call = self._call(line_id)
        if call.state is not LineState.INCOMING:
            raise EngineError("not_ringing", str(line_id))
        self._hold_others(line_id)
        prm = pj.CallOpParam()
        prm.statusCode = 200
        call.answer(prm)
        call.state = LineState.CONNECTING
        self._update_ringer()
        self._emit(Event(EventKind.LINE, line=call.info()))

    def reject(self, line_id: int) -> None:
        call = self._call(line_id)
        prm = pj.CallOpParam()
        prm.statusCode = BUSY
        call.refused = "rejected"
        call.hangup(prm)

    def hangup(self, line_id: int) -> None:
        call = self._call(line_id)
        with contextlib.suppress(pj.Error):  # already on its way out
            call.hangup(pj.CallOpParam())

    def hold(self, line_id: int) -> None:
        call = self._call(line_id)
        if call.on_hold:
            return
        if call.state is not LineState.TALKING:
            raise EngineError("not_talking", str(line_id))
        call.setHold(pj.CallOpParam(True))
        call.on_hold = True
        self.rewire()
        self._emit(Event(EventKind.LINE, line=call.info()))

    def resume(self, line_id: int) -> None:
        call = self._call(line_id)
        if not call.on_hold:
            return
        self._hold_others(line_id)
        self._unhold(call)
        self._emit(Event(EventKind.LINE, line=call.info()))

    def _unhold(self, call: SoftCall) -> None:
        prm = pj.CallOpParam(True)
        prm.opt.flag = pj.PJSUA_CALL_UNHOLD
        call.reinvite(prm)
        call.on_hold = False
        self.rewire()

    def _hold_others(self, keep: int | None) -> None:
        """Two lines, one voice: talking to one line holds the other (unless conferenced)."""
        group = self._calls[keep].group if keep in self._calls else {keep}
        for other in self._live():
            if other.line_id in group or other.on_hold or other.state is not LineState.TALKING:
                continue
            with contextlib.suppress(pj.Error):
                other.setHold(pj.CallOpParam(True))
                other.on_hold = True
                self._emit(Event(EventKind.LINE, line=other.info()))
        self.rewire()

    def set_mute(self, line_id: int, muted: bool) -> None:
        call = self._call(line_id)
        for member in self._group(call):
            member.muted = muted
        self.rewire()
        for member in self._group(call):
            self._emit(Event(EventKind.LINE, line=member.info()))

    def send_dtmf(self, line_id: int, digits: str) -> None:
        """RFC 2833 events in the media; SIP INFO when the far end did not offer them."""
        call = self._call(line_id)
        prm = pj.CallSendDtmfParam()
        prm.digits = digits
        prm.method = pj.PJSUA_DTMF_METHOD_RFC2833
        try:
            call.sendDtmf(prm)
        except pj.Error:
            prm.method = pj.PJSUA_DTMF_METHOD_SIP_INFO
            call.sendDtmf(prm)

    def blind_transfer(self, line_id: int, target: str) -> None:
        call = self._call(line_id)
        assert self._account is not None
        try:
            uri = target_uri(target, self._account.domain)
        except ValueError as exc:
            raise EngineError("bad_target", target) from exc
        call.hangup_on_transfer = True
        call.transfer_status = 0
        call.xfer(uri, pj.CallOpParam(True))
        self._emit(Event(EventKind.LINE, line=call.info()))

    def attended_transfer(self, line_id: int, other_id: int) -> None:
        """Connect ``line_id``'s party to ``other_id``'s party (REFER with Replaces); we leave."""
        call, other = self._call(line_id), self._call(other_id)
        call.hangup_on_transfer = True
        call.transfer_status = 0
        call.xferReplaces(other, pj.CallOpParam(True))
        self._emit(Event(EventKind.LINE, line=call.info()))

    def on_transfer_status(self, call: SoftCall, code: int, final: bool) -> None:
        call.transfer_status = code
        self._emit(
            Event(EventKind.TRANSFER, line=call.info(), data={"status": code, "final": final})
        )
        if final and 200 <= code < 300 and call.hangup_on_transfer:
            # The transfer target answered: we leave, as a desk phone does.
            self.later(0.0, lambda: self._hangup_quietly(call.line_id))
        elif final:
            call.hangup_on_transfer = False
            self._emit(Event(EventKind.LINE, line=call.info()))

    def _hangup_quietly(self, line_id: int) -> None:
        call = self._calls.get(line_id)
        if call is not None and not call.ended:
            with contextlib.suppress(pj.Error):
                call.hangup(pj.CallOpParam())

    def conference(self, line_id: int, other_id: int) -> None:
        """Mix the two lines here: each party hears us and the other."""
        call, other = self._call(line_id), self._call(other_id)
        group = call.group | other.group
        for member in (self._calls[i] for i in group if i in self._calls):
            member.group = set(group)
        for member in (call, other):
            if member.on_hold:
                self._unhold(member)
        self.rewire()
        for member in (call, other):
            self._emit(Event(EventKind.LINE, line=member.info()))

    def split(self, line_id: int) -> None:
        """End the mixing: keep talking to ``line_id``, hold the others."""
        call = self._call(line_id)
        members = self._group(call)
        for member in members:
            member.group = {member.line_id}
        self._hold_others(line_id)
        for member in members:
            self._emit(Event(EventKind.LINE, line=member.info()))

    def _group(self, call: SoftCall) -> list[SoftCall]:
        return [self._calls[i] for i in sorted(call.group) if i in self._calls]

    def quality(self, line_id: int) -> Quality:
        call = self._call(line_id)
        if call.media_index < 0 or call.media_status != pj.PJSUA_CALL_MEDIA_ACTIVE:
            return Quality(codec=call.codec)
        try:
            stat = call.getStreamStat(call.media_index)
        except pj.Error:
            return Quality(codec=call.codec)
        rx = stat.rtcp.rxStat
        lost, received = int(rx.loss), int(rx.pkt)
        prev_lost, prev_received = call.rx_prev
        call.rx_prev = (lost, received)
        loss = quality.loss_percent(lost - prev_lost, received - prev_received)
        jitter = int(rx.jitterUsec.last or rx.jitterUsec.mean) / 1000.0
        rtt = int(stat.rtcp.rttUsec.last) / 1000.0
        if received == 0:
            return Quality(codec=call.codec)
        return Quality(quality.bars(loss, jitter, rtt), loss, jitter, rtt, call.codec)

    def on_line_changed(self, call: SoftCall) -> None:
        if call.spy is not None:
            if call.ended:
                self.rewire()
                if not call.refused:
                    self._emit_spy(call)
                self.later(0.0, lambda: self._forget(call.line_id))
            return
        if call.ended:
            self._end(call)
            return
        self._update_ringer()
        self._emit(Event(EventKind.LINE, line=call.info()))

    def _end(self, call: SoftCall) -> None:
        for member in self._group(call):
            member.group.discard(call.line_id)
        call.group = {call.line_id}
        self.rewire()
        self._update_ringer()
        self._emit(Event(EventKind.ENDED, line=call.info()))
        if not self._live():
            # Nothing left to listen to: the supervisors' calls end with the last line.
            for spy in self._spies():
                self._hangup_quietly(spy.line_id)
            self._close_bridge()
        # Deleting a Call inside its own callback crashes pjsua2: drop it from the poll loop.
        self.later(0.0, lambda: self._forget(call.line_id))

    def _forget(self, line_id: int) -> None:
        self._calls.pop(line_id, None)

    def on_dtmf(self, call: SoftCall, digit: str, method: str) -> None:
        self._emit(Event(EventKind.DTMF, line=call.info(), data={"digit": digit, "method": method}))

    # --- media -------------------------------------------------------------------------------
    def rewire(self) -> None:
        """Make the bridge's connections exactly what the lines ask for.

        Each talking line not on hold: microphone → line (unless muted), line → speaker; lines
        in one conference also send to each other. Connections no longer wanted are removed.
        """
        live = [c for c in self._live() if not c.on_hold]
        media = {c.line_id: c.audio_media() for c in live}
        if any(m is not None for m in media.values()):
            self._open_bridge()
        sources, sinks = self._sources(), self._sinks()
        wanted: dict[tuple[int, int], tuple[pj.AudioMedia, pj.AudioMedia]] = {}

        def want(src: pj.AudioMedia, dst: pj.AudioMedia) -> None:
            wanted[(src.getPortId(), dst.getPortId())] = (src, dst)

        for call in live:
            am = media[call.line_id]
            if am is None:
                continue
            if not call.muted:
                for src in sources:
                    want(src, am)
            for dst in sinks:
                want(am, dst)
            for other_id in call.group:
                other = media.get(other_id)
                if other_id != call.line_id and other is not None:
                    want(am, other)
        # Supervisors listening in (see SpyMode): they hear this phone's microphone and every
        # talking line; whisper also reaches the speaker, barge also the lines.
        lines = [am for am in media.values() if am is not None]
        for spy in self._spies():
            spy_am = spy.audio_media()
            if spy_am is None:
                continue
            self._open_bridge()
            if not sources:
                sources = self._sources()
            if not sinks:
                sinks = self._sinks()
            for src in sources:
                want(src, spy_am)
            for am in lines:
                want(am, spy_am)
            if spy.spy in (SpyMode.WHISPER, SpyMode.BARGE):
                for dst in sinks:
                    want(spy_am, dst)
            if spy.spy is SpyMode.BARGE:
                for am in lines:
                    want(spy_am, am)
        for key, (src, dst) in self._links.items():
            if key not in wanted:
                with contextlib.suppress(pj.Error):
                    src.stopTransmit(dst)
        for src, dst in wanted.values():
            src.startTransmit(dst)
        self._links = wanted

    def _sources(self) -> list[pj.AudioMedia]:
        if self._player is not None:
            return [self._player]
        if self._audio_mode == "native":
            if self._native_mic is None:
                self._native_mic = self.ep.audDevManager().getCaptureDevMedia()
            return [self._native_mic]
        return [self._bridge.media] if self._bridge is not None else []

    def _sinks(self) -> list[pj.AudioMedia]:
        sinks: list[pj.AudioMedia] = []
        if self._recorder is not None:
            sinks.append(self._recorder)
        if self._audio_mode == "native":
            if self._native_spk is None:
                self._native_spk = self.ep.audDevManager().getPlaybackDevMedia()
            sinks.append(self._native_spk)
        elif self._bridge is not None:
            sinks.append(self._bridge.media)
        return sinks

    def play_file(self, wav: str | Path | None) -> None:
        """Send a looping WAV to the calls instead of the microphone (tests, announcements)."""
        self._player = None
        if wav is not None:
            player = pj.AudioMediaPlayer()
            player.createPlayer(str(wav), 0)
            self._player = player
        self._links.clear()  # old port ids may be reused by the new player
        self.rewire()

    def record_to(self, wav: str | Path | None) -> None:
        """Also write what this phone hears to a WAV; None finishes the file."""
        self._finish_recording()
        if wav is not None:
            rec = pj.AudioMediaRecorder()
            rec.createRecorder(str(wav))
            self._recorder, self._recorder_path = rec, str(wav)
        self.rewire()

    def _finish_recording(self) -> None:
        if self._recorder is None:
            return
        path, self._recorder, self._recorder_path = self._recorder_path, None, ""
        self._links.clear()
        gc.collect()
        # The bridge removes ports asynchronously (pjproject ≥ 2.14): wait for the WAV header.
        deadline = time.monotonic() + 2.0
        while not _wav_complete(path) and time.monotonic() < deadline:
            self.ep.libHandleEvents(10)

    # --- sound devices -----------------------------------------------------------------------
    @property
    def audio(self) -> AudioChoice:
        return self._choice

    def sound_devices(self) -> list[SoundDevice]:
        return list(self._devices)

    def set_audio(self, choice: AudioChoice) -> None:
        self._choice = choice
        self._apply_native_devices()
        if self._bridge is not None:
            self._close_bridge()
            self.rewire()
        self._update_ringer(restart=True)

    def _scan_devices(self, refresh: bool) -> list[SoundDevice]:
        if self._audio_mode == "native":
            adm = self.ep.audDevManager()
            if refresh:
                adm.refreshDevs()
            return [
                SoundDevice(str(d.name), int(d.inputCount), int(d.outputCount), i)
                for i, d in enumerate(adm.enumDev2())
            ]
        if self._audio_mode == "bridge":
            try:
                return audio_bridge.list_devices(refresh=refresh)
            except Exception:
                log.warning("cannot list sound devices", exc_info=True)
        return []

    def _check_devices(self) -> None:
        if self._audio_mode == "null":
            return
        # PortAudio re-initialises only when no stream is open; PulseAudio's list (see
        # audio_bridge.pulse_devices) is fresh on every scan, so a call does not hide plugging.
        busy = self._audio_mode == "bridge" and (
            self._bridge is not None or (self._ringer is not None and self._ringer.playing)
        )
        devices = self._scan_devices(refresh=not busy)
        if signature(devices) == signature(self._devices):
            self._devices = devices
            return
        was = effective(self._choice, self._devices)
        self._devices = devices
        now = effective(self._choice, devices)
        # A chosen device that is gone is replaced by the system default (and used again when
        # it comes back): the listeners are told which roles fell back.
        fallback = [
            role
            for role in ("microphone", "speaker", "ringer")
            if getattr(self._choice, role) != DEFAULT and getattr(now, role) == DEFAULT
        ]
        self._apply_native_devices()
        if now != was:
            if fallback:
                log.info("sound devices gone, using the default for %s", ", ".join(fallback))
            if self._bridge is not None:
                self._close_bridge()
                self.rewire()
            self._update_ringer(restart=True)
        self._emit(
            Event(
                EventKind.DEVICES,
                data={"devices": devices, "fallback": fallback, "using": now},
            )
        )

    def _index(self, name: str, output: bool) -> int | None:
        dev = pick(name, self._devices, output=output)
        return dev.index if dev is not None else None

    def _device(self, name: str, output: bool) -> SoundDevice | None:
        return pick(name, self._devices, output=output)

    def _apply_native_devices(self) -> None:
        if self._audio_mode != "native":
            return
        adm = self.ep.audDevManager()
        mic = self._index(self._choice.microphone, False)
        spk = self._index(self._choice.speaker, True)
        with contextlib.suppress(pj.Error):
            adm.setCaptureDev(mic if mic is not None else pj.PJMEDIA_AUD_DEFAULT_CAPTURE_DEV)
            adm.setPlaybackDev(spk if spk is not None else pj.PJMEDIA_AUD_DEFAULT_PLAYBACK_DEV)

    def _open_bridge(self) -> None:
        if self._audio_mode != "bridge" or self._bridge is not None:
            return
        try:
            self._bridge = audio_bridge.SoundBridge(
                self._device(self._choice.microphone, False),
                self._device(self._choice.speaker, True),
            )
        except Exception as exc:
            log.warning("cannot open the sound devices", exc_info=True)
            self._emit(Event(EventKind.ERROR, data={"message": f"sound: {exc}"}))

    def _close_bridge(self) -> None:
        bridge, self._bridge = self._bridge, None
        if bridge is None:
            return
        self._links = {k: v for k, v in self._links.items() if bridge.port.getPortId() not in k}
        bridge.close()

    def _update_ringer(self, restart: bool = False) -> None:
        if self._ringer is None:
            return
        live = self._live()
        ringing = any(c.state is LineState.INCOMING for c in live)
        talking = any(c.state is LineState.TALKING for c in live)
        if restart:
            self._ringer.stop()
        if not ringing:
            self._ringer.stop()
            return
        # pjsua owns native devices (PortAudio may not be there); else the chosen ringer.
        native = self._audio_mode == "native"
        device = None if native else self._device(self._choice.ringer, True)
        self._ringer.start(device, "waiting" if talking else "ring")

    # --- debugging ---------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        return {
            "audio": self._audio_mode,
            "transports": sorted(self._transports),
            "registration": self._registration,
            "lines": [replace(c.info()) for c in self._live()],
        }


def _system_ca_file() -> str:
    """The OS's CA bundle: the pjsua2 wheel carries its own OpenSSL 1.0.2, built for CentOS
    paths, so it finds no trusted CA by itself on other systems."""
    import ssl

    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile, "/etc/ssl/certs/ca-certificates.crt"):
        if candidate and Path(candidate).is_file():
            return candidate
    return ""


def _wav_complete(path: str) -> bool:
    import wave

    try:
        with wave.open(path, "rb") as w:
            frames, width, channels = w.getnframes(), w.getsampwidth(), w.getnchannels()
        return Path(path).stat().st_size == 44 + frames * width * channels
    except (OSError, EOFError, wave.Error):
        return False
