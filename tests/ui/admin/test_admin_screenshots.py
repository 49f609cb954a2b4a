"""Screenshots of every admin section on Xvfb (test-artifacts/screenshots/admin-*.png)."""

from __future__ import annotations

import os
import subprocess
import sys

from desktop.admin.sections import SECTIONS
from tests.ui.test_screenshots import OUT, ROOT, distinct_colours, xvfb_display  # noqa: F401


def test_screenshots_of_every_admin_section(xvfb_display: str) -> None:  # noqa: F811
    env = {**os.environ, "DISPLAY": xvfb_display, "QT_QPA_PLATFORM": "xcb"}
    env.pop("WAYLAND_DISPLAY", None)
    result = subprocess.run(
        [sys.executable, "-m", "tests.ui.admin.screens", str(OUT)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for cls in SECTIONS:
        path = OUT / f"admin-{cls.key}.png"
        assert path.exists(), f"no screenshot of {cls.key}"
        assert distinct_colours(path) > 20, f"{path.name} looks empty"
