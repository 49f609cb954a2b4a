"""One line of the two: who, what state, for how long, how good the sound is."""

from __future__ import annotations

import time

from desktop.qt import QtCore, QtWidgets
from desktop.softphone.engine.types import LineInfo, LineState, Quality


def duration_text(seconds: float) -> str:
    s = max(0, int(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def bars_text(bars: int) -> str:
    return "▮" * bars + "▯" * (5 - bars) if bars else "—"


class LinePanel(QtWidgets.QGroupBox):
    def __init__(self, slot: int, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.slot = slot
        self.setObjectName(f"line-{slot}")
        self.setTitle(self.tr("Линия {0}").format(slot))
        self.line: LineInfo | None = None
        self.name = ""
        self.select = QtWidgets.QRadioButton(self.tr("Выбрать (Alt+{0})").format(slot))
        self.select.setObjectName(f"line-select-{slot}")
        self.who = QtWidgets.QLabel()
        self.who.setObjectName("who")
        font = self.who.font()
        font.setBold(True)
        self.who.setFont(font)
        self.state_label = QtWidgets.QLabel()
        self.state_label.setObjectName("state")
        self.timer_label = QtWidgets.QLabel()
        self.timer_label.setObjectName("timer")
        self.quality_label = QtWidgets.QLabel()
        self.quality_label.setObjectName("quality")
        self.quality_label.setProperty("bars", 0)
        layout = QtWidgets.QGridLayout(self)
        layout.addWidget(self.select, 0, 0, 1, 2)
        layout.addWidget(self.who, 1, 0, 1, 2)
        layout.addWidget(self.state_label, 2, 0)
        layout.addWidget(self.timer_label, 2, 1, QtCore.Qt.AlignmentFlag.AlignRight)
        layout.addWidget(self.quality_label, 3, 1, QtCore.Qt.AlignmentFlag.AlignRight)
        self.show_line(None)

    def show_line(self, line: LineInfo | None, name: str = "") -> None:
        if line is None or line.id != (self.line.id if self.line else None):
            self.set_quality(Quality())
        self.line = line
        if name or line is None:
            self.name = name
        self.select.setEnabled(line is not None)
        if line is None:
            self.who.setText(self.tr("Свободна"))
            self.state_label.clear()
            self.timer_label.clear()
            return
        number = line.number
        # A contact's name from the directory first, else the caller's own display name.
        name = self.name or line.display_name
        self.who.setText(f"{name} ({number})" if name else number)
        self.state_label.setText(self.describe(line))
        self.tick()

    def describe(self, line: LineInfo) -> str:
        if line.state is LineState.INCOMING:
            return self.tr("Входящий вызов")
        if line.state is LineState.DIALING:
            return self.tr("Набор…")
        if line.state is LineState.RINGING:
            return self.tr("Вызов…")
        if line.state is LineState.CONNECTING:
            return self.tr("Соединение…")
        if line.state is LineState.ENDED:
            return self.tr("Завершён")
        if line.transfer_status is not None:
            return self.tr("Перевод…")
        parts = [self.tr("Разговор")]
        if line.in_conference:
            parts = [self.tr("Конференция")]
        if line.on_hold:
            parts = [self.tr("На удержании")]
        if line.remote_hold:
            parts.append(self.tr("удерживает вас"))
        if line.muted:
            parts.append(self.tr("микрофон выключен"))
        return ", ".join(parts)

    def tick(self) -> None:
        line = self.line
        if line is None or line.connected_at is None:
            self.timer_label.clear()
            return
        self.timer_label.setText(duration_text(time.monotonic() - line.connected_at))

    def set_quality(self, q: Quality) -> None:
        self.quality_label.setProperty("bars", q.bars)
        self.quality_label.setText(bars_text(q.bars))
        if q.bars:
            self.quality_label.setToolTip(
                self.tr("Потери {0:.1f} %, джиттер {1:.0f} мс, задержка {2:.0f} мс, {3}").format(
                    q.loss_percent, q.jitter_ms, q.rtt_ms, q.codec
                )
            )
