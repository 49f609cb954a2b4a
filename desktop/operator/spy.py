"""Joining an operator's call (spec 02 §5.1): listen, whisper or barge in.

POST /api/acd/spy {operator_id, mode} answers with the ``target`` the supervisor's softphone
dials; the mode can be switched during the session (PATCH) and «Закончить» ends it (DELETE).
Only an operator on an incoming call can be joined (the spec's reading of «Вызывается»).
"""

from __future__ import annotations

from typing import Any

from desktop.operator import texts
from desktop.qt import QtWidgets, Signal

MODES = ("listen", "whisper", "barge")
JOINABLE_STATES = ("incoming_call",)


class SpyPanel(QtWidgets.QGroupBox):
    """Emits ``start_requested(operator_id, mode)``, ``mode_requested(mode)``, ``end_requested``."""

    start_requested = Signal(int, str)
    mode_requested = Signal(str)
    end_requested = Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Участие в разговоре"))
        self.setObjectName("spy")
        self.operator: dict[str, Any] | None = None
        self.session: dict[str, Any] | None = None
        self.buttons: dict[str, QtWidgets.QPushButton] = {}
        row = QtWidgets.QHBoxLayout()
        for mode in MODES:
            button = QtWidgets.QPushButton(self.tr(texts.SPY_MODES[mode]))
            button.setObjectName(f"spy-{mode}")
            button.setCheckable(True)
            button.clicked.connect(lambda _=False, m=mode: self._clicked(m))
            self.buttons[mode] = button
            row.addWidget(button)
        self.end_button = QtWidgets.QPushButton(self.tr("Закончить"))
        self.end_button.setObjectName("spy-end")
        self.end_button.clicked.connect(self.end_requested)
        row.addWidget(self.end_button)
        self.info_label = QtWidgets.QLabel()
        self.info_label.setObjectName("spy-info")
        self.info_label.setWordWrap(True)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.info_label)
        self._refresh()

    def set_operator(self, row: dict[str, Any] | None) -> None:
        self.operator = row
        self._refresh()

    def set_session(self, session: dict[str, Any] | None, name: str = "") -> None:
        self.session = session
        self.session_name = name
        self._refresh()

    def _joinable(self) -> bool:
        return self.operator is not None and self.operator.get("state") in JOINABLE_STATES

    def _clicked(self, mode: str) -> None:
        if self.session is not None:
            if mode != self.session.get("mode"):
                self.mode_requested.emit(mode)
        elif self.operator is not None:
            self.start_requested.emit(int(self.operator["user_id"]), mode)
        self._refresh()  # checked = the server's mode, set when it answers

    def _refresh(self) -> None:
        active = self.session is not None
        for mode, button in self.buttons.items():
            button.setEnabled(active or self._joinable())
            button.setChecked(
                active and self.session is not None and self.session.get("mode") == mode
            )
        self.end_button.setEnabled(active)
        if self.session is not None:
            mode = self.tr(texts.SPY_MODES.get(str(self.session.get("mode")), ""))
            self.info_label.setText(
                self.tr("Режим: {0} · оператор {1}").format(mode, self.session_name)
            )
        elif not self._joinable():
            self.info_label.setText(self.tr("Выберите оператора в разговоре"))
        else:
            self.info_label.clear()

    def show_error(self, text: str) -> None:
        self.info_label.setText(text)
