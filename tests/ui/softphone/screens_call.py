"""``python -m tests.ui.softphone.screens_call OUTDIR``: the main window during a call.

Like tests/ui/screens.py (a real X server, the fake server), with the fake engine holding two
lines: a call in progress and a second one ringing (call waiting), so reviewers see the line
panels, the timer, the quality bars and the incoming toast.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

import keyring

from desktop.api.client import PultClient
from desktop.app import ICON, Controller
from desktop.common.credentials import CredentialStore
from desktop.qt import QEventLoop, QtGui, QtWidgets
from desktop.softphone import workspace
from desktop.softphone.widgets.softphone import SoftphoneWidget
from tests.ui.fakeserver import PASSWORD, MemoryKeyring
from tests.ui.softphone.fake_engine import FakeEngine
from tests.ui.softphone.test_workspace import SipServer


def settle(app: QtWidgets.QApplication, loop: asyncio.AbstractEventLoop, seconds: float) -> None:
    loop.run_until_complete(asyncio.sleep(seconds))
    for _ in range(5):
        app.processEvents()


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    keyring.set_keyring(MemoryKeyring())
    app = QtWidgets.QApplication(sys.argv[:1])
    app.setWindowIcon(QtGui.QIcon(str(ICON)))
    loop = QEventLoop(app)
    asyncio.set_event_loop(loop)
    engines: list[FakeEngine] = []

    def make_engine() -> FakeEngine:
        engines.append(FakeEngine())
        return engines[-1]

    workspace.engine_factory = make_engine
    workspace.data_dir = Path(tempfile.mkdtemp(prefix="pult-shots-"))
    server = SipServer()
    controller = Controller(
        client_factory=lambda url: PultClient(url, transport=server.transport),
        store=CredentialStore(),
        server="http://127.0.0.1:8080",
    )
    controller.start()
    window = controller.login_window
    window.login_edit.setText("ivanov@demo.pult")
    window.password_edit.setText(PASSWORD)
    window.submit()
    assert window.pending is not None
    loop.run_until_complete(window.pending)
    main_window = controller.main_window
    if main_window is None:
        raise SystemExit("signing in did not open the main window")
    settle(app, loop, 0.3)
    phone = main_window.findChild(SoftphoneWidget)
    if phone is None or not engines:
        raise SystemExit("no softphone tab")
    engine = engines[0]
    first = engine.dial("+74951234567")
    engine.remote_answer(first)
    # Pretend the call has been going for a minute and a half.
    line = engine._lines[first]
    engine._update(first, connected_at=line.connected_at - 95)  # type: ignore[operator]
    phone.refresh_quality()
    engine.ring("1003", "Пётр Сидоров")
    phone._tick()
    settle(app, loop, 0.2)
    path = out / "main-call.png"
    if not main_window.grab().save(str(path)):
        raise SystemExit(f"could not write {path}")
    print(path)
    toast = out / "incoming-toast.png"
    phone.toast.grab().save(str(toast))
    print(toast)
    loop.run_until_complete(controller.aclose())
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
