"""The one module that imports PySide6 (and qasync, which picks a Qt binding on import).

Everything else in ``desktop`` writes ``from desktop.qt import QtCore, QtWidgets`` so the binding
can be swapped or pinned in one place, as qutebrowser does with ``qutebrowser/qt``.
"""

from __future__ import annotations

import os

# qasync chooses the first Qt binding it finds unless told; we ship PySide6 only.
os.environ.setdefault("QT_API", "pyside6")

from PySide6 import QtCore, QtGui, QtNetwork, QtWidgets
from PySide6.QtCore import Signal, Slot
from qasync import QEventLoop

__all__ = ["QEventLoop", "QtCore", "QtGui", "QtNetwork", "QtWidgets", "Signal", "Slot"]
