"""Single instance and click-to-call: a later launch hands its tel:/sip: link to the running
client, which dials it now or right after the person signs in."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from desktop.api.client import PultClient
from desktop.app import Controller
from desktop.common.credentials import CredentialStore, Remembered
from desktop.common.single_instance import (
    NAME_ENV,
    InstanceServer,
    hand_over,
    parse_call_uri,
)
from desktop.softphone.widgets.softphone import SoftphoneWidget
from tests.ui.fakeserver import PASSWORD, MemoryKeyring
from tests.ui.softphone.fake_engine import FakeEngine
from tests.ui.softphone.test_workspace import SipServer, settle

ROOT = Path(__file__).resolve().parents[2]
Loop = asyncio.AbstractEventLoop


@pytest.mark.parametrize(
    ("link", "number"),
    [
        ("tel:+7 (495) 111-22-33", "+74951112233"),
        ("tel:+74951112233;phone-context=alpha.test", "+74951112233"),
        ("tel:%2B7%20495%20111%2022%2033", "+74951112233"),
        ("TEL://8-495-111-22-33", "84951112233"),
        ("tel:*21#", "*21#"),
        ("callto:+74951112233", "+74951112233"),
        ("callto://+7.495.111.22.33", "+74951112233"),
        ("sip:1001@alpha.test", "1001"),
        ("sips:1001@alpha.test;transport=tls", "1001"),
        ("sip:+74951112233@alpha.test?subject=x", "+74951112233"),
        ("sip:alice@example.org", "alice@example.org"),
        ("+7 495 111-22-33", "+74951112233"),
        ("1002", "1002"),
    ],
)
def test_links_become_what_the_phone_dials(link: str, number: str) -> None:
    assert parse_call_uri(link) == number


@pytest.mark.parametrize(
    "link",
    ["", "tel:", "tel:call-me", "http://example.org", "sip:@alpha.test", "mailto:a@b.c", "12a3"],
)
def test_things_that_are_not_calls_are_refused(link: str) -> None:
    assert parse_call_uri(link) is None


@pytest.fixture
def name(tmp_path: Path) -> str:
    """A socket of this test alone (a short path: Unix sockets allow ~100 characters)."""
    if sys.platform == "win32":
        return f"pult-test-{uuid.uuid4().hex}"
    return f"/tmp/pult-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def first(qapp: object, name: str) -> Iterator[InstanceServer]:
    server = InstanceServer(name)
    assert server.listen()
    yield server
    server.close()


def test_a_second_launch_hands_its_link_to_the_first(
    qtbot: QtBot, first: InstanceServer, name: str
) -> None:
    with qtbot.waitSignal(first.received, timeout=2000) as got:
        assert hand_over("tel:+74951112233", name)
    assert got.args == ["tel:+74951112233"]


def test_only_one_instance_listens_on_a_name(first: InstanceServer, name: str) -> None:
    second = InstanceServer(name)
    try:
        assert not second.listen()
    finally:
        second.close()


def test_with_nobody_running_the_launch_keeps_its_link(qapp: object, name: str) -> None:
    assert not hand_over("tel:+74951112233", name, timeout_ms=200)


def test_a_probe_that_says_nothing_is_not_a_request(
    qtbot: QtBot, loop: Loop, first: InstanceServer, name: str
) -> None:
    heard: list[str] = []
    first.received.connect(heard.append)
    assert InstanceServer(name).listen() is False  # connects, sends nothing, goes
    loop.run_until_complete(asyncio.sleep(0.2))
    assert heard == []
    with qtbot.waitSignal(first.received, timeout=2000) as got:
        assert hand_over("", name)
    assert got.args == [""]  # a launch without a link: "come to the front"


@pytest.mark.skipif(sys.platform == "win32", reason="Unix sockets only")
def test_a_socket_left_by_a_crash_is_removed_and_the_new_launch_becomes_first(
    qtbot: QtBot, qapp: object, name: str
) -> None:
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(name)  # the file stays, nobody listens: what a killed client leaves behind
    dead.close()
    assert os.path.exists(name)
    server = InstanceServer(name)
    try:
        assert server.listen()
        with qtbot.waitSignal(server.received, timeout=2000) as got:
            assert hand_over("sip:1001@demo.pult", name)
        assert got.args == ["sip:1001@demo.pult"]
    finally:
        server.close()


@pytest.mark.skipif(sys.platform == "win32", reason="Unix sockets only")
def test_a_real_second_process_hands_over_and_exits_without_a_window(
    qtbot: QtBot, first: InstanceServer, name: str
) -> None:
    env = {**os.environ, NAME_ENV: name, "QT_QPA_PLATFORM": "offscreen"}
    with qtbot.waitSignal(first.received, timeout=20_000) as got:
        proc = subprocess.Popen(
            [sys.executable, "-m", "desktop", "tel:+74951112233"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    assert proc.wait(20) == 0
    assert got.args == ["tel:+74951112233"]


def test_a_launch_with_something_that_is_not_a_link_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from desktop.__main__ import main

    with pytest.raises(SystemExit) as stop:
        main(["http://example.org"])
    assert stop.value.code == 2
    assert "tel:" in capsys.readouterr().err


# --- the running client dials ------------------------------------------------------------------


@pytest.fixture
def controller(qtbot: QtBot, loop: Loop, first: InstanceServer) -> Iterator[Controller]:
    server = SipServer()
    made = Controller(
        client_factory=lambda url: PultClient(url, transport=server.transport),
        store=CredentialStore(),
        server="http://pbx.test",
    )
    qtbot.addWidget(made.login_window)
    first.received.connect(made.open_link)
    made.start()
    yield made
    loop.run_until_complete(made.aclose())
    if made.main_window is not None:
        made.main_window.close()


def sign_in(loop: Loop, controller: Controller) -> None:
    window = controller.login_window
    window.login_edit.setText("ivanov@demo.pult")
    window.password_edit.setText(PASSWORD)
    window.submit()
    assert window.pending is not None
    loop.run_until_complete(window.pending)
    assert controller.main_window is not None
    phone = controller.main_window.findChild(SoftphoneWidget, "workspace-softphone")
    assert phone is not None
    settle(loop, phone)


def dialled(engines: list[FakeEngine]) -> list[object]:
    return [a[1] for e in engines for a in e.actions if a[0] == "dial"]


def test_a_link_while_signed_in_is_dialled_with_the_normalised_number(
    qtbot: QtBot, loop: Loop, controller: Controller, engines: list[FakeEngine], name: str
) -> None:
    sign_in(loop, controller)
    assert dialled(engines) == []
    assert hand_over("tel:+7 (495) 111-22-33", name)
    qtbot.waitUntil(lambda: dialled(engines) == ["+74951112233"], timeout=2000)
    assert controller.main_window is not None
    assert controller.main_window.tabs.currentWidget().objectName() == "workspace-softphone"


def test_a_link_before_signing_in_waits_and_is_dialled_after(
    qtbot: QtBot, loop: Loop, controller: Controller, engines: list[FakeEngine], name: str
) -> None:
    assert hand_over("sip:1002@demo.pult", name)
    note = controller.login_window.call_note
    qtbot.waitUntil(lambda: note.isVisible(), timeout=2000)
    assert "1002" in note.text()
    assert controller.pending_call == "1002"
    sign_in(loop, controller)
    qtbot.waitUntil(lambda: dialled(engines) == ["1002"], timeout=2000)
    assert controller.pending_call is None
    assert not note.isVisible()


def test_a_link_that_is_not_a_call_is_explained_not_dialled(
    qtbot: QtBot, loop: Loop, controller: Controller, engines: list[FakeEngine]
) -> None:
    controller.open_link("mailto:someone@example.org")
    assert "mailto:someone@example.org" in controller.login_window.error_label.text()
    assert controller.pending_call is None
    sign_in(loop, controller)
    assert dialled(engines) == []


# --- cold start (issue 5) ----------------------------------------------------------------------


def test_the_login_window_module_path_imports_no_network_or_keyring() -> None:
    """The window must appear before httpx, pydantic and keyring load (they take ~3× an empty
    Qt window's start-up); they are imported after the first paint."""
    code = (
        "import sys, desktop.app; "
        "print(sorted(m for m in ('httpx', 'pydantic', 'keyring', 'desktop.api.client') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_without_a_store_the_remembered_account_appears_after_the_first_paint(
    qtbot: QtBot, loop: Loop, memory_keyring: MemoryKeyring
) -> None:
    CredentialStore().save(Remembered("http://pbx.test", "ivanov@demo.pult", PASSWORD))
    made = Controller(client_factory=lambda url: PultClient(url), server=None)
    window = made.login_window
    qtbot.addWidget(window)
    made.start()
    assert window.login_edit.text() == ""  # nothing read from the keyring before the paint
    made.warm_up()
    qtbot.waitUntil(lambda: window.login_edit.text() == "ivanov@demo.pult", timeout=3000)
    assert window.password_edit.text() == PASSWORD
    assert window.server_edit.text() == "http://pbx.test"
    assert window.remember_box.isChecked() and window.remember_box.isEnabled()
