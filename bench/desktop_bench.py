"""Desktop cold start beside a bare PySide6 window, measured in the same run.

Each sample is a fresh Python process (a cold start as a person sees it), timed from launch
to the moment the window is on screen and the event loop is idle:

- ``baseline``: ``QApplication`` + an empty ``QMainWindow`` (the floor of this machine);
- ``login``: the Pult login window, interactive: painted on Qt's own event loop, as
  ``desktop.app.run`` does, before asyncio, qasync or the network stack are imported;
- ``main``: what a person waits for to reach the main window: the login window (as above),
  then, from the click on «Войти», until the main window with the softphone tab is on screen
  and idle (fake server, no network). The seconds the person spends typing are not counted,
  but the warm-up that runs meanwhile (asyncio and qasync, keyring, network stack, main
  window and pjsua2 modules) must end before the click, and its length is printed: it is
  what a person who clicks sooner would wait for instead. RSS is read once the pjsua2 engine
  runs and registers (to a dead address, so no server is needed);
- ``at-once`` (printed, no goal): the click comes the moment the login window is idle, before
  any warm-up, so everything is imported on the way to the main window (the old measure).

Python is given the project's bytecode first (an installed client has it; this checkout runs
with PYTHONDONTWRITEBYTECODE), so no sample compiles sources.

Goals (issue 5): login and main ≤ 1.5 × baseline and ≤ 1 s; RSS after login ≤ 250 MB.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m bench.desktop_bench [--runs 5]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def child(mode: str) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # pjlib logs to descriptor 1 from libCreate on: results go over a private copy of it.
    out = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)

    def report(**fields: object) -> None:
        out.write(json.dumps(fields) + "\n")
        out.flush()

    if mode == "baseline":
        from PySide6 import QtCore, QtWidgets

        app = QtWidgets.QApplication(sys.argv[:1])
        window = QtWidgets.QMainWindow()
        window.resize(900, 600)
        window.show()
        QtCore.QTimer.singleShot(0, app.quit)
        app.exec()
        report(rss_mb=_rss_mb())
        report(rss_mb=_rss_mb())
        return

    # Only what the application itself imports before its first paint: the fakes (and pytest,
    # which the test modules pull in) load afterwards, as the real network stack does.
    os.environ["PYTHON_KEYRING_BACKEND"] = "tests.ui.fakeserver.MemoryKeyring"
    os.environ.setdefault("PULT_INSTANCE_SOCKET", f"/tmp/pult-bench-{os.getpid()}")
    from desktop.app import Controller, start_event_loop, wait_first_paint
    from desktop.common.single_instance import InstanceServer, hand_over
    from desktop.qt import QtCore, QtWidgets

    fakes: dict[str, Any] = {}

    def client_factory(url: str) -> Any:
        from desktop.api.client import PultClient

        return PultClient(url, transport=fakes["server"].transport)

    # The steps of desktop.app.run up to the first paint, on Qt's own loop as there.
    hand_over("")  # the single-instance look-up a real launch makes (nobody answers)
    app = QtWidgets.QApplication(sys.argv[:1])
    instance = InstanceServer(parent=app)
    instance.listen()
    controller = Controller(client_factory=client_factory, server="http://127.0.0.1:8080")
    instance.received.connect(controller.open_link)
    controller.start()
    wait_first_paint(controller.login_window)
    idle = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(0, idle.quit)  # one more pass: nothing left for the loop to do
    idle.exec()
    if mode == "login":
        report(rss_mb=_rss_mb())
        report(rss_mb=_rss_mb())
        instance.close()
        return
    if mode == "main":
        report(login_window=True)  # the parent's clock: launch to an interactive login window
    # From here on what run() does after the paint: asyncio (qasync), then the warm-up.
    warm_start = time.perf_counter()
    loop = start_event_loop(app)
    QtCore.QTimer.singleShot(0, controller.warm_up)
    import asyncio

    login = controller.login_window
    warm_up = 0.0
    if mode == "main":
        # The person types now; the warm-up runs meanwhile, step by step on the event loop.
        deadline = warm_start + 10
        while not login.warmed and time.perf_counter() < deadline:
            loop.run_until_complete(asyncio.sleep(0.005))
        warm_up = time.perf_counter() - warm_start
        if not login.warmed:
            raise SystemExit("the login window's warm-up did not finish in 10 s")
    fakes["server"] = _sip_server()  # the bench's stand-in for a server: not timed
    from tests.ui.fakeserver import PASSWORD

    login.login_edit.setText("ivanov@demo.pult")
    login.password_edit.setText(PASSWORD)
    click = time.perf_counter()
    login.submit()
    assert login.pending is not None
    loop.run_until_complete(login.pending)
    assert controller.main_window is not None
    shown = asyncio.Event()
    QtCore.QTimer.singleShot(0, shown.set)
    loop.run_until_complete(shown.wait())
    report(rss_mb=_rss_mb(), sign_in_s=time.perf_counter() - click, warm_up_s=warm_up)
    # The softphone starts just after the first paint; RSS counts it once it is up.
    from desktop.softphone import workspace

    deadline = time.monotonic() + 5
    while not workspace._running and time.monotonic() < deadline:
        loop.run_until_complete(asyncio.sleep(0.02))
    loop.run_until_complete(asyncio.sleep(0.5))
    report(rss_mb=_rss_mb(), engine=bool(workspace._running))
    instance.close()
    loop.run_until_complete(controller.aclose())


def _sip_server() -> Any:
    """The fake server with a SIP identity, without importing the test modules (pytest)."""
    import httpx

    from tests.ui.fakeserver import FakeServer

    sip = {
        "sip_login": "ivanov",
        "sip_domain": "demo.pult",
        "ha1": "0" * 32,
        "registrar": "sip:127.0.0.1:9",  # nobody there: registration keeps retrying
    }

    class SipServer(FakeServer):
        async def handle(self, request: httpx.Request) -> httpx.Response:
            response = await super().handle(request)
            if request.url.path == "/api/auth/me" and response.status_code == 200:
                return httpx.Response(200, json={**response.json(), "sip": sip})
            return response

    return SipServer()


def sample(mode: str) -> tuple[float, dict[str, Any]]:
    """Seconds from launch to the window (``main``: to the login window, plus the click to the
    main window as the child measured it) and the child's last report."""
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.desktop_bench", "--child", mode],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()  # the (login) window is on screen
    elapsed = time.perf_counter() - start
    lines = [first, *proc.stdout]  # main: the main window, then the softphone running
    proc.wait(30)
    if len(lines) < 2 or not all(lines):
        raise SystemExit(f"{mode}: the child printed too little (exit {proc.returncode})")
    reports = [json.loads(line) for line in lines]
    info: dict[str, Any] = {k: v for r in reports for k, v in r.items()}
    if mode == "main":
        elapsed += float(info["sign_in_s"])
    return elapsed, info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--child", choices=["baseline", "login", "main", "at-once"])
    args = parser.parse_args(argv)
    if args.child:
        child(args.child)
        return 0
    # What an installed client has: bytecode for every module (quiet, and a no-op when current).
    compileall.compile_dir(ROOT / "desktop", quiet=1)
    compileall.compile_dir(ROOT / "bench", quiet=1)
    compileall.compile_file(ROOT / "tests" / "ui" / "fakeserver.py", quiet=1)
    results: dict[str, list[float]] = {"baseline": [], "login": [], "main": [], "at-once": []}
    sign_in: list[float] = []
    warm_up: list[float] = []
    rss = 0.0
    engine = False
    sample("baseline")  # warm the page cache once; every measured run is still a new process
    for _ in range(args.runs):
        for mode in results:  # interleaved, so drift hits all alike
            elapsed, info = sample(mode)
            results[mode].append(elapsed)
            if mode == "main":
                rss = max(rss, float(info["rss_mb"]))
                engine = bool(info.get("engine"))
                sign_in.append(float(info["sign_in_s"]))
                warm_up.append(float(info["warm_up_s"]))
    med = {mode: statistics.median(times) for mode, times in results.items()}
    base = med["baseline"]
    ok = True
    print(f"baseline QMainWindow      {base * 1000:7.0f} ms")
    for mode, label in (("login", "login window"), ("main", "main window after login")):
        ratio = med[mode] / base
        good = ratio <= 1.5 and med[mode] <= 1.0
        ok &= good
        print(
            f"{label:25} {med[mode] * 1000:7.0f} ms  ×{ratio:.2f} of baseline  "
            f"(goal ≤ ×1.5 and ≤ 1000 ms: {'met' if good else 'NOT met'})"
        )
    print(
        f"  of which «Войти» → main window {statistics.median(sign_in) * 1000:4.0f} ms; the "
        f"warm-up while the person types took {statistics.median(warm_up) * 1000:.0f} ms"
    )
    print(
        f"signing in at once          {med['at-once'] * 1000:5.0f} ms  ×{med['at-once'] / base:.2f}"
        " of baseline  (the click before any warm-up; no goal)"
    )
    good_rss = rss <= 250
    ok &= good_rss
    print(
        f"RSS after login           {rss:7.0f} MB  (softphone engine running: {engine}; "
        f"goal ≤ 250 MB: {'met' if good_rss else 'NOT met'})"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
