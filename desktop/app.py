"""The application: the login window, then the main window, and back on sign-out.

Cold start: this module imports only Qt, the translations, the login window and the
single-instance socket. The login window is painted on Qt's own event loop; asyncio and qasync
start after that frame (:func:`wait_first_paint`, :func:`start_event_loop`), and the API client,
the keyring and the main window are imported after it too, step by step (see
:meth:`desktop.login.LoginWindow.warm_up`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.common import i18n
from desktop.common.single_instance import InstanceServer, hand_over, parse_call_uri
from desktop.login import ClientFactory, LoginWindow
from desktop.qt import QtCore, QtGui, QtWidgets

if TYPE_CHECKING:
    from desktop.api.client import PultClient
    from desktop.common.credentials import CredentialStore
    from desktop.main_window import MainWindow
    from desktop.qt import QEventLoop

log = logging.getLogger(__name__)

ICON = Path(__file__).resolve().parent.parent / "resources" / "icons" / "pult.svg"

#: A window that is never painted (started minimised, say) holds the start-up no longer than this.
FIRST_PAINT_WAIT_MS = 1000

#: How long a handed-over number waits for the phone to register before it is dialled anyway
#: (the softphone then says itself why it cannot call).
PHONE_WAIT_MS = 10_000

ENGLISH = {
    "После входа будет набран номер {0}": "After signing in, {0} will be dialled",
    "Нет телефона, чтобы позвонить на {0}": "There is no phone to call {0}",
    "Не понимаю, куда звонить: {0}": "Cannot tell where to call: {0}",
}
for _source, _english in ENGLISH.items():
    i18n.ENGLISH.setdefault(_source, _english)


class Controller(QtCore.QObject):
    """Owns the windows and the signed-in client; nothing else keeps a reference to them."""

    def __init__(
        self,
        *,
        client_factory: ClientFactory,
        store: CredentialStore | None = None,
        server: str | None = None,
    ) -> None:
        super().__init__()
        self.login_window = LoginWindow(client_factory=client_factory, store=store, server=server)
        self.login_window.logged_in.connect(self._open_main)
        self.main_window: MainWindow | None = None
        #: A number handed over by a tel:/sip: link, waiting for a signed-in, registered phone.
        self.pending_call: str | None = None
        self._phone_wait = QtCore.QTimer(self)
        self._phone_wait.setObjectName("click-to-call-wait")
        self._phone_wait.setSingleShot(True)
        self._phone_wait.setInterval(PHONE_WAIT_MS)
        self._phone_wait.timeout.connect(lambda: self._dial_pending(force=True))
        self._waiting_on: Any = None  # the adapter whose registration we wait for

    def start(self) -> None:
        self.login_window.show()

    def warm_up(self) -> None:
        self.login_window.warm_up()

    def _open_main(self, client: PultClient) -> None:
        from desktop.main_window import MainWindow

        # The first tab now, the other workspaces after the main window's first paint.
        self.main_window = MainWindow(client, defer=True)
        self.main_window.signed_out.connect(self._back_to_login)
        self.main_window.dial_requested.connect(self.dial)
        if self.login_window.notice:
            self.main_window.statusBar().showMessage(self.login_window.notice)
        self.main_window.show()
        self.login_window.hide()
        self.login_window.set_waiting_call(None)
        self._dial_pending()

    def _back_to_login(self) -> None:
        # A link waiting for this session's phone leaves with the session.
        self._forget_pending()
        self.login_window.reset()
        self.login_window.show()
        if self.main_window is not None:
            self.main_window.hide()
            self.main_window.deleteLater()
            self.main_window = None

    # -- click-to-call -----------------------------------------------------------------------

    def open_link(self, text: str) -> None:
        """What a later launch handed over: bring the window up and dial the link, if any."""
        self._bring_to_front()
        if not text:
            return
        number = parse_call_uri(text)
        if number is None:
            self._tell(self.tr("Не понимаю, куда звонить: {0}").format(text))
            return
        self.dial(number)

    def dial(self, number: str) -> None:
        """Dial now when the phone is up, else as soon as it is (the latest link wins)."""
        self._forget_pending()
        self.pending_call = number
        if self.main_window is None:
            self.login_window.set_waiting_call(number)
            return
        self._dial_pending()

    def _dial_pending(self, force: bool = False) -> None:
        number = self.pending_call
        if number is None or self.main_window is None:
            return
        phone = self._softphone()
        if phone is None:
            self._forget_pending()
            self._tell(self.tr("Нет телефона, чтобы позвонить на {0}").format(number))
            return
        self.main_window.tabs.setCurrentWidget(phone)
        adapter = getattr(phone, "adapter", None)
        ready = adapter is not None and adapter.running and adapter.engine.registration.registered
        if not (ready or force):
            # The engine starts just after the main window's first paint and registers over
            # the network: dial once it has an answer from the registrar, or give up waiting.
            if adapter is not None and self._waiting_on is not adapter:
                self._stop_waiting()
                adapter.registration_changed.connect(self._registration_changed)
                self._waiting_on = adapter
            if not self._phone_wait.isActive():
                self._phone_wait.start()
            return
        self._forget_pending()
        phone.dial_target(number)

    def _registration_changed(self, *_: object) -> None:
        self._dial_pending(force=True)

    def _softphone(self) -> Any:
        assert self.main_window is not None
        widget = self.main_window.findChild(QtWidgets.QWidget, "workspace-softphone")
        return widget if callable(getattr(widget, "dial_target", None)) else None

    def _forget_pending(self) -> None:
        self.pending_call = None
        self._stop_waiting()
        self.login_window.set_waiting_call(None)

    def _stop_waiting(self) -> None:
        self._phone_wait.stop()
        if self._waiting_on is not None:
            # RuntimeError: the adapter is already gone with its window.
            with contextlib.suppress(RuntimeError, TypeError):
                self._waiting_on.registration_changed.disconnect(self._registration_changed)
            self._waiting_on = None

    def _bring_to_front(self) -> None:
        window: QtWidgets.QWidget = self.main_window or self.login_window
        if window.isMinimized():
            window.showNormal()
        window.show()
        if QtGui.QGuiApplication.platformName() != "offscreen":  # no stacking order there
            window.raise_()
        window.activateWindow()

    def _tell(self, text: str) -> None:
        if self.main_window is not None:
            self.main_window.statusBar().showMessage(text, 10_000)
        else:
            self.login_window.show_error(text)

    async def aclose(self) -> None:
        # The windows may already be gone at exit: only the timer and the connection matter.
        self.pending_call = None
        self._stop_waiting()
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


def wait_first_paint(window: LoginWindow) -> None:
    """Turn Qt's own event loop until ``window`` has been painted (or FIRST_PAINT_WAIT_MS).

    Nothing of asyncio exists yet: the window costs what a bare Qt window costs, and links
    handed over meanwhile are taken by the single-instance socket as usual.
    """
    if window.painted:
        return
    frame = QtCore.QEventLoop()
    give_up = QtCore.QTimer()
    give_up.setSingleShot(True)
    give_up.timeout.connect(frame.quit)
    window.first_painted.connect(frame.quit)
    give_up.start(FIRST_PAINT_WAIT_MS)
    frame.exec()
    give_up.stop()
    window.first_painted.disconnect(frame.quit)


def start_event_loop(app: QtWidgets.QApplication) -> QEventLoop:
    """asyncio on top of Qt (qasync), set as the current loop; called after the first paint.

    The imports are split by a pass over the pending events, so a key pressed meanwhile is
    handled between them rather than after both.
    """
    import asyncio

    QtCore.QCoreApplication.processEvents()
    from desktop.qt import QEventLoop

    QtCore.QCoreApplication.processEvents()
    loop = QEventLoop(app)
    asyncio.set_event_loop(loop)
    return loop


def run(server: str | None, lang: str, link: str | None = None) -> int:
    # A running client takes the link (or just comes to the front); this launch opens nothing.
    if hand_over(link or ""):
        return 0
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
    instance = InstanceServer(parent=app)
    if not instance.listen():
        # Another launch became the first between our two looks: hand over after all.
        if hand_over(link or ""):
            return 0
        log.warning("running without the single-instance socket")
    translator = i18n.install(app, lang)  # noqa: F841 — must outlive the event loop

    def make_client(url: str) -> PultClient:
        from desktop.api.client import PultClient

        return PultClient(url, lang=lang)

    controller = Controller(client_factory=make_client, server=server)
    instance.received.connect(controller.open_link)
    controller.start()
    if link:
        controller.open_link(link)
    wait_first_paint(controller.login_window)
    if not controller.login_window.isVisible():
        instance.close()  # closed before it was even painted: nothing started, nothing to stop
        return 0
    loop = start_event_loop(app)
    # After the first paint: the keyring and the network stack.
    QtCore.QTimer.singleShot(0, controller.warm_up)
    try:
        loop.run_forever()
    finally:
        instance.close()
        loop.run_until_complete(controller.aclose())
        loop.close()
    return 0
