"""pjsua2 subclasses: the account and the call, reporting to the engine.

pjsua2 callbacks run inside ``libHandleEvents`` on the polling thread. An exception must never
escape into the SWIG director (it would be printed and swallowed, or abort the process), so
every callback goes through ``engine.guard``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pjsua2 as pj

from desktop.softphone.engine.types import (
    IDENTITY_HEADER,
    Direction,
    LineInfo,
    LineState,
    SpyMode,
    display_name_of,
    header_value,
    number_of,
)

if TYPE_CHECKING:
    from desktop.softphone.engine.engine import Engine

#: Media states in which a call has a conference-bridge port worth wiring.
WIRED_MEDIA = {
    pj.PJSUA_CALL_MEDIA_ACTIVE,
    pj.PJSUA_CALL_MEDIA_LOCAL_HOLD,
    pj.PJSUA_CALL_MEDIA_REMOTE_HOLD,
}


class SoftAccount(pj.Account):
    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine

    def onIncomingCall(self, prm: pj.OnIncomingCallParam) -> None:
        call_id, message = prm.callId, str(prm.rdata.wholeMsg)
        self.engine.guard(lambda: self.engine.on_incoming(self, call_id, message))

    def onRegState(self, prm: pj.OnRegStateParam) -> None:
        code, reason, expires = int(prm.code), str(prm.reason), int(prm.expiration)
        self.engine.guard(lambda: self.engine.on_reg_state(code, reason, expires))


class SoftCall(pj.Call):
    """One line. pjsua reuses its call ids; ``line_id`` is the engine's and never reused."""

    def __init__(
        self,
        engine: Engine,
        acc: pj.Account,
        line_id: int,
        direction: Direction,
        remote_uri: str = "",
        call_id: int = pj.PJSUA_INVALID_ID,
    ) -> None:
        super().__init__(acc, call_id)
        self.engine = engine
        self.acc = acc
        self.line_id = line_id
        self.direction = direction
        self.remote_uri = remote_uri
        #: The caller as the edge asserts it (P-Asserted-Identity of the incoming INVITE);
        #: shown instead of the From, which names the caller's SIP login.
        self.identity = ""
        self.state = LineState.INCOMING if direction is Direction.IN else LineState.DIALING
        self.media_status = pj.PJSUA_CALL_MEDIA_NONE
        self.media_index = -1
        self.on_hold = False
        self.remote_hold = False
        self.muted = False
        self.group: set[int] = {line_id}
        self.started_at = time.time()
        self.connected_at: float | None = None
        self.ended_at: float | None = None
        self.status_code = 0
        self.reason = ""
        self.transfer_status: int | None = None
        self.hangup_on_transfer = False
        #: Set for calls refused without ringing (do-not-disturb, both lines busy).
        self.refused = ""
        self.replacement: SoftCall | None = None
        self.codec = ""
        self.rx_prev = (0, 0)  # (lost, received) at the previous quality sample
        #: On the operator's phone: this call is a supervisor listening in, in this mode (it
        #: is not a line: the person sees an indicator, not a call).
        self.spy: SpyMode | None = None
        self.spy_session: int | None = None
        #: On the supervisor's phone: the mode change sent and not yet answered.
        self.spy_request: SpyMode | None = None

    @property
    def ended(self) -> bool:
        return self.state is LineState.ENDED

    def info(self) -> LineInfo:
        return LineInfo(
            id=self.line_id,
            direction=self.direction,
            remote_uri=self.remote_uri,
            number=number_of(self.identity or self.remote_uri),
            display_name=display_name_of(self.identity or self.remote_uri),
            state=self.state,
            on_hold=self.on_hold,
            remote_hold=self.remote_hold,
            muted=self.muted,
            conference=frozenset(self.group),
            started_at=self.started_at,
            connected_at=self.connected_at,
            ended_at=self.ended_at,
            status_code=self.status_code,
            reason=self.refused or self.reason,
            answered=self.connected_at is not None,
            transfer_status=self.transfer_status,
        )

    def take_identity(self, invite: str) -> None:
        """Note who the edge says is calling, from the raw incoming INVITE."""
        self.identity = header_value(invite, IDENTITY_HEADER) or ""

    def audio_media(self) -> pj.AudioMedia | None:
        if self.ended or self.media_status not in WIRED_MEDIA or self.media_index < 0:
            return None
        try:
            return self.getAudioMedia(self.media_index)
        except pj.Error:
            return None

    # --- callbacks ---------------------------------------------------------------------------
    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        self.engine.guard(self._on_state)

    def _on_state(self) -> None:
        ci = self.getInfo()
        self.status_code, self.reason = int(ci.lastStatusCode), str(ci.lastReason)
        if ci.remoteUri:
            self.remote_uri = str(ci.remoteUri)
        state = ci.state
        if state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.state = LineState.ENDED
            self.ended_at = time.time()
        elif state == pj.PJSIP_INV_STATE_CONFIRMED:
            self.state = LineState.TALKING
            if self.connected_at is None:
                self.connected_at = time.monotonic()
        elif state == pj.PJSIP_INV_STATE_CONNECTING:
            self.state = LineState.CONNECTING
        elif state == pj.PJSIP_INV_STATE_EARLY and self.direction is Direction.OUT:
            self.state = LineState.RINGING
        self.engine.on_line_changed(self)

    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:
        self.engine.guard(self._on_media)

    def _on_media(self) -> None:
        ci = self.getInfo()
        status, index = pj.PJSUA_CALL_MEDIA_NONE, -1
        for mi in ci.media:
            if mi.type == pj.PJMEDIA_TYPE_AUDIO:
                status, index = mi.status, mi.index
                break
        self.media_status, self.media_index = status, index
        self.remote_hold = status == pj.PJSUA_CALL_MEDIA_REMOTE_HOLD
        if status == pj.PJSUA_CALL_MEDIA_LOCAL_HOLD:
            self.on_hold = True
        elif status == pj.PJSUA_CALL_MEDIA_ACTIVE:
            self.on_hold = False
        if index >= 0 and status in WIRED_MEDIA:
            try:
                si = self.getStreamInfo(index)
                self.codec = f"{si.codecName}/{si.codecClockRate}"
            except pj.Error:
                self.codec = ""
        # pjsua drops a call's bridge connections whenever its stream is rebuilt.
        self.engine.rewire()
        self.engine.on_line_changed(self)

    def onDtmfDigit(self, prm: pj.OnDtmfDigitParam) -> None:
        method = "info" if prm.method == pj.PJSUA_DTMF_METHOD_SIP_INFO else "rfc2833"
        digit = str(prm.digit)
        self.engine.guard(lambda: self.engine.on_dtmf(self, digit, method))

    def onInstantMessage(self, prm: pj.OnInstantMessageParam) -> None:
        content_type, body = str(prm.contentType), str(prm.msgBody)
        self.engine.guard(lambda: self.engine.on_call_message(self, content_type, body))

    def onInstantMessageStatus(self, prm: pj.OnInstantMessageStatusParam) -> None:
        code, reason = int(prm.code), str(prm.reason)
        self.engine.guard(lambda: self.engine.on_call_message_status(self, code, reason))

    def onCallTransferRequest(self, prm: pj.OnCallTransferRequestParam) -> None:
        def accept() -> None:
            # Without prm.newCall pjsua2 reuses THIS object for the new call.
            prm.newCall = self.engine.new_call(self.acc, Direction.OUT, str(prm.dstUri))

        self.engine.guard(accept)

    def onCallTransferStatus(self, prm: pj.OnCallTransferStatusParam) -> None:
        code, final = int(prm.statusCode), bool(prm.finalNotify)
        self.engine.guard(lambda: self.engine.on_transfer_status(self, code, final))

    def onCallReplaceRequest(self, prm: pj.OnCallReplaceRequestParam) -> None:
        def accept() -> None:
            new = self.engine.new_call(self.acc, Direction.IN, self.remote_uri)
            prm.newCall = new
            self.replacement = new

        self.engine.guard(accept)

    def onCallReplaced(self, prm: pj.OnCallReplacedParam) -> None:
        def note() -> None:
            # prm.newCall comes back as a fresh SWIG proxy, not our object: keep our own link.
            new = self.replacement
            if new is None:
                new = self.engine.new_call(self.acc, Direction.IN, "", prm.newCallId)
                prm.newCall = new
            self.replacement = None
            self.engine.on_line_changed(new)

        self.engine.guard(note)
