"""The application: the login window, then the main window, and back on sign-out."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from desktop.api.client import PultClient
from desktop.common import i18n
from desktop.common.credentials import CredentialStore
from desktop.login import ClientFactory, LoginWindow
from desktop.main_window import MainWindow
from desktop.qt import QEventLoop, QtCore, QtGui, QtWidgets

ICON = Path(__file__).resolve().parent.parent / "resources" / "icons" / "pult.svg"


class Controller(QtCore.QObject):
    """Owns the windows and the signed-in client; nothing else keeps a reference to them."""

    def __init__(
        self,
        *,
        client_factory: ClientFactory,
        store: CredentialStore,
        server: str | None = None,
    ) -> None:
        super().__init__()
        self.login_window = LoginWindow(client_factory=client_factory, store=store, server=server)
        self.login_window.logged_in.connect(self._open_main)
        self.main_window: MainWindow | None = None

    def start(self) -> None:
        self.login_window.show()

    def _open_main(self, client: PultClient) -> None:
        self.main_window = MainWindow(client)
        self.main_window.signed_out.connect(self._back_to_login)
        if self.login_window.notice:
            self.main_window.statusBar().showMessage(self.login_window.notice)
        self.main_window.show()
        self.login_window.hide()

    def _back_to_login(self) -> None:
        self.login_window.reset()
        self.login_window.show()
        if self.main_window is not None:
            self.main_window.hide()
            self.main_window.deleteLater()
            self.main_window = None

    async def aclose(self) -> None:
        # pjsua2 must hang up and be destroyed before Python tears its objects down.
        softphone = sys.modules.get("desktop.softphone.workspace")
        if softphone is not None:
            softphone.shutdown_all()
        if self.main_window is not None:
            await self.main_window.client.aclose()


def has_display() -> bool:
    if sys.platform != "linux" or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run(server: str | None, lang: str) -> int:
    if not has_display():
        print(
            "No display (neither DISPLAY nor WAYLAND_DISPLAY is set): the desktop client needs "
            "a graphical session.",
            file=sys.stderr,
        )
        return 2
    app = QtWidgets.QApplication(sys.argv[:1])
    app.setApplicationName("Pult")
    app.setOrganizationName("Pult")
    app.setDesktopFileName("pult")
    if ICON.exists():
        app.setWindowIcon(QtGui.QIcon(str(ICON)))
    translator = i18n.install(app, lang)  # noqa: F841 — must outlive the event loop
    loop = QEventLoop(app)
    asyncio.set_event_loop(loop)
    controller = Controller(
        client_factory=lambda url: PultClient(url, lang=lang),
        store=CredentialStore(),
        server=server,
    )
    controller.start()
    try:
        loop.run_forever()
    finally:
        loop.run_until_complete(controller.aclose())
        loop.close()
    return 0
