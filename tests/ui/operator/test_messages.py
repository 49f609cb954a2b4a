"""Operator messages end to end: the supervisor sends, the operator sees an unread badge and
confirms reading with the password (a wrong one confirms nothing), the supervisor's report
moves the operator from «не прочитали» to «прочитали»."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest
from pytestqt.qtbot import QtBot

from desktop.api.client import PultClient
from desktop.operator.supervisor_workspace import SupervisorWorkspace
from desktop.operator.workspace import OperatorWorkspace
from desktop.qt import QtCore
from server_stub.demo import PASSWORD
from tests.ui.operator.conftest import settle, stop_streams, wait_for


@pytest.fixture
def pair(
    qtbot: QtBot, sign_in: Callable[[str], PultClient], loop: asyncio.AbstractEventLoop
) -> Iterator[tuple[SupervisorWorkspace, OperatorWorkspace]]:
    boss = SupervisorWorkspace(sign_in("orlova"))
    popov = OperatorWorkspace(sign_in("popov"))
    for ws in (boss, popov):
        qtbot.addWidget(ws)
        ws.resize(1100, 750)
        ws.show()
        ws.start()
    wait_for(loop, lambda: boss.stream.connected and popov.stream.connected)
    wait_for(loop, lambda: popov.user_id is not None)
    settle(loop)
    yield boss, popov
    stop_streams(loop, boss.stream, popov.stream)


def test_send_message_badge_ack_with_wrong_then_right_password_and_read_report(
    pair: tuple[SupervisorWorkspace, OperatorWorkspace], loop: asyncio.AbstractEventLoop
) -> None:
    boss, popov = pair
    tab = popov.tabs.indexOf(popov.messages)
    assert popov.tabs.tabText(tab) == "Сообщения"

    boss.sent.new_button.click()
    wait_for(loop, lambda: boss.dialog is not None and boss.dialog.isVisible())
    dialog = boss.dialog
    assert dialog is not None
    dialog.send_button.click()  # nothing filled in: refused here, nothing sent
    assert "хотя бы одну группу" in dialog.error_label.text()
    dialog.title_edit.setText("Новый прайс")
    dialog.text_edit.setPlainText("С понедельника действуют новые цены.")
    dialog.check("Ресепшн")  # no operators there: the server refuses, the dialog stays
    dialog.send_button.click()
    wait_for(loop, lambda: "нет ни одного оператора" in dialog.error_label.text())
    assert dialog.isVisible()
    for index in range(dialog.groups.count()):
        dialog.groups.item(index).setCheckState(QtCore.Qt.CheckState.Unchecked)
    dialog.check("Продажи")
    dialog.send_button.click()
    wait_for(loop, lambda: not dialog.isVisible())
    wait_for(loop, lambda: boss.sent.table.rowCount() == 1)
    assert boss.sent.read_text(boss.sent.items[0]["id"]) == "0/5"  # five sales operators

    # The operator's tab counts it at once (event stream), and the message is on top.
    wait_for(loop, lambda: popov.tabs.tabText(tab) == "Сообщения (1)")
    panel = popov.messages
    assert panel.title_label.text() == "Новый прайс"
    assert panel.text_view.toPlainText() == "С понедельника действуют новые цены."
    assert panel.confirm_box.isVisibleTo(panel)

    panel.password_edit.setText("not-my-password")
    panel.ack_button.click()
    wait_for(loop, lambda: "Неверный пароль" in panel.result_label.text())
    settle(loop)
    assert popov.tabs.tabText(tab) == "Сообщения (1)"

    panel.password_edit.setText(PASSWORD)
    panel.ack_button.click()
    wait_for(loop, lambda: popov.tabs.tabText(tab) == "Сообщения")
    assert panel.result_label.text() == "Прочтение подтверждено"
    assert not panel.confirm_box.isVisibleTo(panel)

    # The supervisor's list and report follow the «read» event.
    wait_for(loop, lambda: boss.sent.read_text(boss.sent.items[0]["id"]) == "1/5")
    boss.sent.select(int(boss.sent.items[0]["id"]))
    wait_for(loop, lambda: boss.sent.read_list.count() == 1)
    assert boss.sent.read_list.item(0).text().startswith("Попов Дмитрий Сергеевич")
    assert boss.sent.unread_list.count() == 4
    assert boss.sent.read_title.text() == "Прочитали (1)"
