"""The CRM pane: the group's page for the current call, embedded when QtWebEngine can run.

QtWebEngine is imported only when the first page opens (it is heavy and most sessions may
never need it). It cannot run on the offscreen platform, and Chromium refuses to start as root
without its sandbox switched off, so those cases — and a missing QtWebEngine — get the address
as a link and an «Открыть в браузере» button instead of a blank pane.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from desktop.operator.crm import is_web_address
from desktop.qt import QtCore, QtGui, QtWidgets, web_engine

ON_OFFER = "offer"
ON_ANSWER = "answer"
SETTING = "operator/crm_open"

#: How a page leaves for the system browser; tests replace it to see the address.
open_external: Callable[[QtCore.QUrl], Any] = QtGui.QDesktopServices.openUrl


def web_view_usable() -> bool:
    if os.environ.get("PULT_NO_WEBENGINE"):
        return False
    if QtGui.QGuiApplication.platformName() in ("offscreen", "minimal"):
        return False
    flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
    no_sandbox = "--no-sandbox" in flags or os.environ.get("QTWEBENGINE_DISABLE_SANDBOX")
    if hasattr(os, "geteuid") and os.geteuid() == 0 and not no_sandbox:
        return False
    return web_engine() is not None


class CrmPanel(QtWidgets.QWidget):
    def __init__(self, settings: QtCore.QSettings, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.url = ""
        self.view: QtWidgets.QWidget | None = None
        self._usable: bool | None = None

        self.mode_combo = QtWidgets.QComboBox()
        self.mode_combo.setObjectName("crm-open-mode")
        self.mode_combo.addItem(self.tr("при поступлении вызова"), ON_OFFER)
        self.mode_combo.addItem(self.tr("при ответе"), ON_ANSWER)
        saved = str(settings.value(SETTING, ON_OFFER))
        self.mode_combo.setCurrentIndex(max(0, self.mode_combo.findData(saved)))
        self.mode_combo.currentIndexChanged.connect(self._save_mode)
        self.link_label = QtWidgets.QLabel()
        self.link_label.setObjectName("crm-url")
        self.link_label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.link_label.setSizePolicy(
            QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred
        )
        self.browser_button = QtWidgets.QPushButton(self.tr("Открыть в браузере"))
        self.browser_button.setObjectName("crm-open-browser")
        self.browser_button.setEnabled(False)
        self.browser_button.clicked.connect(self.open_in_browser)

        self.note = QtWidgets.QLabel(self.tr("Страница CRM откроется при вызове"))
        self.note.setObjectName("crm-note")
        self.note.setWordWrap(True)
        self.note.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.stack = QtWidgets.QStackedWidget()
        self.stack.addWidget(self.note)

        top = QtWidgets.QHBoxLayout()
        top.addWidget(QtWidgets.QLabel(self.tr("Открывать CRM:")))
        top.addWidget(self.mode_combo)
        top.addWidget(self.link_label, 1)
        top.addWidget(self.browser_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)

    @property
    def mode(self) -> str:
        return str(self.mode_combo.currentData())

    def _save_mode(self) -> None:
        self.settings.setValue(SETTING, self.mode)
        self.settings.sync()

    def open(self, url: str) -> None:
        """Show ``url`` (empty: the group has no CRM address)."""
        if not url or not is_web_address(url):
            self.url = ""
            self.link_label.clear()
            self.browser_button.setEnabled(False)
            self.note.setText(self.tr("Для этой группы адрес CRM не задан"))
            self.stack.setCurrentWidget(self.note)
            return
        self.url = url
        self.link_label.setText(url)
        self.link_label.setToolTip(url)
        self.browser_button.setEnabled(True)
        if self._usable is None:
            self._usable = web_view_usable()
        if not self._usable:
            self.note.setText(
                self.tr("Встроенный браузер недоступен — откройте страницу в браузере:")
                + "\n"
                + url
            )
            self.stack.setCurrentWidget(self.note)
            return
        if self.view is None:
            module = web_engine()
            assert module is not None
            self.view = module.QWebEngineView(self)
            self.view.setObjectName("crm-view")
            self.stack.addWidget(self.view)
        self.view.setUrl(QtCore.QUrl(url))  # type: ignore[union-attr]
        self.stack.setCurrentWidget(self.view)

    def open_in_browser(self) -> None:
        if self.url:
            open_external(QtCore.QUrl(self.url))
