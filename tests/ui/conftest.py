"""Fixtures of the desktop tests: an in-memory keyring, a qasync loop, a fake server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import keyring
import pytest
from keyring.backend import KeyringBackend

from tests.ui.fakeserver import FakeServer, MemoryKeyring

if TYPE_CHECKING:
    from tests.ui.softphone.fake_engine import FakeEngine

UI_DIR = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The offscreen platform warns that it cannot resize windows to their size hints; that is
    # the platform, not us. Every other Qt warning still fails the test.
    quirk = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
    for item in items:
        if UI_DIR in Path(str(item.fspath)).parents:
            item.add_marker(quirk)


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Every desktop test gets an empty keyring of its own; the OS keyring is never touched."""
    previous: KeyringBackend = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def fake_server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def loop(qapp: object) -> Iterator[asyncio.AbstractEventLoop]:
    """The qasync loop the application runs on; tests drive it with run_until_complete."""
    from desktop.qt import QEventLoop

    event_loop = QEventLoop(qapp)
    asyncio.set_event_loop(event_loop)
    yield event_loop
    event_loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture
def engines(tmp_path: Path) -> Iterator[list[FakeEngine]]:
    """Softphone tabs get fake engines (listed here, in order) and keep their data in tmp."""
    from desktop.softphone import workspace
    from tests.ui.softphone.fake_engine import FakeEngine

    made: list[FakeEngine] = []

    def factory() -> FakeEngine:
        made.append(FakeEngine())
        return made[-1]

    workspace.engine_factory = factory
    workspace.data_dir = tmp_path
    yield made
    workspace.shutdown_all()
    workspace.engine_factory = None
    workspace.data_dir = None
