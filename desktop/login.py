"""The login window: server address, ``login@domain``, password, "remember me".

Signing in runs as an asyncio task on the qasync loop, so the window stays responsive while
the server thinks (argon2 is deliberately slow) or while a dead address times out.

Cold start: this module imports only Qt (not even asyncio: the window is painted on Qt's own
loop, and qasync starts after it). The API client (httpx, pydantic) and the keyring are
imported after the window's first paint (:meth:`LoginWindow.warm_up`), so the window appears
as fast as an empty Qt window; by the time a person has typed a password they are loaded.
"""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from desktop.qt import QtCore, QtGui, QtWidgets, Signal

if TYPE_CHECKING:
    import asyncio

    from desktop.api.client import ApiError, PultClient, ServerUnreachable
    from desktop.common.credentials import CredentialStore

log = logging.getLogger(__name__)

ClientFactory = Callable[[str], "PultClient"]

DEFAULT_SERVER = "http://127.0.0.1:8080"
#: Imported one per event-loop turn after the first paint, so typing is never held up for long
#: (pydantic and httpx are the two big ones; pjsua2 loads with the engine module, so the main
#: window does not wait for it after signing in).
WARM_UP_MODULES = (
    "pydantic",
    "desktop.api.client",
    "desktop.main_window",
    "desktop.softphone.workspace",
    "desktop.softphone.engine.engine",
)
#: After the first paint: lets the compositor show the frame before the imports take the thread.
WARM_UP_DELAY_MS = 30
WARM_UP_FALLBACK_MS = 1000


