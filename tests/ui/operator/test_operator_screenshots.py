"""Screenshots of the operator and supervisor workspaces on Xvfb
(test-artifacts/screenshots/operator.png, supervisor*.png)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.ui.test_screenshots import OUT, ROOT, distinct_colours, xvfb_display  # noqa: F401


def test_screenshots_of_operator_and_supervisor(xvfb_display: str) -> None:  # noqa: F811
    env = {**os.environ, "DISPLAY": xvfb_display, "QT_QPA_PLATFORM": "xcb"}
    env.pop("WAYLAND_DISPLAY", None)
    result = subprocess.run(
        [sys.executable, "-m", "tests.ui.operator.screens", str(OUT)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("operator", "supervisor", "supervisor-messages"):
        path = OUT / f"{name}.png"
        assert path.exists(), f"no screenshot {name}.png"
        assert distinct_colours(path) > 20, f"{name}.png looks empty"
