"""The login window and the main window it opens (pytest-qt, offscreen, fake server)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import httpx
import keyring.errors
import pytest
from keyring.backends import fail
from pytestqt.qtbot import QtBot

from desktop.api.client import PultClient
from desktop.app import Controller
from desktop.common import i18n
from desktop.common.credentials import ENTRY, SERVICE, CredentialStore
from desktop.qt import QtCore, QtWidgets
from tests.ui.fakeserver import PASSWORD, FakeServer, MemoryKeyring

SERVER = "http://pbx.test:8080"
Loop = asyncio.AbstractEventLoop


def make_controller(
    qtbot: QtBot, server: FakeServer, *, lang: str = "ru", store: CredentialStore | None = None
) -> Controller:
    controller = Controller(
        client_factory=lambda url: PultClient(url, lang=lang, transport=server.transport),
        store=store or CredentialStore(),
        server=SERVER,
    )
    watch(qtbot, controller)
    controller.start()
    return controller


def watch(qtbot: QtBot, controller: Controller) -> None:
    """Let qtbot close every window the controller opens (connected after its own slot)."""
    qtbot.addWidget(controller.login_window)

    def opened(_client: object) -> None:
        if controller.main_window is not None:
            qtbot.addWidget(controller.main_window)

    controller.login_window.logged_in.connect(opened)


def sign_in(loop: Loop, controller: Controller, login: str, password: str) -> None:
    window = controller.login_window
    window.login_edit.setText(login)
    window.password_edit.setText(password)
    window.submit_button.click()
    assert window.pending is not None
    loop.run_until_complete(window.pending)


def tab_titles(controller: Controller) -> list[str]:
    assert controller.main_window is not None
    tabs = controller.main_window.tabs
    return [tabs.tabText(i) for i in range(tabs.count())]


def visible_texts(widget: QtWidgets.QWidget) -> list[str]:
    texts = [widget.windowTitle()]
    for child in widget.findChildren(QtWidgets.QWidget):
        if isinstance(child, QtWidgets.QLabel | QtWidgets.QAbstractButton):
            texts.append(child.text())
        if isinstance(child, QtWidgets.QLineEdit):
            texts.append(child.placeholderText())
        if isinstance(child, QtWidgets.QTabWidget):
            texts += [child.tabText(i) for i in range(child.count())]
    return [t for t in texts if t]


@pytest.fixture
def english(qapp: QtWidgets.QApplication) -> Iterator[None]:
    translator = i18n.install(qapp, "en")
    yield
    assert translator is not None
    qapp.removeTranslator(translator)


def test_wrong_password_shows_the_servers_message_and_stays(
    qtbot: QtBot, loop: Loop, fake_server: FakeServer
) -> None:
    controller = make_controller(qtbot, fake_server)
    sign_in(loop, controller, "ivanov@demo.pult", "not-the-password")
    window = controller.login_window
    assert window.error_label.text() == "Неверный логин или пароль"
    assert controller.main_window is None
    assert window.isVisible()
    # The wrong password is cleared so the next attempt starts clean; the login stays.
    assert window.password_edit.text() == ""
    assert window.login_edit.text() == "ivanov@demo.pult"
    assert window.submit_button.isEnabled()


def test_lockout_shows_the_servers_lockout_message(
    qtbot: QtBot, loop: Loop, fake_server: FakeServer
) -> None:
    fake_server.failures["ivanov@demo.pult"] = fake_server.max_failures
    controller = make_controller(qtbot, fake_server)
    sign_in(loop, controller, "ivanov@demo.pult", PASSWORD)
    assert "заблокирован" in controller.login_window.error_label.text()
    assert controller.main_window is None


def test_unreachable_server_says_so_and_names_it(qtbot: QtBot, loop: Loop) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    controller = Controller(
        client_factory=lambda url: PultClient(url, transport=httpx.MockTransport(refuse)),
        store=CredentialStore(),
        server=SERVER,
    )
    watch(qtbot, controller)
    sign_in(loop, controller, "ivanov@demo.pult", PASSWORD)
    text = controller.login_window.error_label.text()
    assert SERVER in text
    assert "недоступен" in text


def test_empty_fields_and_bad_address_are_caught_before_any_request(
    qtbot: QtBot, loop: Loop, fake_server: FakeServer
) -> None:
    controller = make_controller(qtbot, fake_server)
    window = controller.login_window
    window.login_edit.setText("ivanov@demo.pult")
    window.submit_button.click()
    assert window.pending is None
    assert window.error_label.text() == "Введите адрес сервера, логин и пароль"
    window.server_edit.setText("ftp://pbx.test")
    window.password_edit.setText(PASSWORD)
    window.submit_button.click()
    assert window.pending is None
    assert "ftp://pbx.test" in window.error_label.text()
    assert fake_server.requests == []


@pytest.mark.parametrize(
    ("login", "tabs"),
    [
        ("ivanov@demo.pult", ["Телефон"]),
        ("petrova@demo.pult", ["Телефон", "Оператор"]),
        ("sidorov@demo.pult", ["Телефон", "Супервизор"]),
        ("admin@demo.pult", ["Телефон", "Супервизор", "Администрирование"]),
        ("pool", ["Телефон"]),
    ],
)
def test_signing_in_opens_the_main_window_with_a_tab_per_allowed_workspace(
    qtbot: QtBot, loop: Loop, fake_server: FakeServer, login: str, tabs: list[str]
) -> None:
    controller = make_controller(qtbot, fake_server)
    sign_in(loop, controller, login, PASSWORD)
    main = controller.main_window
    assert main is not None
    assert main.isVisible()
    assert not controller.login_window.isVisible()
    assert tab_titles(controller) == tabs
    account = fake_server.accounts[login]
    assert main.name_label.text() == account.display_name
    assert main.address_label.text() == login
    if account.domain:
        assert account.domain["name"] in main.domain_label.text()
    else:
        assert main.domain_label.text() == "Пул (без домена)"


def test_main_window_names_the_roles_in_words(
    qtbot: QtBot, loop: Loop, fake_server: FakeServer
) -> None:
    controller = make_controller(qtbot, fake_server)
    sign_in(loop, controller, "admin@demo.pult", PASSWORD)
    assert controller.main_window is not None
    text = controller.main_window.roles_label.text()
    assert "Администратор домена" in text
    assert "domain_admin" not in text


def test_the_window_stays_responsive_while_the_server_thinks(
    qtbot: QtBot, loop: Loop, fake_server: FakeServer
) -> None:
    fake_server.delay = 0.3
    controller = make_controller(qtbot, fake_server)
    window = controller.login_window
    window.login_edit.setText("ivanov@demo.pult")
    window.password_edit.setText(PASSWORD)
    ticks: list[bool] = []
    timer = QtCore.QTimer()

    def tick() -> None:
        # While the request is pending the form is locked and Qt keeps handling events.
        if window.pending is not None and not window.pending.done():
            ticks.append(window.submit_button.isEnabled())

    timer.timeout.connect(tick)
    timer.start(20)
    window.submit_button.click()
    assert window.submit_button.text() == "Вход…"
    window.submit_button.click()  # a second click while busy sends nothing more
    assert window.pending is not None
    loop.run_until_complete(window.pending)
    timer.stop()
    assert len(ticks) >= 5
    assert not any(ticks)
    assert fake_server.paths() == ["/api/auth/login"]
    assert controller.main_window is not None


def test_remember_me_keeps_the_account_in_the_keyring_only(
    qtbot: QtBot, loop: Loop, fake_server: FakeServer, memory_keyring: MemoryKeyring
) -> None:
    controller = make_controller(qtbot, fake_server)
    controller.login_window.remember_box.setChecked(True)
    sign_in(loop, controller, "ivanov@demo.pult", PASSWORD)
    stored = memory_keyring.entries[(SERVICE, ENTRY)]
    assert PASSWORD in stored and "ivanov@demo.pult" in stored

    again = make_controller(qtbot, fake_server)
    window = again.login_window
    assert window.login_edit.text() == "ivanov@demo.pult"
    assert window.password_edit.text() == PASSWORD
    assert window.remember_box.isChecked()

    # Signing in with "remember me" off forgets the stored account.
    window.remember_box.setChecked(False)
    sign_in(loop, again, "ivanov@demo.pult", PASSWORD)
    assert memory_keyring.entries == {}


def test_without_a_keyring_the_window_says_the_password_is_not_kept(
    qtbot: QtBot, loop: Loop, fake_server: FakeServer
) -> None:
    controller = make_controller(qtbot, fake_server, store=CredentialStore(fail.Keyring()))
    window = controller.login_window
    assert window.keyring_note.isVisible()
    assert "недоступно" in window.keyring_note.text()
    assert not window.remember_box.isEnabled()
    sign_in(loop, controller, "ivanov@demo.pult", PASSWORD)
    assert controller.main_window is not None


def test_with_a_keyring_there_is_no_warning(qtbot: QtBot, fake_server: FakeServer) -> None:
    controller = make_controller(qtbot, fake_server)
    assert not controller.login_window.keyring_note.isVisible()
    assert controller.login_window.remember_box.isEnabled()


def test_signing_out_ends_the_session_and_returns_to_the_login_window(
    qtbot: QtBot, loop: Loop, fake_server: FakeServer
) -> None:
    controller = make_controller(qtbot, fake_server)
    sign_in(loop, controller, "petrova@demo.pult", PASSWORD)
    main = controller.main_window
    assert main is not None
    main.logout_button.click()
    assert main.pending is not None
    loop.run_until_complete(main.pending)
    assert controller.main_window is None
    assert controller.login_window.isVisible()
    assert controller.login_window.password_edit.text() == ""
    assert fake_server.paths()[-1] == "/api/auth/logout"
    assert fake_server.refresh == {}


@pytest.mark.usefixtures("english")
def test_english_interface_has_no_russian_left(
    qtbot: QtBot, loop: Loop, fake_server: FakeServer
) -> None:
    fake_server.accounts["admin@demo.pult"].domain = {
        "id": 1,
        "name": "demo.pult",
        "display_name": "Demo Ltd",
    }
    fake_server.accounts["admin@demo.pult"].display_name = "Maria Adminova"
    fake_server.accounts["admin@demo.pult"].roles = ["domain_admin", "operator", "user"]
    controller = make_controller(
        qtbot, fake_server, lang="en", store=CredentialStore(fail.Keyring())
    )
    window = controller.login_window
    window.show_error(window.tr("Введите адрес сервера, логин и пароль"))
    cyrillic = re.compile("[А-Яа-яЁё]")
    assert [t for t in visible_texts(window) if cyrillic.search(t)] == []
    assert window.submit_button.text() == "Sign in"

    sign_in(loop, controller, "admin@demo.pult", "wrong")
    assert window.error_label.text() == "Wrong login or password"  # the server's English
    sign_in(loop, controller, "admin@demo.pult", PASSWORD)
    assert controller.main_window is not None
    assert tab_titles(controller) == ["Softphone", "Operator", "Supervisor", "Admin"]
    assert [t for t in visible_texts(controller.main_window) if cyrillic.search(t)] == []


class BrokenKeyring(MemoryKeyring):
    """A keyring that exists but refuses to store (locked, or the D-Bus service died)."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("locked")


def test_a_keyring_that_refuses_does_not_stop_signing_in(
    qtbot: QtBot, loop: Loop, fake_server: FakeServer
) -> None:
    store = CredentialStore(BrokenKeyring())
    controller = make_controller(qtbot, fake_server, store=store)
    controller.login_window.remember_box.setChecked(True)
    sign_in(loop, controller, "ivanov@demo.pult", PASSWORD)
    assert controller.main_window is not None
    assert controller.main_window.statusBar().currentMessage() == (
        "Не удалось сохранить пароль в хранилище системы."
    )


def test_a_garbled_keyring_entry_is_ignored(
    qtbot: QtBot, fake_server: FakeServer, memory_keyring: MemoryKeyring
) -> None:
    memory_keyring.entries[(SERVICE, ENTRY)] = "not json"
    controller = make_controller(qtbot, fake_server)
    assert controller.login_window.login_edit.text() == ""
    assert controller.login_window.server_edit.text() == SERVER
