"""The softphone tab in the main window: SIP identity from /api/auth/me, engine lifecycle."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from pytestqt.qtbot import QtBot

from desktop.api.client import PultClient
from desktop.softphone import workspace
from desktop.softphone.widgets.softphone import SoftphoneWidget
from tests.ui.fakeserver import PASSWORD, FakeServer
from tests.ui.softphone.fake_engine import FakeEngine

SIP = {
    "sip_login": "ivanov",
    "sip_domain": "demo.pult",
    "ha1": "0" * 32,
    "registrar": "sip:127.0.0.1:5060",
}


class SipServer(FakeServer):
    """The fake server plus the SIP block of /api/auth/me that a domain user gets."""

    async def handle(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle(request)
        if request.url.path == "/api/auth/me" and response.status_code == 200:
            body: dict[str, Any] = response.json()
            body["sip"] = SIP
            return httpx.Response(200, json=body)
        return response


def settle(loop: asyncio.AbstractEventLoop, widget: SoftphoneWidget) -> None:
    """Run the loop past the deferred start, then until the start-up task is done."""
    loop.run_until_complete(asyncio.sleep(workspace.START_DELAY_MS / 1000 + 0.1))
    if widget.tasks:
        loop.run_until_complete(asyncio.gather(*widget.tasks))


def test_the_tab_registers_with_the_users_sip_identity_and_stops_with_the_window(
    qtbot: QtBot, loop: asyncio.AbstractEventLoop, engines: list[FakeEngine]
) -> None:
    server = SipServer()
    client = PultClient("http://pbx.test", transport=server.transport)
    loop.run_until_complete(client.login("ivanov@demo.pult", PASSWORD))
    widget = workspace.create(client, None)
    qtbot.addWidget(widget)
    assert isinstance(widget, SoftphoneWidget)
    settle(loop, widget)
    engine = engines[0]
    assert engine.started
    assert engine.account is not None
    assert (engine.account.login, engine.account.domain, engine.account.ha1) == (
        "ivanov",
        "demo.pult",
        "0" * 32,
    )
    assert engine.account.display_name == "Иван Иванов"
    assert widget.registration_label.text() == "Зарегистрирован"
    assert widget.history_page.server_button.isHidden()  # not an administrator
    qtbot.waitUntil(lambda: engine.polls > 2, timeout=2000)  # the QTimer polls it
    workspace.shutdown_all()
    assert engine.stopped
    loop.run_until_complete(client.aclose())


def test_an_account_without_sip_gets_no_phone(
    qtbot: QtBot, loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    workspace.data_dir = tmp_path
    try:
        server = FakeServer()
        client = PultClient("http://pbx.test", transport=server.transport)
        loop.run_until_complete(client.login("pool", PASSWORD))
        widget = workspace.create(client, None)
        assert isinstance(widget, SoftphoneWidget)
        qtbot.addWidget(widget)
        settle(loop, widget)
        assert widget.registration_label.text() == "У этой учётной записи нет телефона"
        assert workspace._running == []
        loop.run_until_complete(client.aclose())
    finally:
        workspace.data_dir = None


def test_the_tls_transport_registers_at_the_edges_tls_address() -> None:
    me = {
        "display_name": "Анна",
        "sip": {
            "sip_login": "anna",
            "sip_domain": "demo.pult",
            "ha1": "0" * 32,
            "registrar": "sip:pbx.example:5060",
            "registrar_tls": "sip:pbx.example:5061",
        },
    }
    udp = workspace.account_from_me(me)
    tls = workspace.account_from_me(me, "tls")
    assert udp is not None and tls is not None
    assert (udp.registrar, udp.transport.value) == ("sip:pbx.example:5060", "udp")
    assert (tls.registrar, tls.transport.value) == ("sip:pbx.example:5061", "tls")
    # A server without TLS: the phone tries the one registrar it has.
    me["sip"]["registrar_tls"] = None  # type: ignore[index]
    fallback = workspace.account_from_me(me, "tls")
    assert fallback is not None and fallback.registrar == "sip:pbx.example:5060"
