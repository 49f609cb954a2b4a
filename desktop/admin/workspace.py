"""The domain admin panel: a list of sections on the left, the chosen section on the right.

``create(client, parent)`` is what the main window calls. Sections load their data the first
time they are opened, and leaving a section with unsaved edits asks first.
"""

from __future__ import annotations

from desktop.admin import english  # noqa: F401  (the admin panel's English texts)
from desktop.admin.sections import SECTIONS
from desktop.admin.widgets import dialogs
from desktop.admin.widgets.section import Section
from desktop.api.client import PultClient
from desktop.qt import QtGui, QtWidgets


class AdminWorkspace(QtWidgets.QWidget):
    def __init__(self, client: PultClient, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.sections: dict[str, Section] = {}
        self.nav = QtWidgets.QListWidget()
        self.nav.setObjectName("admin-sections")
        self.nav.setFixedWidth(190)
        self.stack = QtWidgets.QStackedWidget()
        for cls in SECTIONS:
            section = cls(client)
            section.setObjectName(f"section-{cls.key}")
            self.sections[cls.key] = section
            section.navigate.connect(self.open)
            self.nav.addItem(section.title())
            self.stack.addWidget(section)
        self._index = 0
        self.nav.currentRowChanged.connect(self._switch)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.nav.setCurrentRow(0)

    def current(self) -> Section:
        widget = self.stack.currentWidget()
        assert isinstance(widget, Section)
        return widget

    def open(self, key: str) -> Section:
        """Show a section by key (quick links and tests use it); returns it."""
        keys = list(self.sections)
        self.nav.setCurrentRow(keys.index(key))
        return self.current()

    def _switch(self, row: int) -> None:
        if row < 0 or (row == self.stack.currentIndex() and self.current().activated):
            return
        leaving = self.current()
        if row != self._index and leaving.is_dirty():
            if not dialogs.confirm_discard(self):
                self.nav.blockSignals(True)
                self.nav.setCurrentRow(self._index)
                self.nav.blockSignals(False)
                return
            leaving.discard()
        self._index = row
        self.stack.setCurrentIndex(row)
        if self.isVisible():
            self.current().activate()

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        # Nothing is fetched until the admin tab is actually opened.
        super().showEvent(event)
        self.current().activate()

    def has_unsaved_changes(self) -> bool:
        """For the main window to ask before signing out or closing."""
        return any(s.is_dirty() for s in self.sections.values())


def create(client: PultClient, parent: QtWidgets.QWidget | None = None) -> QtWidgets.QWidget:
    return AdminWorkspace(client, parent)
