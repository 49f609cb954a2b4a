"""The CRM pane: the group's page for the current call, embedded when QtWebEngine can run.

QtWebEngine is imported only when the first page opens (it is heavy and most sessions may
never need it; importing it after the ``QApplication`` exists is fine, see
:mod:`desktop.qt`). It cannot run on the offscreen platform, so there — and with QtWebEngine
missing, or ``PULT_NO_WEBENGINE`` set — the pane shows the address as a link and an
«Открыть в браузере» button instead of a blank pane; so it does when the page's renderer dies.

Root: Chromium refuses to start as root with its sandbox on ("Running as root without
--no-sandbox is not supported") and the whole process aborts. A desktop session as root is
unusual, but it is what our test machine (and some kiosks) run, and a pane that works beats
a link, so when the effective uid is 0 and neither ``QTWEBENGINE_DISABLE_SANDBOX`` nor
``--no-sandbox`` in ``QTWEBENGINE_CHROMIUM_FLAGS`` is set, we set
``QTWEBENGINE_DISABLE_SANDBOX=1`` before the first import and log a warning. The pane only
shows the group's own CRM over http(s); ``PULT_NO_WEBENGINE=1`` turns it off for whoever
prefers the system browser.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from desktop.operator.crm import is_web_address
from desktop.qt import QtCore, QtGui, QtWidgets, web_engine

ON_OFFER = "offer"
ON_ANSWER = "answer"
SETTING = "operator/crm_open"

log = logging.getLogger(__name__)

#: How a page leaves for the system browser; tests replace it to see the address.
open_external: Callable[[QtCore.QUrl], Any] = QtGui.QDesktopServices.openUrl


def allow_root_without_sandbox() -> None:
    """As root, switch Chromium's sandbox off (it would abort the process otherwise)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return
    flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
    if os.environ.get("QTWEBENGINE_DISABLE_SANDBOX") or "--no-sandbox" in flags:
        return
    os.environ["QTWEBENGINE_DISABLE_SANDBOX"] = "1"
    log.warning("running as root: the CRM pane's browser runs without Chromium's sandbox")


def web_view_usable() -> bool:
    if os.environ.get("PULT_NO_WEBENGINE"):
        return False
    if QtGui.QGuiApplication.platformName() in ("offscreen", "minimal"):
        return False
    allow_root_without_sandbox()
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
            self._show_link()
            return
        view: Any = self.view  # a QWebEngineView; its module is imported only here
        if view is None:
            module = web_engine()
            assert module is not None
            view = self.view = module.QWebEngineView(self)
            view.setObjectName("crm-view")
            view.renderProcessTerminated.connect(self._renderer_gone)
            self.stack.addWidget(view)
        view.setUrl(QtCore.QUrl(url))
        self.stack.setCurrentWidget(view)

    def _show_link(self) -> None:
        self.note.setText(
            self.tr("Встроенный браузер недоступен — откройте страницу в браузере:")
            + "\n"
            + self.url
        )
        self.stack.setCurrentWidget(self.note)

    def _renderer_gone(self, status: Any, code: int) -> None:
        # A crashed or killed renderer leaves a blank view: the link is of more use.
        if getattr(status, "name", "") == "NormalTerminationStatus":
            return
        log.warning("CRM page renderer ended (%s, exit code %s)", status, code)
        if self.url:
            self._show_link()

    def open_in_browser(self) -> None:
        if self.url:
            open_external(QtCore.QUrl(self.url))
