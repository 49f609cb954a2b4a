"""A softphone page on a fake engine, a fake directory and a settings file of its own."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from desktop.qt import QtCore
from desktop.softphone.directory import Directory
from desktop.softphone.history import History
from desktop.softphone.qt_adapter import EngineAdapter
from desktop.softphone.widgets.softphone import SoftphoneWidget
from tests.ui.softphone.fake_engine import FakeEngine

DIRECTORY: list[dict[str, Any]] = [
    {
        "source": "company",
        "id": 1,
        "name": "Анна Петрова",
        "phones": [{"kind": "work", "number": "+74951234567"}],
    },
    {"source": "user", "id": 2, "name": "Анна Петрова", "extension": "1002", "phones": []},
    {"source": "user", "id": 3, "name": "Пётр Сидоров", "extension": "1003", "phones": []},
]


class FakeDirectoryClient:
    """Answers GET /api/directory/search as the server does: contacts by name or number,
    users by name only."""

    def __init__(self) -> None:
        self.queries: list[str] = []

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        assert (method, path) == ("GET", "/api/directory/search")
        q = str(kwargs["params"].get("q", "")).lower()
        self.queries.append(q)
        digits = "".join(ch for ch in q if ch.isdigit())
        items = [
            item
            for item in DIRECTORY
            if not q
            or q in str(item["name"]).lower()
            or (digits and any(digits in p["number"] for p in item["phones"]))
        ]
        return {"items": items, "total": len(items)}


SOFTPHONE_DIR = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # More offscreen-platform quirks: the toast is a stay-on-top tool window (Qt raises it),
    # and the completion popup grabs the keyboard. Every other Qt warning still fails.
    # pytest-qt reads only the closest qt_log_ignore marker, so this one repeats the parent's.
    quirks = pytest.mark.qt_log_ignore(
        "This plugin does not support propagateSizeHints",
        "This plugin does not support raise",
        "This plugin does not support grabbing the keyboard",
    )
    for item in items:
        if SOFTPHONE_DIR in Path(str(item.fspath)).parents:
            item.add_marker(quirks)


@dataclass
class Phone:
    widget: SoftphoneWidget
    engine: FakeEngine
    directory: FakeDirectoryClient
    loop: asyncio.AbstractEventLoop
    settings: QtCore.QSettings

    def settle(self) -> None:
        """Let the page's asyncio tasks (directory look-ups) finish."""
        for _ in range(5):
            pending = list(self.widget.tasks | self.widget.history_page_tasks())
            if not pending:
                break
            self.loop.run_until_complete(asyncio.gather(*pending))

    def panel(self, slot: int) -> Any:
        return self.widget.panels[slot]

    def action_names(self) -> list[str]:
        return [a[0] for a in self.engine.actions]


def make_phone(
    qtbot: QtBot, loop: asyncio.AbstractEventLoop, tmp_path: Path, server_history: Any = None
) -> Phone:
    engine = FakeEngine()
    adapter = EngineAdapter(engine)
    settings = QtCore.QSettings(str(tmp_path / "softphone.ini"), QtCore.QSettings.Format.IniFormat)
    client = FakeDirectoryClient()
    widget = SoftphoneWidget(
        adapter,
        directory=Directory(client),
        history=History(tmp_path / "history.json"),
        settings=settings,
        server_history=server_history,
    )
    adapter.setParent(widget)
    qtbot.addWidget(widget)
    qtbot.addWidget(widget.toast)
    adapter.start()
    widget.show()
    widget.activateWindow()
    qtbot.waitExposed(widget)
    engine.actions.clear()  # the page applied the remembered sound devices; tests start here
    return Phone(widget, engine, client, loop, settings)


@pytest.fixture
def phone(qtbot: QtBot, loop: asyncio.AbstractEventLoop, tmp_path: Path) -> Iterator[Phone]:
    p = make_phone(qtbot, loop, tmp_path)
    yield p
    p.widget.adapter.stop()
