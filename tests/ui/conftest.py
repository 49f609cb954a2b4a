"""Fixtures of the desktop tests: an in-memory keyring, a qasync loop, a fake server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

from tests.ui.fakeserver import FakeServer, MemoryKeyring

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
