"""Cold start (issue 5): the login window is painted before asyncio exists, and the main window
builds only its first tab before it appears."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from pytestqt.qtbot import QtBot

from desktop.api.client import PultClient
from desktop.app import Controller
from desktop.common.credentials import CredentialStore
from desktop.qt import QtWidgets
from tests.ui.fakeserver import PASSWORD, FakeServer

ROOT = Path(__file__).resolve().parents[2]
Loop = asyncio.AbstractEventLoop

#: The real ``desktop.app.run``, watched at the moment it starts asyncio, then closed as a
#: person would close the window.
PROBE = """
import json, sys
import desktop.app as app
from desktop.qt import QtCore, QtWidgets

seen = {}
start_event_loop = app.start_event_loop

def probe(qt):
    seen["loaded"] = sorted(
        m for m in ("asyncio", "qasync", "httpx", "pydantic", "keyring") if m in sys.modules
    )
    windows = [w for w in qt.topLevelWidgets() if w.objectName() == "login-window"]
    seen["painted"] = [w.painted for w in windows]
    loop = start_event_loop(qt)
    seen["asyncio"] = "asyncio" in sys.modules
    QtCore.QTimer.singleShot(300, qt.closeAllWindows)
    return loop

app.start_event_loop = probe
code = app.run(None, "ru")
seen["exit"] = code
print(json.dumps(seen))
"""


def test_the_login_window_is_painted_before_asyncio_and_the_network_stack_load(
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "PULT_INSTANCE_SOCKET": str(tmp_path / "instance"),
        "PYTHON_KEYRING_BACKEND": "tests.ui.fakeserver.MemoryKeyring",
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["loaded"] == []
    assert seen["painted"] == [True]
    assert seen["asyncio"] is True
    assert seen["exit"] == 0  # closing the window ends the run cleanly


def signed_in(qtbot: QtBot, loop: Loop, login: str) -> Controller:
    server = FakeServer()
    controller = Controller(
        client_factory=lambda url: PultClient(url, transport=server.transport),
        store=CredentialStore(),
        server="http://pbx.test",
    )
    qtbot.addWidget(controller.login_window)
    controller.start()
    window = controller.login_window
    window.login_edit.setText(login)
    window.password_edit.setText(PASSWORD)
    window.submit()
    assert window.pending is not None
    loop.run_until_complete(window.pending)
    assert controller.main_window is not None
    qtbot.addWidget(controller.main_window)
    return controller


def pages(controller: Controller) -> list[str]:
    assert controller.main_window is not None
    tabs = controller.main_window.tabs
    return [tabs.widget(i).objectName() for i in range(tabs.count())]


def test_the_admin_panel_is_built_when_its_tab_is_first_chosen(qtbot: QtBot, loop: Loop) -> None:
    controller = signed_in(qtbot, loop, "admin@demo.pult")
    main = controller.main_window
    assert main is not None
    assert pages(controller) == ["workspace-softphone", "unbuilt-supervisor", "unbuilt-admin"]
    assert main.tabs.tabText(2) == "Администрирование"
    main.tabs.setCurrentIndex(2)
    assert pages(controller)[2] == "workspace-admin"
    assert main.tabs.currentWidget().objectName() == "workspace-admin"
    assert main.tabs.currentWidget().isVisible()
    assert pages(controller)[1] == "unbuilt-supervisor"  # still not asked for
    loop.run_until_complete(controller.aclose())


def test_the_operator_workspace_is_built_after_the_first_paint_unasked(
    qtbot: QtBot, loop: Loop
) -> None:
    controller = signed_in(qtbot, loop, "petrova@demo.pult")
    main = controller.main_window
    assert main is not None
    qtbot.waitUntil(lambda: pages(controller)[1] == "workspace-operator", timeout=3000)
    assert main.tabs.currentWidget().objectName() == "workspace-softphone"  # no tab switch
    assert main.findChild(QtWidgets.QWidget, "workspace-operator") is not None
    loop.run_until_complete(controller.aclose())
