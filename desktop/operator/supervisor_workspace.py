"""The supervisor tab: ``create(client, parent)`` as the main window expects.

«Мониторинг»: group tiles and the operators' table, loaded from /api/stats/* and then kept
current by ``operator.changed`` / ``queue.changed`` events, plus joining an operator's call.
«Сообщения»: messages to operators and who has read them (``operator_message.*`` events
refresh the read counts). The joining call is dialled by the softphone through
:attr:`dial_requested`.
"""

from __future__ import annotations

from typing import Any

from desktop.api.client import PultClient
from desktop.api.events import EventStream
from desktop.operator import tasks, texts  # noqa: F401  (texts registers the English catalogue)
from desktop.operator.monitor import GroupTiles, OperatorTable
from desktop.operator.spy import SpyPanel
from desktop.operator.supervisor_messages import NewMessageDialog, SentMessages
from desktop.operator.workspace import START_DELAY_MS, explain
from desktop.qt import QtCore, QtWidgets, Signal


class SupervisorWorkspace(QtWidgets.QWidget):
    """The phone does the audio: the workspace asks it to dial the session's target, to tell
    the operator's phone a new mode (once the server agreed) and to hang up at the end."""

    dial_requested = Signal(str)
    spy_mode_requested = Signal(str)
    spy_hangup_requested = Signal()

    def __init__(self, client: PultClient, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.dialog: NewMessageDialog | None = None
        self.tiles = GroupTiles()
        self.table = OperatorTable()
        self.table.itemSelectionChanged.connect(self._operator_chosen)
        self.spy = SpyPanel()
        self.spy.start_requested.connect(lambda uid, mode: self._run(self._spy_start(uid, mode)))
        self.spy.mode_requested.connect(lambda mode: self._run(self._spy_mode(mode)))
        self.spy.end_requested.connect(lambda: self._run(self._spy_end()))
        self.link_label = QtWidgets.QLabel()
        self.link_label.setStyleSheet("color: #a15c00;")
        self.link_label.hide()
        self.error_label = QtWidgets.QLabel()
        self.error_label.setObjectName("supervisor-error")
        self.error_label.setStyleSheet("color: #b00020;")
        self.error_label.setWordWrap(True)

        monitor = QtWidgets.QWidget()
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.tiles)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setMinimumHeight(250)
        scroll.setMaximumHeight(280)
        box = QtWidgets.QVBoxLayout(monitor)
        box.addWidget(scroll)
        box.addWidget(self.table, 1)
        box.addWidget(self.spy)

        self.sent = SentMessages()
        self.sent.compose_requested.connect(self.compose)
        self.sent.report_requested.connect(lambda mid: self._run(self._report(mid)))

        self.tabs = QtWidgets.QTabWidget()
        self.tabs.setObjectName("supervisor-tabs")
        self.tabs.addTab(monitor, self.tr("Мониторинг"))
        self.tabs.addTab(self.sent, self.tr("Сообщения"))
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.link_label)
        layout.addWidget(self.error_label)
        layout.addWidget(self.tabs, 1)

        self.stream = EventStream(client, self.on_event, self.reload, self._connected)
        self.destroyed.connect(lambda *_: self.stream.stop())

    def start(self) -> None:
        """Read the statistics once, then listen (as the operator workstation does)."""
        self._run(self._begin())

    async def _begin(self) -> None:
        await self._load_stats()
        self.stream.start()

    def _run(self, coro: Any) -> None:
        self.error_label.clear()
        tasks.start(coro, self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.error_label.setText(explain(self, exc))

    def _connected(self, live: bool) -> None:
        self.link_label.setText(
            "" if live else self.tr("Нет связи с сервером: состояние может быть устаревшим")
        )
        self.link_label.setVisible(not live)

    # -- live statistics ------------------------------------------------------------------------

    def reload(self) -> None:
        self._run(self._load_stats())
        self._run(self._load_messages())

    async def _load_stats(self) -> None:
        operators = await self.client.request("GET", "/api/stats/operators")
        groups = await self.client.request("GET", "/api/stats/groups")
        self.table.set_rows(list(operators.get("items", [])))
        self.tiles.set_rows(list(groups.get("items", [])))
        self._operator_chosen()

    def on_event(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "operator.changed" and "user_id" in data:
            # An admin who is also an operator gets their own copy too; the row is the same.
            data = {k: v for k, v in data.items() if k != "offer"}
            self.table.upsert(data)
            if self.table.selected_id() == data["user_id"]:
                self.spy.set_operator(self.table.rows[int(data["user_id"])])
        elif kind == "queue.changed" and "group_id" in data:
            self.tiles.upsert(data)
        elif kind.startswith("operator_message."):
            self._run(self._load_messages())

    # -- joining a call ---------------------------------------------------------------------------

    def _operator_chosen(self) -> None:
        self.spy.set_operator(self.table.selected())

    async def _spy_start(self, operator_id: int, mode: str) -> None:
        session = await self.client.request(
            "POST", "/api/acd/spy", json={"operator_id": operator_id, "mode": mode}
        )
        name = str(self.table.rows.get(operator_id, {}).get("name") or operator_id)
        self.spy.set_session(session, name)
        target = str(session.get("target") or "")
        if target:
            self.spy.show_error(self.tr("Набираю {0}…").format(target))
            self.dial_requested.emit(target)

    async def _spy_mode(self, mode: str) -> None:
        session = self.spy.session
        if session is None:
            return
        changed = await self.client.request(
            "PATCH", f"/api/acd/spy/{session['id']}", json={"mode": mode}
        )
        self.spy.set_session({**session, **(changed or {"mode": mode})}, self.spy.session_name)
        self.spy_mode_requested.emit(mode)

    async def _spy_end(self) -> None:
        session = self.spy.session
        if session is None:
            return
        await self.client.request("DELETE", f"/api/acd/spy/{session['id']}")
        self.spy_hangup_requested.emit()
        self.spy.set_session(None)
        self._operator_chosen()

    # -- messages -------------------------------------------------------------------------------

    async def _load_messages(self) -> None:
        page = await self.client.request("GET", "/api/operator-messages")
        self.sent.set_messages(list(page.get("items", [])))
        mid = self.sent.selected_id()
        if mid is not None:
            await self._report(mid)

    async def _report(self, message_id: int) -> None:
        report = await self.client.request("GET", f"/api/operator-messages/{message_id}/report")
        if self.sent.selected_id() == message_id:
            self.sent.show_report(report)

    def compose(self) -> None:
        self._run(self._compose())

    async def _compose(self) -> None:
        page = await self.client.request("GET", "/api/groups", params={"limit": 500})
        dialog = NewMessageDialog(list(page.get("items", [])), self)
        dialog.send_requested.connect(
            lambda title, text, groups: tasks.start(
                self._send(dialog, title, text, groups),
                lambda exc: dialog.refused(explain(self, exc)),
            )
        )
        self.dialog = dialog
        dialog.open()

    async def _send(
        self, dialog: NewMessageDialog, title: str, text: str, group_ids: list[int]
    ) -> None:
        sent = await self.client.request(
            "POST",
            "/api/operator-messages",
            json={"title": title, "text": text, "group_ids": group_ids},
        )
        dialog.accept()
        self.sent.status_label.setText(self.tr("Сообщение отправлено"))
        await self._load_messages()
        self.sent.select(int(sent["id"]))


def create(client: PultClient, parent: QtWidgets.QWidget | None = None) -> QtWidgets.QWidget:
    widget = SupervisorWorkspace(client, parent)
    QtCore.QTimer.singleShot(START_DELAY_MS, widget, widget.start)
    return widget
