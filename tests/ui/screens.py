"""``python -m tests.ui.screens OUTDIR``: draw the login and main windows and save PNGs.

Runs in its own process so it can use a real X server (Xvfb, platform ``xcb``) while the test
process itself stays on the offscreen platform. The server is the fake one from fakeserver.py.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import keyring

from desktop.api.client import PultClient
from desktop.app import ICON, Controller
from desktop.common.credentials import CredentialStore
from desktop.qt import QEventLoop, QtGui, QtWidgets
from tests.ui.fakeserver import PASSWORD, FakeServer, MemoryKeyring


def settle(app: QtWidgets.QApplication) -> None:
    for _ in range(5):
        app.processEvents()


def save(widget: QtWidgets.QWidget, path: Path) -> None:
    if not widget.grab().save(str(path)):
        raise SystemExit(f"could not write {path}")
    print(path)


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    keyring.set_keyring(MemoryKeyring())
    app = QtWidgets.QApplication(sys.argv[:1])
    app.setWindowIcon(QtGui.QIcon(str(ICON)))
    loop = QEventLoop(app)
    asyncio.set_event_loop(loop)
    server = FakeServer()
    controller = Controller(
        client_factory=lambda url: PultClient(url, transport=server.transport),
        store=CredentialStore(),
        server="http://127.0.0.1:8080",
    )
    controller.start()
    window = controller.login_window
    window.login_edit.setText("admin@demo.pult")
    window.password_edit.setText(PASSWORD)
    window.remember_box.setChecked(True)
    settle(app)
    save(window, out / "login.png")

    window.password_edit.setText("wrong-password")
    window.submit()
    assert window.pending is not None
    loop.run_until_complete(window.pending)
    settle(app)
    save(window, out / "login-error.png")

    window.password_edit.setText(PASSWORD)
    window.submit()
    loop.run_until_complete(window.pending)
    main_window = controller.main_window
    if main_window is None:
        raise SystemExit("signing in did not open the main window")
    main_window.tabs.setCurrentIndex(main_window.tabs.count() - 1)
    settle(app)
    save(main_window, out / "main.png")
    loop.run_until_complete(controller.aclose())
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
