"""Configurable keyboard shortcuts for the call actions, stored in QSettings."""

from __future__ import annotations

from desktop.qt import QtCore

GROUP = "softphone/hotkeys"

#: action -> default key sequence (function keys: they never collide with typing a number).
DEFAULTS: dict[str, str] = {
    "answer": "F5",
    "hangup": "F6",
    "hold": "F7",
    "mute": "F8",
    "transfer": "F9",
}


def load(settings: QtCore.QSettings) -> dict[str, str]:
    return {
        action: str(settings.value(f"{GROUP}/{action}", default) or "")
        for action, default in DEFAULTS.items()
    }


def save(settings: QtCore.QSettings, keys: dict[str, str]) -> None:
    for action in DEFAULTS:
        settings.setValue(f"{GROUP}/{action}", keys.get(action, ""))
    settings.sync()
