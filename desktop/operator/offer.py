"""An offered call: the group's greeting to read out, who calls, and the time left to answer."""

from __future__ import annotations

import time
from typing import Any

from desktop.qt import QtCore, QtWidgets, Signal


class OfferPanel(QtWidgets.QFrame):
    """Emits ``accept_requested(offer_id)`` / ``reject_requested(offer_id)``."""

    accept_requested = Signal(int)
    reject_requested = Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("offer")
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self.offer: dict[str, Any] | None = None
        self.caller_name = ""
        self.title_label = QtWidgets.QLabel()
        self.title_label.setObjectName("offer-group")
        self.greeting_label = QtWidgets.QLabel()
        self.greeting_label.setObjectName("offer-greeting")
        self.greeting_label.setWordWrap(True)
        self.greeting_label.setTextInteractionFlags(
            QtCore.Qt.TextInteractionFlag.TextSelectableByMouse
        )
        font = self.greeting_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        self.greeting_label.setFont(font)
        self.caller_label = QtWidgets.QLabel()
        self.caller_label.setObjectName("offer-caller")
        bold = self.caller_label.font()
        bold.setBold(True)
        self.caller_label.setFont(bold)
        self.number_label = QtWidgets.QLabel()
        self.number_label.setObjectName("offer-number")
        self.number_label.setTextInteractionFlags(
            QtCore.Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self.countdown_label = QtWidgets.QLabel()
        self.countdown_label.setObjectName("offer-countdown")
        self.accept_button = QtWidgets.QPushButton(self.tr("Принять"))
        self.accept_button.setObjectName("offer-accept")
        self.reject_button = QtWidgets.QPushButton(self.tr("Отклонить"))
        self.reject_button.setObjectName("offer-reject")
        self.accept_button.clicked.connect(lambda: self._ask(self.accept_requested))
        self.reject_button.clicked.connect(lambda: self._ask(self.reject_requested))

        card = QtWidgets.QVBoxLayout()
        card.addWidget(self.caller_label)
        card.addWidget(self.number_label)
        card.addWidget(self.countdown_label)
        buttons = QtWidgets.QVBoxLayout()
        buttons.addWidget(self.accept_button)
        buttons.addWidget(self.reject_button)
        buttons.addStretch(1)
        bottom = QtWidgets.QHBoxLayout()
        bottom.addLayout(card, 1)
        bottom.addLayout(buttons)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.title_label)
        layout.addWidget(self.greeting_label)
        layout.addLayout(bottom)
        self._expires = 0.0
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)
        self.hide()

    def show_offer(self, offer: dict[str, Any] | None) -> bool:
        """Show (or hide) an offer; True when it is a new one (a different offer id)."""
        if not offer:
            self.offer = None
            self._timer.stop()
            self.hide()
            return False
        new = self.offer is None or self.offer.get("id") != offer.get("id")
        self.offer = offer
        if new:
            self.caller_name = ""
        self.title_label.setText(self.tr("Входящий вызов · {0}").format(offer.get("group_name")))
        self.greeting_label.setText(str(offer.get("greeting_text") or ""))
        self.greeting_label.setVisible(bool(offer.get("greeting_text")))
        self._show_caller()
        self._expires = time.monotonic() + float(offer.get("seconds_left") or 0)
        self._tick()
        self._timer.start()
        self.accept_button.setEnabled(True)
        self.reject_button.setEnabled(True)
        self.show()
        return new

    def set_caller_name(self, offer_id: int, name: str) -> None:
        """The address books' name for the caller (arrives after the offer is shown)."""
        if self.offer is not None and self.offer.get("id") == offer_id:
            self.caller_name = name
            self._show_caller()

    def _show_caller(self) -> None:
        assert self.offer is not None
        number = str(self.offer.get("caller") or "")
        name = self.caller_name or self.tr("Неизвестный абонент")
        vip = f"  ★ {self.tr('VIP-клиент')}" if self.offer.get("vip") else ""
        self.caller_label.setText(name + vip)
        self.number_label.setText(self.tr("Звонит: {0}").format(number))

    def _tick(self) -> None:
        left = max(0, round(self._expires - time.monotonic()))
        self.countdown_label.setText(self.tr("Ответить в течение {0} с").format(left))

    def _ask(self, signal: Any) -> None:
        if self.offer is None:
            return
        self.accept_button.setEnabled(False)
        self.reject_button.setEnabled(False)
        signal.emit(int(self.offer["id"]))
