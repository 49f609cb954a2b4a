"""After-call work: a countdown with «Завершить» (ready at once) and «Продлить» (once).

The server owns the timer and ends the work itself; the countdown here only shows it, counted
from the remaining seconds the server last sent (no request per second).
"""

from __future__ import annotations

import time
from typing import Any

from desktop.operator import texts
from desktop.qt import QtCore, QtWidgets, Signal


class PostCallPanel(QtWidgets.QFrame):
    finish_requested = Signal()
    extend_requested = Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("post-call")
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self.label = QtWidgets.QLabel()
        self.label.setObjectName("post-call-countdown")
        self.finish_button = QtWidgets.QPushButton(self.tr("Завершить"))
        self.finish_button.setObjectName("post-call-finish")
        self.extend_button = QtWidgets.QPushButton(self.tr("Продлить"))
        self.extend_button.setObjectName("post-call-extend")
        self.finish_button.clicked.connect(self.finish_requested)
        self.extend_button.clicked.connect(self.extend_requested)
        layout = QtWidgets.QHBoxLayout(self)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.extend_button)
        layout.addWidget(self.finish_button)
        self._ends_at = 0.0
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)
        self.hide()

    def show_me(self, me: dict[str, Any]) -> None:
        remaining = me.get("post_call_remaining_seconds")
        if me.get("state") != "post_call" or remaining is None:
            self._timer.stop()
            self.hide()
            return
        self._ends_at = time.monotonic() + float(remaining)
        self.extend_button.setEnabled(bool(me.get("post_call_extendable")))
        self.finish_button.setEnabled(True)
        self._tick()
        self._timer.start()
        self.show()

    def remaining(self) -> int:
        return max(0, round(self._ends_at - time.monotonic()))

    def _tick(self) -> None:
        self.label.setText(
            self.tr("Поствызывная обработка: осталось {0}").format(texts.duration(self.remaining()))
        )
