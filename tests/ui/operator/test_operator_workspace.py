"""The operator workstation against the real server: what the operator sees and what reaches
the server when they press keys and buttons."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pytestqt.qtbot import QtBot

from desktop.api.client import PultClient
from desktop.operator import crm_panel
from desktop.operator.workspace import OperatorWorkspace
from desktop.qt import QtCore, QtWidgets
from tests.ui.operator.conftest import Live, settle, stop_streams, wait_for

Key = QtCore.Qt.Key
Mod = QtCore.Qt.KeyboardModifier


@pytest.fixture
def operator(
    qtbot: QtBot, sign_in: Callable[[str], PultClient], loop: asyncio.AbstractEventLoop
) -> Iterator[OperatorWorkspace]:
    ws = OperatorWorkspace(sign_in("popov"))
    qtbot.addWidget(ws)
    ws.resize(1100, 750)
    ws.show()
    ws.activateWindow()
    ws.start()
    wait_for(loop, lambda: ws.stream.connected and ws.user_id is not None)
    settle(loop)
    yield ws
    stop_streams(loop, ws.stream)


def server_me(ws: OperatorWorkspace) -> dict[str, Any]:
    """What the server holds (asked aside from the window, as another client would)."""
    assert ws.client.session is not None
    r = httpx.get(
        f"{ws.client.server}/api/operator/me",
        headers={"Authorization": f"Bearer {ws.client.session.access_token}"},
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def press(qtbot: QtBot, ws: QtWidgets.QWidget, key: Key, mods: Any = Mod.ControlModifier) -> None:
    qtbot.keyClick(QtWidgets.QApplication.focusWidget() or ws, key, mods)


def test_ready_then_break_with_a_reason_by_keyboard_reaches_the_server(
    qtbot: QtBot,
    operator: OperatorWorkspace,
    sign_in: Callable[[str], PultClient],
    loop: asyncio.AbstractEventLoop,
) -> None:
    admin = sign_in("admin")
    for name in ("Обед", "Технический перерыв"):
        loop.run_until_complete(admin.request("POST", "/api/break-reasons", json={"name": name}))
    operator.reload()
    settle(loop)
    assert [r["name"] for r in operator.status.reasons] == ["Обед", "Технический перерыв"]

    press(qtbot, operator, Key.Key_1)
    wait_for(loop, lambda: server_me(operator)["status"] == "ready")
    settle(loop)
    assert operator.status.buttons["ready"].isChecked()
    assert "Ожидаю звонок" in operator.status.state_label.text()

    # Ctrl+Shift+2: the second reason, «Технический перерыв».
    press(qtbot, operator, Key.Key_2, Mod.ControlModifier | Mod.ShiftModifier)
    wait_for(loop, lambda: server_me(operator)["break_reason"] == "Технический перерыв")
    settle(loop)
    assert server_me(operator)["status"] == "break"
    assert operator.status.buttons["break"].isChecked()
    assert operator.status.buttons["break"].text() == "Перерыв: Технический перерыв"

    press(qtbot, operator, Key.Key_3)
    wait_for(loop, lambda: operator.status.buttons["away"].isChecked())
    assert server_me(operator)["status"] == "away"


def test_offer_shows_greeting_and_caller_name_then_post_call_finish_and_extend(
    operator: OperatorWorkspace, live: Live, loop: asyncio.AbstractEventLoop
) -> None:
    opened: list[str] = []
    operator.crm._usable = False  # offscreen: the pane shows the link
    operator.status.request("ready")
    wait_for(loop, lambda: operator.me.get("status") == "ready")
    # Lebedeva and the rest of «Продажи» are offline, so the call is offered to Popov.
    answer = live.call("call-1", "+79161112233")
    assert answer["offered_to"] == operator.user_id
    wait_for(loop, lambda: operator.offer_panel.isVisible())
    panel = operator.offer_panel
    assert panel.greeting_label.text() == "Здравствуйте! ООО «Ромашка», продажи. Чем могу помочь?"
    assert "Продажи" in panel.title_label.text()
    assert "+79161112233" in panel.number_label.text()
    # The caller is in the company address book (ООО «Вектор»'s mobile) and a VIP.
    wait_for(loop, lambda: "ООО «Вектор»" in panel.caller_label.text())
    assert "VIP" in panel.caller_label.text()
    # The CRM page of this call, opened with the offer (the default), placeholders encoded.
    assert operator.crm.url == "https://crm.example/cards?phone=%2B79161112233&call=call-1"
    assert operator.crm.link_label.text() == operator.crm.url
    crm_panel.open_external, saved = (
        (lambda url: opened.append(url.toString())),
        crm_panel.open_external,
    )
    try:
        operator.crm.browser_button.click()
    finally:
        crm_panel.open_external = saved
    assert opened == [operator.crm.url]

    live.edge("/calls/call-1/answered", {"user_id": operator.user_id})
    wait_for(loop, lambda: operator.me.get("state") == "incoming_call")
    assert not panel.isVisible()
    assert "Входящий вызов" in operator.status.state_label.text()
    live.edge("/calls/call-1/ended", {})
    wait_for(loop, lambda: operator.post_call.isVisible())
    assert 25 <= operator.post_call.remaining() <= 30
    assert "Поствызывная обработка: осталось 0:" in operator.post_call.label.text()
    assert operator.post_call.extend_button.isEnabled()

    operator.post_call.extend_button.click()
    wait_for(loop, lambda: not operator.post_call.extend_button.isEnabled())
    settle(loop)
    assert operator.post_call.remaining() > 30  # extended by the group's post-call time
    assert server_me(operator)["post_call_extendable"] is False

    operator.post_call.finish_button.click()
    wait_for(loop, lambda: not operator.post_call.isVisible())
    me = server_me(operator)
    assert (me["state"], me["status"]) == ("idle", "ready")
