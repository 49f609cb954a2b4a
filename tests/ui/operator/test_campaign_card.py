"""The campaign card against the real server: start a campaign, dial from the card, record the
result, get the next card — what the operator sees and what reaches the server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from desktop.api.client import PultClient
from desktop.operator.campaign_card import CampaignCard
from desktop.qt import QtCore
from server_stub.store.models import User
from server_stub.store.models_calls import Cdr
from tests.ui.operator.conftest import Live, settle, wait_for


def _request(
    loop: asyncio.AbstractEventLoop, client: PultClient, method: str, path: str, **kw: Any
) -> Any:
    return loop.run_until_complete(client.request(method, path, **kw))


@pytest.fixture
def campaign(
    live: Live, sign_in: Callable[[str], PultClient], loop: asyncio.AbstractEventLoop
) -> dict[str, Any]:
    admin = sign_in("admin")
    now = datetime.now(UTC)
    c = _request(
        loop,
        admin,
        "POST",
        "/api/campaigns",
        json={
            "name": "Оповещение об акции",
            "group_id": live.group_id("Продажи"),
            "attempts": 2,
            "method": "sequential",
            "max_minutes": 10,
            "info_url": "https://crm.example/client/{client_id}",
            "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(days=1)).isoformat(),
            "active": True,
        },
    )
    for name, number, notes in (
        ("Николай", "+79161112233", "Постоянный клиент"),
        ("Роман", "+79161112244", ""),
    ):
        _request(
            loop,
            admin,
            "POST",
            f"/api/campaigns/{c['id']}/clients",
            json={"name": name, "numbers": [number], "notes": notes},
        )
    return dict(c)


@pytest.fixture
def card(
    qtbot: QtBot,
    sign_in: Callable[[str], PultClient],
    loop: asyncio.AbstractEventLoop,
    campaign: dict[str, Any],
) -> Iterator[CampaignCard]:
    client = sign_in("popov")
    _request(loop, client, "PUT", "/api/operator/status", json={"status": "ready"})
    widget = CampaignCard(client)
    qtbot.addWidget(widget)
    widget.resize(700, 600)
    widget.show()
    wait_for(loop, lambda: widget.campaigns.count() > 0)
    yield widget
    settle(loop)


def test_operator_dials_from_the_card_records_the_result_and_gets_the_next_card(
    qtbot: QtBot,
    card: CampaignCard,
    live: Live,
    loop: asyncio.AbstractEventLoop,
    campaign: dict[str, Any],
) -> None:
    assert card.campaigns.currentText() == "Оповещение об акции"
    assert not card.card_box.isVisible()
    qtbot.mouseClick(card.start_button, QtCore.Qt.MouseButton.LeftButton)
    wait_for(loop, lambda: card.name_label.text() == "Николай")
    assert card.start_button.text() == "Завершить обзвон"
    assert "+79161112233" in card.numbers_label.text()
    assert card.notes_label.text() == "Постоянный клиент"
    assert "crm.example/client/" in card.link.text()
    assert card.progress_label.text() == "Выполнено 0 из 2 · в работе 1 · осталось 1"
    assert not card.save_button.isEnabled()  # the result comes after a call

    dialled: list[str] = []
    card.dial_requested.connect(dialled.append)
    qtbot.mouseClick(card.dial_button, QtCore.Qt.MouseButton.LeftButton)
    wait_for(loop, lambda: dialled == ["+79161112233"])
    assert card.call_label.text().startswith("Звоню +79161112233")
    assert not card.dial_button.isEnabled()
    # The softphone's call, as the SIP edge records it: the client answered.
    popov = live.db.execute(select(User).where(User.login == "popov")).scalar_one()
    now = datetime.now(UTC)
    live.db.add(
        Cdr(
            call_id="campaign-ui-1",
            domain_id=popov.domain_id,
            direction="mobile",
            caller=popov.extension,
            caller_user_id=popov.id,
            called="+79161112233",
            started_at=now,
            answered_at=now + timedelta(seconds=1),
            result="answered",
        )
    )
    live.db.commit()
    wait_for(
        loop,
        lambda: card.history.rowCount() == 1 and card.history.item(0, 2).text() == "ответил",
    )
    assert card.call_label.text().startswith("Разговор: осталось")
    assert card.save_button.isEnabled()

    card.result.setCurrentIndex(card.result.findText("Успешный вызов"))
    card.comment.setText("согласился")
    qtbot.mouseClick(card.save_button, QtCore.Qt.MouseButton.LeftButton)
    wait_for(loop, lambda: card.name_label.text() == "Роман")
    assert card.progress_label.text() == "Выполнено 1 из 2 · в работе 1 · осталось 0"
    assert card.history.rowCount() == 0 and card.comment.text() == ""


def test_a_callback_time_is_sent_and_the_card_leaves_the_screen(
    qtbot: QtBot,
    card: CampaignCard,
    live: Live,
    loop: asyncio.AbstractEventLoop,
    sign_in: Callable[[str], PultClient],
    campaign: dict[str, Any],
) -> None:
    card.start_campaign(campaign["id"])
    wait_for(loop, lambda: card.name_label.text() == "Николай")
    card.dial()
    wait_for(loop, lambda: card.history.rowCount() == 1)
    # The softphone could not place the call (no call record): its report counts.
    card.report_outcome("failed")
    wait_for(loop, lambda: card.history.item(0, 2).text() == "не удалось")
    card.result.setCurrentIndex(card.result.findText("Нет ответа"))
    card.callback_check.setChecked(True)
    when = QtCore.QDateTime.currentDateTime().addSecs(3600)
    card.callback_time.setDateTime(when)
    qtbot.mouseClick(card.save_button, QtCore.Qt.MouseButton.LeftButton)
    wait_for(loop, lambda: card.name_label.text() == "Роман")
    admin = sign_in("admin")
    listing = _request(loop, admin, "GET", f"/api/campaigns/{campaign['id']}/clients")
    first = listing["items"][0]
    assert first["state"] == "callback" and first["status"] == "Нет ответа"
    sent = datetime.fromisoformat(first["callback_at"])
    assert abs(sent.timestamp() - when.toSecsSinceEpoch()) < 60
    # Stopping puts the card on screen back in the list.
    qtbot.mouseClick(card.start_button, QtCore.Qt.MouseButton.LeftButton)
    wait_for(loop, lambda: not card.card_box.isVisible())
    assert card.start_button.text() == "Начать обзвон"
