"""The CRM pane's embedded browser (QtWebEngine) on Xvfb, loading a real page over HTTP, and its
fallbacks. The browser runs in a child process (tests/ui/operator/crm_web.py); only a missing
Xvfb skips — a browser that does not start fails.

Screenshot: test-artifacts/screenshots/operator-crm.png.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from desktop.operator import crm_panel
from desktop.qt import QtWidgets
from tests.ui.operator.crm_web import BACKGROUND
from tests.ui.test_screenshots import OUT, ROOT, distinct_colours, xvfb_display  # noqa: F401

ENCODED = "/card?caller=%2B7%20%28495%29%20123-45-67&op=%D0%9F%D0%BE%D0%BF%D0%BE%D0%B2"


def run_child(display: str, **extra: str) -> tuple[dict[str, Any], str]:
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", **extra}
    for name in ("WAYLAND_DISPLAY", "PULT_NO_WEBENGINE", "QTWEBENGINE_DISABLE_SANDBOX"):
        if name not in extra:
            env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-m", "tests.ui.operator.crm_web", str(OUT)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert lines, result.stdout + result.stderr
    return json.loads(lines[-1]), result.stderr


def test_the_crm_page_opens_embedded_with_the_callers_values_encoded(
    xvfb_display: str,  # noqa: F811
) -> None:
    report, stderr = run_child(xvfb_display)
    details = json.dumps(report, ensure_ascii=False) + "\n" + stderr
    assert report["platform"] == "xcb"
    assert report["embedded"], details
    assert report["loads"] == [True], details
    assert report["expected_url"].endswith(ENCODED)
    assert report["view_url"] == report["expected_url"], details
    # The server decoded exactly what the operator's card is about.
    assert report["title"] == "CRM +7 (495) 123-45-67 / Попов", details
    lines = [line for line in report["text"].splitlines() if line]
    assert lines == ["Карточка клиента", "+7 (495) 123-45-67", "Попов"], details
    assert report["requests"] == [ENCODED], details
    assert report["painted"], f"the pane never showed the page's {BACKGROUND}: {details}"
    assert report["still_embedded"], details
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        assert "without Chromium's sandbox" in stderr
    path = OUT / "operator-crm.png"
    assert report["screenshot"] == str(path)
    assert distinct_colours(path) > 20, "operator-crm.png looks empty"


def test_pult_no_webengine_shows_the_link_on_a_real_display(xvfb_display: str) -> None:  # noqa: F811
    report, _ = run_child(xvfb_display, PULT_NO_WEBENGINE="1")
    assert report["platform"] == "xcb"
    assert not report["embedded"]
    assert report["note"].startswith("Встроенный браузер недоступен")
    assert report["expected_url"] in report["note"]


def test_root_gets_the_sandbox_switched_off_once_and_others_keep_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("QTWEBENGINE_DISABLE_SANDBOX", "QTWEBENGINE_CHROMIUM_FLAGS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    crm_panel.allow_root_without_sandbox()
    assert "QTWEBENGINE_DISABLE_SANDBOX" not in os.environ

    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setenv("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox --disable-gpu")
    crm_panel.allow_root_without_sandbox()
    assert "QTWEBENGINE_DISABLE_SANDBOX" not in os.environ  # the owner's own choice stands

    monkeypatch.delenv("QTWEBENGINE_CHROMIUM_FLAGS")
    crm_panel.allow_root_without_sandbox()
    assert os.environ["QTWEBENGINE_DISABLE_SANDBOX"] == "1"


def test_offscreen_never_loads_the_web_engine(
    qapp: QtWidgets.QApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PULT_NO_WEBENGINE", raising=False)
    assert qapp.platformName() == "offscreen"
    assert crm_panel.web_view_usable() is False
    assert "PySide6.QtWebEngineWidgets" not in sys.modules
