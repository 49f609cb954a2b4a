"""Twelve keys; a press is a digit for the number field or a DTMF tone in a call."""

from __future__ import annotations

from desktop.qt import QtCore, QtWidgets, Signal

KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#")
LETTERS = {
    "2": "ABC",
    "3": "DEF",
    "4": "GHI",
    "5": "JKL",
    "6": "MNO",
    "7": "PQRS",
    "8": "TUV",
    "9": "WXYZ",
    "0": "+",
}


def key_name(key: str) -> str:
    return {"*": "star", "#": "hash"}.get(key, key)


class DialPad(QtWidgets.QWidget):
    pressed = Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dialpad")
        grid = QtWidgets.QGridLayout(self)
        grid.setSpacing(4)
        self.buttons: dict[str, QtWidgets.QPushButton] = {}
        for i, key in enumerate(KEYS):
            button = QtWidgets.QPushButton(f"{key}\n{LETTERS.get(key, '')}".rstrip())
            button.setObjectName(f"key-{key_name(key)}")
            button.setMinimumSize(QtCore.QSize(52, 40))
            # Keys are reached with the digit keys themselves; Tab skips the twelve buttons.
            button.setFocusPolicy(QtCore.Qt.FocusPolicy.NoFocus)
            button.clicked.connect(lambda _=False, k=key: self.pressed.emit(k))
            grid.addWidget(button, i // 3, i % 3)
            self.buttons[key] = button
