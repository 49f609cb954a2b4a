"""The engine seen from Qt: a QTimer polls it, its events become signals.

The engine is single-threaded (pjsua2 ``mainThreadOnly``) and runs every callback inside
``poll``; polling from a QTimer on the GUI thread means every signal here is emitted on the GUI
thread too, so widgets connect to them directly.
"""

from __future__ import annotations

import logging

from desktop.qt import QtCore, Signal
from desktop.softphone.engine.api import EngineAPI
from desktop.softphone.engine.types import Event, EventKind

log = logging.getLogger(__name__)

POLL_MS = 20


class EngineAdapter(QtCore.QObject):
    registration_changed = Signal(object)  # Registration
    line_changed = Signal(object)  # LineInfo
    incoming = Signal(object)  # LineInfo
    line_ended = Signal(object)  # LineInfo
    dtmf_received = Signal(object, str)  # LineInfo, digit
    transfer_progress = Signal(object, int, bool)  # LineInfo, SIP status, final
    devices_changed = Signal()
    failed = Signal(str)
    #: Listen/whisper/barge news: the mode on this phone, or a supervisor's change answered.
    spy_changed = Signal(dict)

    def __init__(self, engine: EngineAPI, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.running = False
        self.timer = QtCore.QTimer(self)
        self.timer.setObjectName("softphone-poll")
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        engine.add_listener(self._on_event)

    def start(self) -> None:
        if not self.running:
            self.engine.start()
            self.running = True
        self.timer.start()

    def stop(self) -> None:
        """Ordered shutdown: stop polling, then let the engine hang up and destroy pjsua."""
        self.timer.stop()
        if self.running:
            self.running = False
            self.engine.shutdown()

    def poll(self) -> None:
        try:
            self.engine.poll(0)
        except Exception:
            log.exception("softphone poll failed")

    def _on_event(self, event: Event) -> None:
        kind = event.kind
        if kind is EventKind.REGISTRATION:
            self.registration_changed.emit(event.registration)
        elif kind is EventKind.LINE and event.line is not None:
            self.line_changed.emit(event.line)
        elif kind is EventKind.INCOMING and event.line is not None:
            self.incoming.emit(event.line)
        elif kind is EventKind.ENDED and event.line is not None:
            self.line_ended.emit(event.line)
        elif kind is EventKind.DTMF and event.line is not None:
            self.dtmf_received.emit(event.line, str(event.data.get("digit", "")))
        elif kind is EventKind.TRANSFER and event.line is not None:
            self.transfer_progress.emit(
                event.line, int(event.data.get("status", 0)), bool(event.data.get("final"))
            )
        elif kind is EventKind.DEVICES:
            self.devices_changed.emit()
        elif kind is EventKind.SPY:
            self.spy_changed.emit(dict(event.data))
        elif kind is EventKind.ERROR:
            self.failed.emit(str(event.data.get("message", "")))
