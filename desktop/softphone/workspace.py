"""The softphone tab: ``create(client, parent)`` as the main window expects.

The SIP identity comes from GET /api/auth/me (a domain user's login, domain, HA1 and
registrar). pjsua2 starts only when there is one: a pool administrator has no phone. pjsua2
allows one endpoint per process, so a new workspace (after signing in again) stops the old
engine first, and the application stops the last one before it exits.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from desktop.api.client import PultClient
from desktop.qt import QtCore, QtWidgets
from desktop.softphone.directory import Directory
from desktop.softphone.engine.api import EngineAPI
from desktop.softphone.engine.types import SipAccount, Transport
from desktop.softphone.history import History
from desktop.softphone.qt_adapter import EngineAdapter
from desktop.softphone.widgets.softphone import SoftphoneWidget

log = logging.getLogger(__name__)

#: Tests and the screenshot script put a fake engine here; None = the pjsua2 engine.
engine_factory: Callable[[], EngineAPI] | None = None
#: Where settings and history live; tests point it at a temporary directory.
data_dir: Path | None = None

_running: list[EngineAdapter] = []

START_DELAY_MS = 50


def _real_engine() -> EngineAPI:
    from desktop.softphone.engine.engine import Engine, EngineConfig

    # TLS is chosen in the settings file (softphone/transport=tls); the edge's certificate is
    # checked against softphone/tls_ca_file, else the system's CA bundle.
    settings = _settings()
    tls = str(settings.value("softphone/transport", "udp")) == "tls"
    ca_file = str(settings.value("softphone/tls_ca_file", ""))
    return Engine(EngineConfig(tls=tls, tls_ca_file=ca_file))


def _settings() -> QtCore.QSettings:
    if data_dir is not None:
        return QtCore.QSettings(str(data_dir / "softphone.ini"), QtCore.QSettings.Format.IniFormat)
    return QtCore.QSettings("Pult", "Pult")


def _history_path(client: PultClient) -> Path | None:
    base = data_dir or Path(
        QtCore.QStandardPaths.writableLocation(
            QtCore.QStandardPaths.StandardLocation.AppDataLocation
        )
        or "."
    )
    who = client.principal.address if client.principal else "anonymous"
    safe = re.sub(r"[^A-Za-z0-9@._-]", "_", who)
    return base / f"call-history-{safe}.json"


def account_from_me(me: dict[str, Any], transport: str = "udp") -> SipAccount | None:
    sip = me.get("sip")
    if not isinstance(sip, dict):
        return None
    registrar = str(sip["registrar"])
    if transport == "tls" and sip.get("registrar_tls"):
        registrar = str(sip["registrar_tls"])  # the edge listens for TLS on its own port
    return SipAccount(
        login=str(sip["sip_login"]),
        domain=str(sip["sip_domain"]),
        ha1=str(sip["ha1"]),
        registrar=registrar,
        display_name=str(me.get("display_name") or ""),
        transport=Transport(transport),
    )


def shutdown_all() -> None:
    """Hang up and destroy pjsua2 (the application calls this before it exits)."""
    while _running:
        _running.pop().stop()


def create(client: PultClient, parent: QtWidgets.QWidget | None = None) -> QtWidgets.QWidget:
    engine = (engine_factory or _real_engine)()
    settings = _settings()
    adapter = EngineAdapter(engine)
    is_admin = client.principal is not None and "domain_admin" in client.principal.roles

    async def cdrs() -> list[dict[str, Any]]:
        page = await client.request("GET", "/api/cdrs", params={"limit": 100})
        return list(page.get("items", []))

    widget = SoftphoneWidget(
        adapter,
        directory=Directory(client),
        history=History(_history_path(client)),
        settings=settings,
        server_history=cdrs if is_admin else None,
        parent=parent,
    )
    adapter.setParent(widget)
    widget.destroyed.connect(lambda *_: _stop(adapter))
    loop = asyncio.get_event_loop()

    def start() -> None:
        # A window left over after its event loop closed (tests) must not start anything.
        if not loop.is_closed():
            widget.spawn(_connect(client, adapter, widget, settings))

    # After the main window is on screen: the phone must not delay the first paint.
    QtCore.QTimer.singleShot(START_DELAY_MS, widget, start)
    return widget


def _stop(adapter: EngineAdapter) -> None:
    if adapter in _running:
        _running.remove(adapter)
    try:
        adapter.stop()
    except RuntimeError:
        # The QTimer is already gone with the widget; the engine still needs its shutdown.
        if adapter.running:
            adapter.running = False
            adapter.engine.shutdown()


async def _connect(
    client: PultClient, adapter: EngineAdapter, widget: SoftphoneWidget, settings: QtCore.QSettings
) -> None:
    try:
        me = await client.request("GET", "/api/auth/me")
    except Exception as exc:
        widget.show_message(widget.tr("Не удалось узнать SIP-учётную запись: {0}").format(exc))
        return
    account = account_from_me(
        me if isinstance(me, dict) else {}, str(settings.value("softphone/transport", "udp"))
    )
    if account is None and engine_factory is None:
        widget.registration_label.setText(widget.tr("У этой учётной записи нет телефона"))
        return
    shutdown_all()
    try:
        adapter.start()
    except Exception as exc:
        log.exception("the softphone engine did not start")
        widget.show_message(widget.tr("Телефон не запустился: {0}").format(exc))
        return
    _running.append(adapter)
    widget.settings_page.fill_devices()
    if account is not None:
        try:
            adapter.engine.register(account)
        except Exception as exc:
            widget.show_message(widget.explain(exc))
