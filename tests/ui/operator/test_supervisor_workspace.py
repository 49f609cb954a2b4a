"""The supervisor's monitor against the real server: the operators' table and group tiles
follow the event stream, and joining a call asks the server and dials what it answers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from desktop.api.client import PultClient
from desktop.operator.supervisor_workspace import SupervisorWorkspace
from desktop.operator.workspace import OperatorWorkspace
from server_stub.store.models import Domain
from server_stub.store.models_calls import Cdr
from tests.ui.operator.conftest import Live, settle, stop_streams, wait_for


@pytest.fixture
def pair(
    qtbot: QtBot, sign_in: Callable[[str], PultClient], loop: asyncio.AbstractEventLoop
) -> Iterator[tuple[SupervisorWorkspace, OperatorWorkspace]]:
    boss = SupervisorWorkspace(sign_in("orlova"))
    popov = OperatorWorkspace(sign_in("popov"))
    for ws in (boss, popov):
        qtbot.addWidget(ws)
        ws.resize(1200, 800)
        ws.show()
        ws.start()
    wait_for(loop, lambda: boss.stream.connected and popov.stream.connected)
    wait_for(loop, lambda: popov.user_id is not None and boss.table.rowCount() == 10)
    settle(loop)
    yield boss, popov
    stop_streams(loop, boss.stream, popov.stream)


def test_table_and_tiles_follow_events_and_spy_buttons_ask_the_server_and_dial(
    pair: tuple[SupervisorWorkspace, OperatorWorkspace],
    live: Live,
    loop: asyncio.AbstractEventLoop,
) -> None:
    boss, popov = pair
    uid = popov.user_id
    assert uid is not None
    sales = live.group_id("Продажи")
    assert boss.table.text_of(uid, "Оператор") == "Попов Дмитрий Сергеевич"
    assert boss.table.text_of(uid, "В сети") == "нет"
    assert boss.tiles.tiles[sales].online_label.text() == "На работе: 0 из 5"

    popov.status.request("ready")
    wait_for(loop, lambda: boss.table.text_of(uid, "Статус") == "Ожидает звонок")
    assert boss.table.text_of(uid, "В сети") == "да"
    wait_for(loop, lambda: boss.tiles.tiles[sales].online_label.text() == "На работе: 1 из 5")

    live.call("call-7", "+74951112233")
    wait_for(loop, lambda: boss.table.text_of(uid, "Состояние") == "Вызывается")
    assert boss.tiles.tiles[sales].row["counts"]["offered"] == 1
    # Nobody is free: a second caller waits, and the tile says so.
    live.call("call-8", "+74952223344")
    wait_for(loop, lambda: boss.tiles.tiles[sales].queue_label.text() == "Очередь: 1")

    # Before the call is answered the operator cannot be joined.
    boss.table.select(uid)
    assert not boss.spy.buttons["listen"].isEnabled()

    live.edge("/calls/call-7/answered", {"user_id": uid})
    domain = live.db.execute(select(Domain).where(Domain.name == "demo.pult")).scalar_one()
    now = datetime.now(UTC)
    live.db.add(
        Cdr(
            call_id="call-7",
            domain_id=domain.id,
            direction="incoming",
            caller="+74951112233",
            called="+74957654321",
            started_at=now,
            answered_at=now,
            answered_by="sip:popov@demo.pult",
        )
    )
    live.db.commit()
    wait_for(loop, lambda: boss.table.text_of(uid, "Состояние") == "Входящий вызов")
    assert boss.spy.buttons["listen"].isEnabled()

    dialled: list[str] = []
    boss.dial_requested.connect(dialled.append)
    boss.spy.buttons["listen"].click()
    wait_for(loop, lambda: boss.spy.session is not None)
    session = boss.spy.session
    assert session is not None and session["mode"] == "listen"
    assert dialled == [session["target"]]
    assert dialled[0].endswith("@demo.pult")
    assert boss.spy.buttons["listen"].isChecked()

    boss.spy.buttons["whisper"].click()
    wait_for(loop, lambda: boss.spy.session is not None and boss.spy.session["mode"] == "whisper")
    assert boss.spy.buttons["whisper"].isChecked() and not boss.spy.buttons["listen"].isChecked()
    listed = loop.run_until_complete(boss.client.request("GET", "/api/acd/spy"))
    assert [(s["id"], s["mode"]) for s in listed["items"]] == [(session["id"], "whisper")]

    boss.spy.end_button.click()
    wait_for(loop, lambda: boss.spy.session is None)
    settle(loop)
    listed = loop.run_until_complete(boss.client.request("GET", "/api/acd/spy"))
    assert listed["items"] == []
    assert dialled == [session["target"]]  # ending does not dial anything
