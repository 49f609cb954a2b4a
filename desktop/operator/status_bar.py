"""The operator's status buttons and the system state, with keyboard shortcuts.

Ctrl+1 ready, Ctrl+2 break (the reason menu when there are several reasons), Ctrl+3 away,
Ctrl+4 offline; Ctrl+Shift+<n> takes the break with the n-th reason directly. Window-wide
(the operator works in the softphone tab too), and no other workspace uses Ctrl+digits.
The buttons only ask: the status shown is the one the server answers with.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from desktop.operator import texts
from desktop.qt import QtCore, QtGui, QtWidgets, Signal

STATUS_KEYS = {"ready": "Ctrl+1", "break": "Ctrl+2", "away": "Ctrl+3", "offline": "Ctrl+4"}
MAX_REASON_KEYS = 9


def _since(value: Any) -> tuple[str, float] | None:
    """The clock time of an ISO timestamp and its epoch seconds (None when absent)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return at.astimezone().strftime("%H:%M:%S"), at.timestamp()


class StatusControl(QtWidgets.QWidget):
    """Emits ``status_requested(status, reason_id or 0)``."""

    status_requested = Signal(str, int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.reasons: list[dict[str, Any]] = []
        self.status = "offline"
        self.reason: str | None = None
        self.buttons: dict[str, QtWidgets.QToolButton] = {}
        row = QtWidgets.QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QtWidgets.QLabel(self.tr("Статус:")))
        group = QtWidgets.QButtonGroup(self)
        group.setExclusive(True)
        for status in ("ready", "break", "away", "offline"):
            button = QtWidgets.QToolButton()
            button.setObjectName(f"status-{status}")
            button.setCheckable(True)
            button.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setText(texts.own_status(status))
            button.setToolTip(STATUS_KEYS[status])
            button.clicked.connect(lambda _=False, s=status: self.request(s))
            group.addButton(button)
            self.buttons[status] = button
            row.addWidget(button)
            shortcut = QtGui.QShortcut(QtGui.QKeySequence(STATUS_KEYS[status]), self)
            shortcut.setContext(QtCore.Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(lambda s=status: self.request(s))
        row.addStretch(1)

        self.reason_menu = QtWidgets.QMenu(self)
        self.reason_menu.setObjectName("break-reasons")
        self.reason_menu.setTitle(self.tr("Причина перерыва"))
        self.reason_shortcuts: list[QtGui.QShortcut] = []

        self.state_label = QtWidgets.QLabel()
        self.state_label.setObjectName("operator-state")
        font = self.state_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.state_label.setFont(font)
        self._state = ("idle", "", 0.0)
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._show_state)

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.state_label)
        self.show_status("offline", None)

    # -- what the server says ---------------------------------------------------------------

    def set_reasons(self, reasons: list[dict[str, Any]]) -> None:
        self.reasons = reasons
        self.reason_menu.clear()
        for shortcut in self.reason_shortcuts:
            shortcut.setEnabled(False)
            shortcut.deleteLater()
        self.reason_shortcuts = []
        for n, reason in enumerate(reasons, start=1):
            action = self.reason_menu.addAction(str(reason["name"]))
            rid = int(reason["id"])
            action.triggered.connect(lambda _=False, r=rid: self.status_requested.emit("break", r))
            if n <= MAX_REASON_KEYS:
                keys = QtGui.QKeySequence(f"Ctrl+Shift+{n}")
                action.setShortcut(keys)  # shown in the menu; the QShortcut does the work
                shortcut = QtGui.QShortcut(keys, self)
                shortcut.setContext(QtCore.Qt.ShortcutContext.WindowShortcut)
                shortcut.activated.connect(lambda r=rid: self.status_requested.emit("break", r))
                self.reason_shortcuts.append(shortcut)

    def show_status(self, status: str, reason: str | None) -> None:
        self.status, self.reason = status, reason
        for key, button in self.buttons.items():
            button.setChecked(key == status)
        label = texts.own_status("break")
        if status == "break" and reason:
            label = self.tr("Перерыв: {0}").format(reason)
        self.buttons["break"].setText(label)

    def show_state(self, me: dict[str, Any]) -> None:
        state = str(me.get("state") or "idle")
        since = _since(me.get("since"))
        clock, epoch = since if since else ("", time.time())
        # The status is what is worth reading when the system has nothing going on.
        name = texts.state(state)
        if state == "idle":
            name = texts.own_status(str(me.get("status") or "offline"))
        self._state = (name, clock, epoch)
        self._show_state()
        self._timer.start()

    def _show_state(self) -> None:
        name, clock, epoch = self._state
        if not clock:
            self.state_label.setText(name)
            return
        elapsed = texts.duration(time.time() - epoch)
        self.state_label.setText(self.tr("{0} · с {1} ({2})").format(name, clock, elapsed))

    # -- what the person asks ------------------------------------------------------------------

    def request(self, status: str) -> None:
        # A click toggles the button at once; show the server's answer, not the wish.
        self.show_status(self.status, self.reason)
        if status != "break" or not self.reasons:
            self.status_requested.emit(status, 0)
        elif len(self.reasons) == 1:
            self.status_requested.emit(status, int(self.reasons[0]["id"]))
        else:
            button = self.buttons["break"]
            self.reason_menu.popup(button.mapToGlobal(QtCore.QPoint(0, button.height())))
