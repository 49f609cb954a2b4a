"""A number a workspace wants dialled reaches the application's click-to-call path."""

from __future__ import annotations

import asyncio

from pytestqt.qtbot import QtBot

from desktop.api.client import PultClient
from desktop.main_window import MainWindow
from desktop.qt import QtWidgets
from tests.ui.fakeserver import PASSWORD, FakeServer
from tests.ui.softphone.fake_engine import FakeEngine


def test_the_operator_tabs_dial_request_leaves_through_the_main_window(
    qtbot: QtBot, fake_server: FakeServer, loop: asyncio.AbstractEventLoop
) -> None:
    client = PultClient("http://pult.test", transport=fake_server.transport)
    loop.run_until_complete(client.login("petrova@demo.pult", PASSWORD))
    window = MainWindow(client)
    qtbot.addWidget(window)
    asked: list[str] = []
    window.dial_requested.connect(asked.append)
    operator = window.findChild(QtWidgets.QWidget, "workspace-operator")
    assert operator is not None
    operator.dial_requested.emit("+74951234567")  # what the campaign card's button sends
    assert asked == ["+74951234567"]
    loop.run_until_complete(client.aclose())


def test_switching_and_ending_listen_in_reach_the_supervisors_phone(
    qtbot: QtBot,
    fake_server: FakeServer,
    loop: asyncio.AbstractEventLoop,
    engines: list[FakeEngine],
) -> None:
    """The supervisor's mode switch goes to the operator's phone as the spy call's message,
    and «Закончить» hangs that call up — not the supervisor's other call."""
    client = PultClient("http://pult.test", transport=fake_server.transport)
    loop.run_until_complete(client.login("sidorov@demo.pult", PASSWORD))
    window = MainWindow(client)
    qtbot.addWidget(window)
    engine = engines[0]
    other = engine.dial("1003")
    engine.remote_answer(other)
    engine.hold(other)
    spy = engine.dial("spy-9f2c@demo.pult")
    engine.remote_answer(spy)
    supervisor = window.findChild(QtWidgets.QWidget, "workspace-supervisor")
    if supervisor is None:  # built when its tab is first chosen
        window.tabs.setCurrentIndex(window.tabs.count() - 1)
        supervisor = window.findChild(QtWidgets.QWidget, "workspace-supervisor")
    assert supervisor is not None

    supervisor.spy_mode_requested.emit("whisper")
    assert ("spy_mode", spy, "whisper") in engine.actions
    supervisor.spy_hangup_requested.emit()
    assert ("hangup", spy) in engine.actions
    assert ("hangup", other) not in engine.actions
    loop.run_until_complete(client.aclose())


def test_the_campaign_cards_hangup_ends_the_phones_call(
    qtbot: QtBot,
    fake_server: FakeServer,
    loop: asyncio.AbstractEventLoop,
    engines: list[FakeEngine],
) -> None:
    client = PultClient("http://pult.test", transport=fake_server.transport)
    loop.run_until_complete(client.login("petrova@demo.pult", PASSWORD))
    window = MainWindow(client)
    qtbot.addWidget(window)
    engine = engines[0]
    line = engine.dial("+74951234567")
    engine.remote_answer(line)
    operator = window.findChild(QtWidgets.QWidget, "workspace-operator")
    assert operator is not None
    operator.hangup_requested.emit()  # the card's ring time or talk limit ran out
    assert ("hangup", line) in engine.actions
    loop.run_until_complete(client.aclose())