class LoginWindow(QtWidgets.QWidget):
    """Emits :attr:`logged_in` with a signed-in :class:`PultClient`, and :attr:`first_painted`
    once the window has been painted for the first time."""

    logged_in = Signal(object)
    first_painted = Signal()

    def __init__(
        self,
        *,
        client_factory: ClientFactory,
        store: CredentialStore | None = None,
        server: str | None = None,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        """Without ``store`` the OS keyring is opened after the first paint (see warm_up)."""
        super().__init__(parent)
        self._client_factory = client_factory
        self._store = store
        self._warm_steps: list[Callable[[], object]] = []
        self._warming = False  # the steps have begun (paint and fallback both start them)
        self._painted = False
        #: Every warm-up step has run: signing in now waits only for the server.
        self.warmed = False
        self.pending: asyncio.Task[None] | None = None
        self.notice = ""  # something to tell after signing in, e.g. "password not saved"
        self.setObjectName("login-window")
        self.setWindowTitle(self.tr("Пульт — вход"))

        self.server_edit = QtWidgets.QLineEdit()
        self.server_edit.setObjectName("server")
        self.login_edit = QtWidgets.QLineEdit()
        self.login_edit.setObjectName("login")
        self.login_edit.setPlaceholderText(self.tr("логин@домен"))
        self.password_edit = QtWidgets.QLineEdit()
        self.password_edit.setObjectName("password")
        self.password_edit.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        self.remember_box = QtWidgets.QCheckBox(self.tr("Запомнить меня"))
        self.remember_box.setObjectName("remember")
        self.keyring_note = QtWidgets.QLabel(
            self.tr("Хранилище паролей системы недоступно: пароль не будет сохранён.")
        )
        self.keyring_note.setObjectName("keyring-note")
        self.keyring_note.setWordWrap(True)
        self.error_label = QtWidgets.QLabel()
        self.error_label.setObjectName("error")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b00020;")
        self.submit_button = QtWidgets.QPushButton(self.tr("Войти"))
        self.submit_button.setObjectName("submit")
        self.submit_button.setDefault(True)

        title = QtWidgets.QLabel(self.tr("Пульт — вход"))
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        title.setFont(font)

        form = QtWidgets.QFormLayout()
        form.addRow(self.tr("Сервер"), self.server_edit)
        form.addRow(self.tr("Логин"), self.login_edit)
        form.addRow(self.tr("Пароль"), self.password_edit)
        form.addRow("", self.remember_box)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addWidget(self.keyring_note)
        layout.addWidget(self.error_label)
        layout.addWidget(self.submit_button)
        self.setMinimumWidth(420)

        self.submit_button.clicked.connect(self.submit)
        for edit in (self.server_edit, self.login_edit, self.password_edit):
            edit.returnPressed.connect(self.submit)

        self.call_note = QtWidgets.QLabel()
        self.call_note.setObjectName("call-note")
        self.call_note.setWordWrap(True)
        self.call_note.hide()
        layout.insertWidget(layout.indexOf(self.error_label), self.call_note)

        self._server_arg = server
        if store is not None:
            self._fill(server)
        else:
            # Nothing remembered is known yet: an empty form now, the keyring after the paint.
            self.keyring_note.hide()
            self.remember_box.setEnabled(False)
            self.server_edit.setText(server or DEFAULT_SERVER)
            self.login_edit.setFocus()

    # -- start-up ----------------------------------------------------------------------------

    def warm_up(self) -> None:
        """Open the keyring and import the network stack, one step per event-loop turn.

        The steps begin a moment after the window's first paint (or after
        ``WARM_UP_FALLBACK_MS`` if it never paints, e.g. started hidden), so the window is on
        screen first. A step that fails only logs: the same import runs again (and reports
        properly) when the person signs in.
        """
        steps: list[Callable[[], object]] = []
        if self._store is None:
            steps.append(self._open_store)
        steps += [functools.partial(importlib.import_module, name) for name in WARM_UP_MODULES]
        steps.append(_warm_up_main_window_types)
        self._warm_steps = steps
        if self._painted:
            QtCore.QTimer.singleShot(WARM_UP_DELAY_MS, self, self._warm_step)
        else:
            QtCore.QTimer.singleShot(WARM_UP_FALLBACK_MS, self, self._warm_step)

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            if self._warm_steps:
                QtCore.QTimer.singleShot(WARM_UP_DELAY_MS, self, self._warm_step)
            self.first_painted.emit()

    @property
    def painted(self) -> bool:
        return self._painted

    def _warm_step(self) -> None:
        if not self._warm_steps or self._warming:
            return
        self._warming = True
        QtCore.QTimer.singleShot(0, self, self._next_warm_step)

    def _next_warm_step(self) -> None:
        if not self._warm_steps:
            return
        step = self._warm_steps.pop(0)
        try:
            step()
        except Exception:
            log.warning("warm-up step failed", exc_info=True)
        if self._warm_steps:
            QtCore.QTimer.singleShot(0, self, self._next_warm_step)
        else:
            self.warmed = True

    def _open_store(self) -> None:
        if self._store is not None:
            return
        from desktop.common.credentials import CredentialStore

        self._store = CredentialStore()
        if self.pending is not None and not self.pending.done():
            return  # signing in already; "remember me" is read when it succeeds
        typed = (
            self.login_edit.text()
            or self.password_edit.text()
            or self.server_edit.text() != (self._server_arg or DEFAULT_SERVER)
        )
        if typed:
            # The person got there first: keep what they typed, just enable "remember me".
            can_store = self._store.available()
            self.keyring_note.setVisible(not can_store)
            self.remember_box.setEnabled(can_store)
        else:
            self._fill(self._server_arg)

    @property
    def store(self) -> CredentialStore:
        if self._store is None:
            from desktop.common.credentials import CredentialStore

            self._store = CredentialStore()
        return self._store

    # -- state -------------------------------------------------------------------------------

    def _fill(self, server: str | None) -> None:
        store = self.store
        can_store = store.available()
        self.keyring_note.setVisible(not can_store)
        self.remember_box.setEnabled(can_store)
        remembered = store.load()
        self.error_label.clear()
        self.server_edit.setText(server or (remembered.server if remembered else DEFAULT_SERVER))
        if remembered is not None and _same_server(remembered.server, self.server_edit.text()):
            self.login_edit.setText(remembered.login)
            self.password_edit.setText(remembered.password)
            self.remember_box.setChecked(True)
        else:
            self.password_edit.clear()
        (self.password_edit if self.login_edit.text() else self.login_edit).setFocus()

    def reset(self) -> None:
        """Back from a signed-out session: show what is remembered, drop a typed password."""
        self._fill(self.server_edit.text())
        self._set_busy(False)

    def set_waiting_call(self, number: str | None) -> None:
        """Say that a handed-over link will be dialled once signed in (None: nothing waits)."""
        if number:
            self.call_note.setText(self.tr("После входа будет набран номер {0}").format(number))
        else:
            self.call_note.clear()
        self.call_note.setVisible(bool(number))

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.server_edit, self.login_edit, self.password_edit, self.remember_box):
            widget.setEnabled(not busy)
        self.remember_box.setEnabled(not busy and self.store.available())
        self.submit_button.setEnabled(not busy)
        self.submit_button.setText(self.tr("Вход…") if busy else self.tr("Войти"))
        cursor = QtCore.Qt.CursorShape.BusyCursor if busy else QtCore.Qt.CursorShape.ArrowCursor
        self.setCursor(QtGui.QCursor(cursor))

    def show_error(self, text: str) -> None:
        # Selectable (to copy the server's words) from the first error on, not in __init__: the
        # first touch of ``QtCore.Qt`` makes PySide build all ~100 of its enums (~25 ms), which
        # the first paint should not wait for.
        self.error_label.setTextInteractionFlags(
            QtCore.Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self.error_label.setText(text)

    # -- signing in --------------------------------------------------------------------------

    def submit(self) -> None:
        import asyncio

        from desktop.api.client import BadServerAddress, normalise_server

        if self.pending is not None and not self.pending.done():
            return
        server_text = self.server_edit.text().strip()
        login = self.login_edit.text().strip()
        password = self.password_edit.text()
        if not (server_text and login and password):
            self.show_error(self.tr("Введите адрес сервера, логин и пароль"))
            return
        try:
            server = normalise_server(server_text)
        except BadServerAddress:
            self.show_error(self.tr("Адрес сервера не похож на адрес: {0}").format(server_text))
            self.server_edit.setFocus()
            return
        self.error_label.clear()
        self._set_busy(True)
        self.pending = asyncio.ensure_future(self._sign_in(server, login, password))

    async def _sign_in(self, server: str, login: str, password: str) -> None:
        from desktop.api.client import ApiError, ServerUnreachable

        client = self._client_factory(server)
        try:
            await client.login(login, password)
        except (ApiError, ServerUnreachable) as exc:
            await client.aclose()
            self._set_busy(False)
            self.show_error(self.describe(exc))
            if isinstance(exc, ApiError) and exc.code == "bad_credentials":
                self.password_edit.clear()
                self.password_edit.setFocus()
            return
        except BaseException:
            await client.aclose()
            raise
        self._remember(server, login, password)
        self._set_busy(False)
        self.password_edit.clear()
        self.logged_in.emit(client)

    def _remember(self, server: str, login: str, password: str) -> None:
        from desktop.common.credentials import Remembered

        self.notice = ""
        if not self.remember_box.isChecked():
            self.store.forget()
        elif not self.store.save(Remembered(server, login, password)):
            # Shown by the main window: this window is about to hide.
            self.notice = self.tr("Не удалось сохранить пароль в хранилище системы.")

    def describe(self, exc: ApiError | ServerUnreachable) -> str:
        """What the person reads: the server's own words when it sent any."""
        from desktop.api.client import ServerUnreachable

        if isinstance(exc, ServerUnreachable):
            return self.tr("Сервер {0} недоступен. Проверьте адрес и подключение к сети.").format(
                exc.url
            )
        if exc.message:
            lines = [exc.message, *(d.message for d in exc.details if d.message)]
            return "\n".join(dict.fromkeys(lines))
        if exc.code == "bad_credentials":
            return self.tr("Неверный логин или пароль")
        if exc.code == "locked_out":
            return self.tr("Вход временно заблокирован из-за неудачных попыток")
        if exc.code == "bad_response":
            return self.tr("Сервер прислал непонятный ответ")
        return self.tr("Сервер ответил ошибкой {0}").format(exc.status)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        # A sign-in finishing after the window is gone would touch deleted widgets.
        if self.pending is not None and not self.pending.done():
            self.pending.cancel()
        super().closeEvent(event)


def _warm_up_main_window_types() -> None:
    from desktop.main_window import warm_up_types

    warm_up_types()


def _same_server(a: str, b: str) -> bool:
    from desktop.api.client import BadServerAddress, normalise_server

    try:
        return normalise_server(a) == normalise_server(b)
    except BadServerAddress:
        return False
