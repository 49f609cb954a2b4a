"""An engine with the real one's interface and no SIP: the UI tests play the far ends.

It keeps the rules the widgets rely on (two lines, holding the other line when one is taken,
DND and busy refusals, auto-answer after a delay, conference groups) and logs every action,
so a test can check both what the person sees and what the engine was asked to do.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from desktop.softphone.engine.devices import AudioChoice, SoundDevice
from desktop.softphone.engine.types import (
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
    number_of,
    target_uri,
)


class FakeEngine:
    def __init__(self) -> None:
        self.dnd = False
        self.auto_answer: float | None = None
        self.listeners: list[Listener] = []
        self.started = False
        self.stopped = False
        self.account: SipAccount | None = None
        self._registration = Registration()
        self._lines: dict[int, LineInfo] = {}
        self._next = 1
        self.actions: list[tuple[Any, ...]] = []
        self.devices = [
            SoundDevice("Built-in Microphone", 1, 0, 0),
            SoundDevice("Built-in Speakers", 0, 2, 1),
            SoundDevice("USB Headset", 1, 2, 2),
        ]
        self._audio = AudioChoice()
        self.timers: list[tuple[float, int]] = []
        self.polls = 0
        self.quality_value = Quality(4, 0.5, 12.0, 30.0, "G722/16000")

    # --- the interface -----------------------------------------------------------------------
    def add_listener(self, listener: Listener) -> None:
        self.listeners.append(listener)

    def start(self) -> None:
        self.started = True

    def shutdown(self) -> None:
        self.stopped = True
        self.started = False

    def poll(self, timeout_ms: int = 0) -> None:
        self.polls += 1
        now = time.monotonic()
        for due, line_id in [t for t in self.timers if t[0] <= now]:
            self.timers.remove((due, line_id))
            line = self._lines.get(line_id)
            if line is not None and line.state is LineState.INCOMING:
                self.answer(line_id)

    def register(self, account: SipAccount) -> None:
        self.account = account
        self.actions.append(("register", account.login))
        self._set_reg(Registration(registered=True, code=200, reason="OK", expires=300))

    def unregister(self) -> None:
        self._set_reg(Registration())

    @property
    def registration(self) -> Registration:
        return self._registration

    def network_changed(self) -> None:
        self.actions.append(("network_changed",))

    def lines(self) -> list[LineInfo]:
        return [ln for ln in self._lines.values() if ln.live]

    def dial(self, target: str) -> int:
        if len(self.lines()) >= 2:
            raise EngineError("lines_busy")
        try:
            uri = target_uri(target, "demo.pult")
        except ValueError as exc:
            raise EngineError("bad_target", target) from exc
        self._hold_others(None)
        line = self._new(Direction.OUT, uri, LineState.DIALING)
        self.actions.append(("dial", target))
        self._emit(EventKind.LINE, line)
        return line.id

    def answer(self, line_id: int) -> None:
        line = self._get(line_id)
        if line.state is not LineState.INCOMING:
            raise EngineError("not_ringing")
        self._hold_others(line_id)
        self.actions.append(("answer", line_id))
        self._update(line_id, state=LineState.TALKING, connected_at=time.monotonic(), answered=True)

    def reject(self, line_id: int) -> None:
        self._get(line_id)
        self.actions.append(("reject", line_id))
        self._end(line_id, status_code=486, reason="rejected")

    def hangup(self, line_id: int) -> None:
        self._get(line_id)
        self.actions.append(("hangup", line_id))
        self._end(line_id, status_code=200, reason="Normal call clearing")

    def hold(self, line_id: int) -> None:
        self._get(line_id)
        self.actions.append(("hold", line_id))
        self._update(line_id, on_hold=True)

    def resume(self, line_id: int) -> None:
        self._get(line_id)
        self._hold_others(line_id)
        self.actions.append(("resume", line_id))
        self._update(line_id, on_hold=False)

    def set_mute(self, line_id: int, muted: bool) -> None:
        self._get(line_id)
        self.actions.append(("mute", line_id, muted))
        self._update(line_id, muted=muted)

    def send_dtmf(self, line_id: int, digits: str) -> None:
        self._get(line_id)
        self.actions.append(("dtmf", line_id, digits))

    def blind_transfer(self, line_id: int, target: str) -> None:
        self._get(line_id)
        self.actions.append(("blind_transfer", line_id, target))
        self._update(line_id, transfer_status=0)

    def attended_transfer(self, line_id: int, other_id: int) -> None:
        self._get(line_id)
        self._get(other_id)
        self.actions.append(("attended_transfer", line_id, other_id))
        self._update(line_id, transfer_status=0)

    def conference(self, line_id: int, other_id: int) -> None:
        group = frozenset({line_id, other_id})
        self.actions.append(("conference", line_id, other_id))
        for i in (line_id, other_id):
            self._update(i, conference=group, on_hold=False)

    def split(self, line_id: int) -> None:
        line = self._get(line_id)
        self.actions.append(("split", line_id))
        for i in line.conference:
            self._update(i, conference=frozenset({i}), on_hold=i != line_id)

    def quality(self, line_id: int) -> Quality:
        self._get(line_id)
        return self.quality_value

    def set_spy_mode(self, line_id: int, mode: str) -> None:
        line = self._get(line_id)
        if line.state is not LineState.TALKING:
            raise EngineError("not_talking", str(line_id))
        self.actions.append(("spy_mode", line_id, mode))
        self._emit(EventKind.SPY, line, mode=mode, status=200, reason="OK", accepted=True)

    def sound_devices(self) -> list[SoundDevice]:
        return list(self.devices)

    def set_audio(self, choice: AudioChoice) -> None:
        self._audio = choice
        self.actions.append(("set_audio", choice))

    @property
    def audio(self) -> AudioChoice:
        return self._audio

    # --- the far ends ------------------------------------------------------------------------
    def ring(self, number: str, display_name: str = "") -> int:
        """A call arrives; refused without ringing under DND or with both lines busy."""
        uri = (
            f'"{display_name}" <sip:{number}@demo.pult>'
            if display_name
            else f"sip:{number}@demo.pult"
        )
        busy = len(self.lines()) >= 2
        line = self._new(Direction.IN, uri, LineState.INCOMING)
        if self.dnd or busy:
            self._end(line.id, status_code=486, reason="dnd" if self.dnd else "busy")
            return line.id
        self._emit(EventKind.INCOMING, line)
        self._emit(EventKind.LINE, line)
        if self.auto_answer is not None and len(self.lines()) == 1:
            self.timers.append((time.monotonic() + self.auto_answer, line.id))
        return line.id

    def remote_answer(self, line_id: int) -> None:
        self._update(line_id, state=LineState.TALKING, connected_at=time.monotonic(), answered=True)

    def remote_ringing(self, line_id: int) -> None:
        self._update(line_id, state=LineState.RINGING)

    def remote_hangup(self, line_id: int) -> None:
        self._end(line_id, status_code=200, reason="BYE")

    def remote_dtmf(self, line_id: int, digit: str) -> None:
        self._emit(EventKind.DTMF, self._get(line_id), digit=digit, method="rfc2833")

    def transfer_done(self, line_id: int, status: int = 200) -> None:
        line = self._update(line_id, transfer_status=status)
        self._emit(EventKind.TRANSFER, line, status=status, final=True)
        if 200 <= status < 300:
            self._end(line_id, status_code=200, reason="transferred")

    def plug(self, device: SoundDevice) -> None:
        self.devices.append(device)
        self._emit_plain(Event(EventKind.DEVICES))

    def unplug(self, name: str) -> None:
        self.devices = [d for d in self.devices if d.name != name]
        self._emit_plain(Event(EventKind.DEVICES))

    def registration_failed(self, code: int, reason: str) -> None:
        self._set_reg(Registration(registered=False, code=code, reason=reason, retrying=True))

    # --- plumbing ----------------------------------------------------------------------------
    def _new(self, direction: Direction, uri: str, state: LineState) -> LineInfo:
        from desktop.softphone.engine.types import display_name_of

        line = LineInfo(
            id=self._next,
            direction=direction,
            remote_uri=uri,
            number=number_of(uri),
            display_name=display_name_of(uri),
            state=state,
            conference=frozenset({self._next}),
            started_at=time.time(),
        )
        self._next += 1
        self._lines[line.id] = line
        return line

    def _get(self, line_id: int) -> LineInfo:
        line = self._lines.get(line_id)
        if line is None or not line.live:
            raise EngineError("no_line", str(line_id))
        return line

    def _update(self, line_id: int, **changes: Any) -> LineInfo:
        line = replace(self._lines[line_id], **changes)
        self._lines[line_id] = line
        self._emit(EventKind.LINE, line)
        return line

    def _hold_others(self, keep: int | None) -> None:
        group = self._lines[keep].conference if keep in self._lines else frozenset()
        for line in self.lines():
            talking = line.state is LineState.TALKING and not line.on_hold
            if line.id != keep and line.id not in group and talking:
                self._update(line.id, on_hold=True)

    def _end(self, line_id: int, **changes: Any) -> None:
        line = replace(self._lines[line_id], state=LineState.ENDED, ended_at=time.time(), **changes)
        self._lines[line_id] = line
        for other in self.lines():
            if line_id in other.conference:
                self._lines[other.id] = replace(other, conference=frozenset({other.id}))
        self._emit(EventKind.ENDED, line)

    def _emit(self, kind: EventKind, line: LineInfo, **data: Any) -> None:
        self._emit_plain(Event(kind, line=line, data=data))

    def _emit_plain(self, event: Event) -> None:
        for listener in list(self.listeners):
            listener(event)

    def _set_reg(self, reg: Registration) -> None:
        self._registration = reg
        self._emit_plain(Event(EventKind.REGISTRATION, registration=reg))
