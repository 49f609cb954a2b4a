"""Screenshots of the login and main windows on a real X server (Xvfb), for people to look at.

Saved to test-artifacts/screenshots/. The check that they show something (not a blank or
one-colour frame) is what makes this a test rather than a picture generator.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.qt import QtGui

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test-artifacts" / "screenshots"


@pytest.fixture
def xvfb_display() -> Iterator[str]:
    binary = shutil.which("Xvfb")
    if binary is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb; ./test.sh does it)")
    read_end, write_end = os.pipe()
    # -displayfd: Xvfb picks a free display number and writes it to us when it is ready.
    server = subprocess.Popen(
        [binary, "-displayfd", str(write_end), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        with os.fdopen(read_end) as pipe:
            number = pipe.readline().strip()
        if not number:
            pytest.fail("Xvfb did not start")
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def distinct_colours(path: Path) -> int:
    image = QtGui.QImage(str(path))
    assert not image.isNull(), f"{path} is not a readable image"
    step = 3
    return len(
        {
            image.pixel(x, y)
            for x in range(0, image.width(), step)
            for y in range(0, image.height(), step)
        }
    )


def test_screenshots_of_login_and_main_window(xvfb_display: str) -> None:
    env = {**os.environ, "DISPLAY": xvfb_display, "QT_QPA_PLATFORM": "xcb"}
    env.pop("WAYLAND_DISPLAY", None)
    result = subprocess.run(
        [sys.executable, "-m", "tests.ui.screens", str(OUT)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for name, min_size in (
        ("login", (400, 200)),
        ("login-error", (400, 200)),
        ("main", (800, 500)),
    ):
        path = OUT / f"{name}.png"
        image = QtGui.QImage(str(path))
        assert (image.width(), image.height()) >= min_size, f"{name}.png is {image.size()}"
        # Text and widgets drawn with antialiasing give many colours; a blank frame gives one.
        assert distinct_colours(path) > 20, f"{name}.png looks empty"
