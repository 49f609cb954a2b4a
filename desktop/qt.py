"""The one module that imports PySide6 (and qasync, which picks a Qt binding on import).

Everything else in ``desktop`` writes ``from desktop.qt import QtCore, QtWidgets`` so the binding
can be swapped or pinned in one place, as qutebrowser does with ``qutebrowser/qt``.

``QEventLoop`` (qasync) is imported on first use: qasync brings asyncio (~35 ms on a cold
start), and the login window is painted on Qt's own loop before any of that loads
(:func:`desktop.app.run`).
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import TYPE_CHECKING

# qasync chooses the first Qt binding it finds unless told; we ship PySide6 only.
os.environ.setdefault("QT_API", "pyside6")

from PySide6 import QtCore, QtGui, QtNetwork, QtWidgets
from PySide6.QtCore import Signal, Slot

# QtWebEngine is imported on the first CRM page, after the QApplication exists. Older Qt
# versions then warn that AA_ShareOpenGLContexts should have been set first; it is not set
# here because touching QtCore.Qt before the login window's first paint makes PySide build
# every Qt enum (~30 ms measured, a fifth of the start-up budget), and 6.12 needs no attribute.

if TYPE_CHECKING:
    from qasync import QEventLoop

__all__ = [
    "QEventLoop",
    "QtCore",
    "QtGui",
    "QtNetwork",
    "QtWidgets",
    "Signal",
    "Slot",
    "web_engine",
]


def web_engine() -> ModuleType | None:
    """``QtWebEngineWidgets`` if installed, imported on first use (it is heavy: never at start)."""
    try:
        from PySide6 import QtWebEngineWidgets
    except ImportError:
        return None
    return QtWebEngineWidgets


def __getattr__(name: str) -> object:
    # PEP 562: ``from desktop.qt import QEventLoop`` lands here the first time only.
    if name == "QEventLoop":
        from qasync import QEventLoop

        globals()[name] = QEventLoop
        return QEventLoop
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
