"""A screenshot of the main window during a call (Xvfb), saved for review."""

from __future__ import annotations

import os
import subprocess
import sys

from desktop.qt import QtGui
from tests.ui.test_screenshots import OUT, ROOT, distinct_colours, xvfb_display  # noqa: F401


def test_screenshot_of_the_main_window_during_a_call(xvfb_display: str) -> None:  # noqa: F811
    env = {**os.environ, "DISPLAY": xvfb_display, "QT_QPA_PLATFORM": "xcb"}
    env.pop("WAYLAND_DISPLAY", None)
    result = subprocess.run(
        [sys.executable, "-m", "tests.ui.softphone.screens_call", str(OUT)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    image = QtGui.QImage(str(OUT / "main-call.png"))
    assert (image.width(), image.height()) >= (800, 500)
    assert distinct_colours(OUT / "main-call.png") > 20
    assert distinct_colours(OUT / "incoming-toast.png") > 10
