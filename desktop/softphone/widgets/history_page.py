"""Call history: this computer's calls, and for domain administrators the server's CDRs.

GET /api/cdrs is open to domain administrators only, so a plain user sees the local list and
a note saying why there is no server list.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Coroutine
from typing import Any

from desktop.qt import QtCore, QtWidgets, Signal
from desktop.softphone.history import History, HistoryEntry
from desktop.softphone.widgets.line_panel import duration_text

ServerHistory = Callable[[], Coroutine[Any, Any, list[dict[str, Any]]]]


def _when(started_at: float) -> str:
    return dt.datetime.fromtimestamp(started_at).strftime("%d.%m %H:%M")


def server_entries(cdrs: list[dict[str, Any]]) -> list[HistoryEntry]:
    entries: list[HistoryEntry] = []
    for cdr in cdrs:
        try:
            started = dt.datetime.fromisoformat(str(cdr["started_at"])).timestamp()
        except (KeyError, ValueError):
            continue
        entries.append(
            HistoryEntry(
                started_at=started,
                direction=str(cdr.get("direction", "")),
                number=f"{cdr.get('caller', '')} → {cdr.get('called', '')}",
                name="",
                duration=int(cdr.get("duration_seconds") or 0),
                result=str(cdr.get("result", "")),
                source="server",
            )
        )
    return entries


class HistoryPage(QtWidgets.QWidget):
    dial_requested = Signal(str)

    def __init__(
        self,
        history: History,
        *,
        server_history: ServerHistory | None = None,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("history-page")
        self.history = history
        self.server_history = server_history
        self.server_rows: list[HistoryEntry] = []
        self.tasks: set[asyncio.Task[Any]] = set()
        self.tree = QtWidgets.QTreeWidget()
        self.tree.setObjectName("history-list")
        self.tree.setRootIsDecorated(False)
        self.tree.setHeaderLabels(
            [
                self.tr("Когда"),
                self.tr("Кто"),
                self.tr("Длительность"),
                self.tr("Итог"),
                self.tr("Источник"),
            ]
        )
        self.tree.itemActivated.connect(self._activated)
        self.note = QtWidgets.QLabel()
        self.note.setObjectName("history-note")
        self.note.setWordWrap(True)
        self.server_button = QtWidgets.QPushButton(self.tr("&Загрузить историю с сервера"))
        self.server_button.setObjectName("history-server")
        self.server_button.clicked.connect(self.load_server)
        if server_history is None:
            self.server_button.hide()
            self.note.setText(
                self.tr(
                    "Показаны звонки с этого компьютера. Полная история вызовов домена "
                    "доступна администратору домена."
                )
            )
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.note)
        layout.addWidget(self.server_button)
        self.reload()

    def result_text(self, result: str) -> str:
        return {
            "answered": self.tr("разговор"),
            "missed": self.tr("пропущен"),
            "rejected": self.tr("отклонён"),
            "busy": self.tr("занято"),
            "dnd": self.tr("не беспокоить"),
            "failed": self.tr("не состоялся"),
        }.get(result, result)

    def reload(self) -> None:
        self.tree.clear()
        for entry in [*self.history.entries, *self.server_rows]:
            arrow = "↓" if entry.direction == "in" else "↑" if entry.direction == "out" else ""
            who = f"{entry.name} ({entry.number})" if entry.name else entry.number
            item = QtWidgets.QTreeWidgetItem(
                [
                    _when(entry.started_at),
                    f"{arrow} {who}".strip(),
                    duration_text(entry.duration) if entry.duration else "",
                    self.result_text(entry.result),
                    self.tr("этот компьютер") if entry.source == "local" else self.tr("сервер"),
                ]
            )
            item.setData(0, QtCore.Qt.ItemDataRole.UserRole, entry.number)
            self.tree.addTopLevelItem(item)
        first = self.tree.topLevelItem(0)
        if first is not None and self.tree.currentItem() is None:
            self.tree.setCurrentItem(first)

    def _activated(self, item: QtWidgets.QTreeWidgetItem, _column: int) -> None:
        number = str(item.data(0, QtCore.Qt.ItemDataRole.UserRole) or "")
        if number and "→" not in number:
            self.dial_requested.emit(number)

    def load_server(self) -> None:
        if self.server_history is None:
            return
        self.server_button.setEnabled(False)
        task = asyncio.ensure_future(self._load())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _load(self) -> None:
        assert self.server_history is not None
        try:
            cdrs = await self.server_history()
        except Exception as exc:
            self.note.setText(self.tr("Не удалось получить историю с сервера: {0}").format(exc))
        else:
            self.server_rows = server_entries(cdrs)
            self.note.setText(self.tr("С сервера: {0} вызовов").format(len(self.server_rows)))
            self.reload()
        finally:
            self.server_button.setEnabled(True)
