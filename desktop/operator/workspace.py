"""The operator workstation tab: ``create(client, parent)`` as the main window expects.

Status and state come from the server (GET /api/operator/me and the ``operator.changed``
events of the event stream); the buttons only ask for a change. On the right: the CRM page of
the current call, the supervisors' messages (the tab shows how many are unread) and the
outbound campaign card. A number the card wants dialled leaves through :attr:`dial_requested`,
which the main window hands to the softphone.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from desktop.api.client import ApiError, PultClient, ServerUnreachable
from desktop.api.events import EventStream
from desktop.operator import tasks, texts  # noqa: F401  (texts registers the English catalogue)
from desktop.operator.crm import render_crm_url
from desktop.operator.crm_panel import ON_ANSWER, ON_OFFER, CrmPanel
from desktop.operator.messages import MessagesPanel
from desktop.operator.offer import OfferPanel
from desktop.operator.post_call import PostCallPanel
from desktop.operator.status_bar import StatusControl
from desktop.qt import QtCore, QtWidgets, Signal
from desktop.softphone.directory import Directory

log = logging.getLogger(__name__)

#: Where the workstation keeps its local settings; tests point it at a temporary directory.
data_dir: Path | None = None
START_DELAY_MS = 50


def settings() -> QtCore.QSettings:
    if data_dir is not None:
        return QtCore.QSettings(str(data_dir / "operator.ini"), QtCore.QSettings.Format.IniFormat)
    return QtCore.QSettings("Pult", "Pult")


def explain(widget: QtWidgets.QWidget, exc: BaseException) -> str:
    if isinstance(exc, ApiError):
        return exc.message or str(exc)
    if isinstance(exc, ServerUnreachable):
        return widget.tr("Сервер недоступен: {0}").format(exc.reason)
    return widget.tr("Не удалось выполнить: {0}").format(exc)


class OperatorWorkspace(QtWidgets.QWidget):
    dial_requested = Signal(str)
    #: The campaign card ends its call (ring time or maximum talk time ran out).
    hangup_requested = Signal()

    def __init__(self, client: PultClient, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.directory = Directory(client)
        self.me: dict[str, Any] = {}
        self.user_id: int | None = None
        self.last_offer: dict[str, Any] | None = None
        self._crm_call: str | None = None  # the call whose page is open
        self._me_task: Any = None
        self._me_again = False

        self.status = StatusControl()
        self.status.status_requested.connect(self.set_status)
        self.link_label = QtWidgets.QLabel()
        self.link_label.setObjectName("operator-offline-note")
        self.link_label.setStyleSheet("color: #a15c00;")
        self.error_label = QtWidgets.QLabel()
        self.error_label.setObjectName("operator-error")
        self.error_label.setStyleSheet("color: #b00020;")
        self.error_label.setWordWrap(True)
        self.offer_panel = OfferPanel()
        self.offer_panel.accept_requested.connect(
            lambda oid: self._run(self._act("POST", f"/api/operator/offers/{oid}/accept"))
        )
        self.offer_panel.reject_requested.connect(
            lambda oid: self._run(self._act("POST", f"/api/operator/offers/{oid}/reject"))
        )
        self.post_call = PostCallPanel()
        self.post_call.finish_requested.connect(
            lambda: self._run(self._act("POST", "/api/operator/post-call/finish"))
        )
        self.post_call.extend_requested.connect(
            lambda: self._run(self._act("POST", "/api/operator/post-call/extend"))
        )
        self.crm = CrmPanel(settings())
        self.messages = MessagesPanel()
        self.messages.ack_requested.connect(
            lambda mid, pw: tasks.start(self._ack(mid, pw), self._ack_failed)
        )
        self.messages.unread_changed.connect(self._badge)
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.setObjectName("operator-tabs")
        self.tabs.addTab(self.crm, self.tr("CRM"))
        self.tabs.addTab(self.messages, self.tr("Сообщения"))
        # The campaign card is made when its tab is first opened: it asks the server for work,
        # which an operator who only takes incoming calls never needs.
        self.campaign: QtWidgets.QWidget = QtWidgets.QWidget()
        self.tabs.addTab(self.campaign, self.tr("Обзвон"))
        self.tabs.currentChanged.connect(self._tab_opened)

        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.link_label)
        layout.addWidget(self.error_label)
        layout.addWidget(self.offer_panel)
        layout.addWidget(self.post_call)
        layout.addWidget(self.tabs, 1)
        self.link_label.hide()

        self.stream = EventStream(client, self.on_event, self.reload, self._connected)
        self.destroyed.connect(lambda *_: self.stream.stop())

    def _tab_opened(self, index: int) -> None:
        if self.tabs.widget(index) is not self.campaign or self.campaign.objectName():
            return
        placeholder, self.campaign = self.campaign, self._campaign_card()
        self.campaign.setObjectName("campaign")
        self.tabs.blockSignals(True)
        self.tabs.removeTab(index)
        self.tabs.insertTab(index, self.campaign, self.tr("Обзвон"))
        self.tabs.setCurrentIndex(index)
        self.tabs.blockSignals(False)
        placeholder.deleteLater()

    def _campaign_card(self) -> QtWidgets.QWidget:
        try:
            from desktop.operator.campaign_card import CampaignCard

            card = CampaignCard(self.client, self)
        except Exception as exc:  # the card is its own area: its failure must not cost us ours
            log.exception("campaign card")
            return QtWidgets.QLabel(self.tr("Карточка кампании недоступна: {0}").format(exc))
        card.dial_requested.connect(self.dial_requested)
        card.hangup_requested.connect(self.hangup_requested)
        return card

    # -- plumbing -----------------------------------------------------------------------------

    def start(self) -> None:
        """Read the state once, then listen: a server that cannot answer the workstation's
        first question gets no event stream (and says why in the error line)."""
        self._run(self._begin())

    async def _begin(self) -> None:
        self.apply_me(await self.client.request("GET", "/api/operator/me"))
        self.stream.start()

    def _run(self, coro: Any) -> None:
        self.error_label.clear()
        tasks.start(coro, self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.error_label.setText(explain(self, exc))
        # The request was refused: show the state as the server has it, not as we guessed.
        self.refresh_me()

    def _connected(self, live: bool) -> None:
        self.link_label.setText(
            "" if live else self.tr("Нет связи с сервером: состояние может быть устаревшим")
        )
        self.link_label.setVisible(not live)

    def reload(self) -> None:
        """Everything from scratch: at the start and whenever the stream lost track."""
        tasks.start(self._load_reasons(), self._failed)
        self.refresh_me()
        tasks.start(self._load_messages(), self._failed)

    def on_event(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "operator.changed" and data.get("user_id") == self.user_id:
            self.refresh_me()
        elif kind == "operator_message.created":
            if self.user_id in (data.get("user_ids") or []):
                tasks.start(self._load_messages(), self._failed)
        elif kind == "operator_message.deleted":
            tasks.start(self._load_messages(), self._failed)
        elif kind.startswith("break_reason."):
            tasks.start(self._load_reasons(), self._failed)

    # -- the operator's own state ------------------------------------------------------------

    def refresh_me(self) -> None:
        """GET /api/operator/me, one at a time: changes during a request fetch once more."""
        if self._me_task is not None and not self._me_task.done():
            self._me_again = True
            return
        self._me_task = tasks.start(self._fetch_me(), self._failed)

    async def _fetch_me(self) -> None:
        while True:
            self._me_again = False
            me = await self.client.request("GET", "/api/operator/me")
            self.apply_me(me)
            if not self._me_again:
                return

    async def _act(self, method: str, path: str, **kwargs: Any) -> None:
        self.apply_me(await self.client.request(method, path, **kwargs))

    def set_status(self, status: str, reason_id: int) -> None:
        body: dict[str, Any] = {"status": status}
        if reason_id:
            body["reason_id"] = reason_id
        self._run(self._act("PUT", "/api/operator/status", json=body))

    def apply_me(self, me: Any) -> None:
        if not isinstance(me, dict):
            return
        self.me = me
        self.user_id = int(me["user_id"]) if me.get("user_id") is not None else None
        self.status.show_status(str(me.get("status") or "offline"), me.get("break_reason"))
        self.status.show_state(me)
        self.post_call.show_me(me)
        offer = me.get("offer")
        if self.offer_panel.show_offer(offer):
            assert isinstance(offer, dict)
            self.last_offer = offer
            tasks.start(self._caller_name(offer))
            if self.crm.mode == ON_OFFER:
                self._open_crm(offer)
        if (
            me.get("state") == "incoming_call"
            and self.crm.mode == ON_ANSWER
            and self.last_offer is not None
            and self.last_offer.get("call_id") == me.get("call_id")
        ):
            self._open_crm(self.last_offer)

    async def _caller_name(self, offer: dict[str, Any]) -> None:
        name = await self.directory.name_for(str(offer.get("caller") or ""))
        self.offer_panel.set_caller_name(int(offer["id"]), name)

    def crm_values(self, offer: dict[str, Any]) -> dict[str, str]:
        principal = self.client.principal
        return {
            "caller": str(offer.get("caller") or ""),
            "called": str(offer.get("called") or ""),
            "call_id": str(offer.get("call_id") or ""),
            "operator": principal.login if principal else "",
            "group": str(offer.get("group_id") or ""),
            "campaign": str(offer.get("campaign_id") or ""),
            "client_id": str(offer.get("client_id") or ""),
        }

    def _open_crm(self, offer: dict[str, Any]) -> None:
        call = str(offer.get("call_id") or "")
        if call and call == self._crm_call:
            return  # the page of this call is open: a reload would lose what was typed
        self._crm_call = call
        template = str(offer.get("crm_url_template") or "")
        self.crm.open(render_crm_url(template, self.crm_values(offer)) if template else "")

    # -- break reasons and messages -----------------------------------------------------------

    async def _load_reasons(self) -> None:
        page = await self.client.request("GET", "/api/break-reasons", params={"limit": 100})
        self.status.set_reasons(list(page.get("items", [])) if isinstance(page, dict) else [])

    async def _load_messages(self) -> None:
        page = await self.client.request("GET", "/api/operator/messages")
        if isinstance(page, dict):
            self.messages.set_messages(list(page.get("items", [])), int(page.get("unread", 0)))

    async def _ack(self, message_id: int, password: str) -> None:
        await self.client.request(
            "POST", f"/api/operator/messages/{message_id}/ack", json={"password": password}
        )
        await self._load_messages()
        self.messages.select(message_id)
        self.messages.show_result(self.tr("Прочтение подтверждено"))

    def _ack_failed(self, exc: BaseException) -> None:
        self.messages.show_result(explain(self, exc))

    def _badge(self, unread: int) -> None:
        index = self.tabs.indexOf(self.messages)
        text = self.tr("Сообщения ({0})").format(unread) if unread else self.tr("Сообщения")
        self.tabs.setTabText(index, text)
        self.tabs.tabBar().setTabTextColor(
            index, QtCore.Qt.GlobalColor.darkRed if unread else self.palette().text().color()
        )


def create(client: PultClient, parent: QtWidgets.QWidget | None = None) -> QtWidgets.QWidget:
    widget = OperatorWorkspace(client, parent)
    # After the main window is on screen: the first paint does not wait for the network.
    QtCore.QTimer.singleShot(START_DELAY_MS, widget, widget.start)
    return widget
