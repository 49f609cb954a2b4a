"""Real-time statistics (spec 02 §5): the operators' table and one tile per ACD group.

Rows are the server's ``/api/stats/*`` rows, replaced whole by ``operator.changed`` and
``queue.changed`` events; the «Время» column and the longest wait tick locally each second.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from desktop.operator import texts
from desktop.qt import QtCore, QtWidgets

ROLE_ID = QtCore.Qt.ItemDataRole.UserRole
NEVER = 86400.0  # seconds after 1970: anything earlier is "no time", not a 56-year wait
COLUMNS = (
    "Оператор",
    "В сети",
    "Статус",
    "Состояние",
    "Время",
    "Отвечено",
    "Пропущено",
    "Время разговоров",
)


def _epoch(value: Any) -> float | None:
    """None for no time at all; an operator never seen online has «since» at the epoch."""
    try:
        at = datetime.fromisoformat(str(value)).timestamp()
    except ValueError:
        return None
    return at if at > NEVER else None


class OperatorTable(QtWidgets.QTableWidget):
    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setObjectName("operators-table")
        self.setHorizontalHeaderLabels([self.tr(c) for c in COLUMNS])
        self.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().hide()
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        for col in range(1, len(COLUMNS)):
            header.setSectionResizeMode(col, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.rows: dict[int, dict[str, Any]] = {}
        self._since: dict[int, float] = {}
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        keep = self.selected_id()
        self.rows = {}
        self.setRowCount(0)
        for row in rows:
            self.upsert(row)
        if keep is not None:
            self.select(keep)

    def upsert(self, row: dict[str, Any]) -> None:
        """A new or changed operator row (an event carries the whole row)."""
        uid = int(row["user_id"])
        old = self.rows.get(uid, {})
        # Events carry no name when the server could not read the user: keep the one we had.
        merged = {**old, **row}
        for key in ("name", "login"):
            if not row.get(key) and old.get(key):
                merged[key] = old[key]
        self.rows[uid] = merged
        index = self._index(uid)
        if index < 0:
            index = self.rowCount()
            self.insertRow(index)
        since = _epoch(merged.get("since"))
        if since is None:
            self._since.pop(uid, None)
        else:
            self._since[uid] = since
        online = bool(merged.get("online"))
        status = str(merged.get("status") or "offline")
        state = str(merged.get("state") or "idle")
        cells = (
            str(merged.get("name") or merged.get("login") or uid),
            self.tr("да") if online else self.tr("нет"),
            texts.their_status(status),
            texts.state(state) if online else "",
            self._elapsed(uid, time.time()),
            str(merged.get("answered", 0)),
            str(merged.get("missed", 0)),
            texts.duration(float(merged.get("talk_seconds") or 0)),
        )
        for col, text in enumerate(cells):
            item = self.item(index, col)
            if item is None:
                item = QtWidgets.QTableWidgetItem()
                self.setItem(index, col, item)
            item.setText(text)
            item.setData(ROLE_ID, uid)
            if col >= 4:
                item.setTextAlignment(
                    QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter
                )

    def _index(self, uid: int) -> int:
        for index in range(self.rowCount()):
            item = self.item(index, 0)
            if item is not None and item.data(ROLE_ID) == uid:
                return index
        return -1

    def text_of(self, uid: int, column: str) -> str:
        item = self.item(self._index(uid), COLUMNS.index(column))
        return item.text() if item is not None else ""

    def selected_id(self) -> int | None:
        items = self.selectedItems()
        return int(items[0].data(ROLE_ID)) if items else None

    def selected(self) -> dict[str, Any] | None:
        uid = self.selected_id()
        return self.rows.get(uid) if uid is not None else None

    def select(self, uid: int) -> None:
        index = self._index(uid)
        if index >= 0:
            self.selectRow(index)

    def _elapsed(self, uid: int, now: float) -> str:
        since = self._since.get(uid)
        return texts.duration(now - since) if since is not None else ""

    def _tick(self) -> None:
        column = COLUMNS.index("Время")
        now = time.time()
        for index in range(self.rowCount()):
            item = self.item(index, column)
            if item is not None:
                item.setText(self._elapsed(int(item.data(ROLE_ID)), now))


class GroupTile(QtWidgets.QFrame):
    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self.setMinimumWidth(210)
        self.name_label = QtWidgets.QLabel()
        bold = self.name_label.font()
        bold.setBold(True)
        bold.setPointSizeF(bold.pointSizeF() * 1.15)
        self.name_label.setFont(bold)
        self.queue_label = QtWidgets.QLabel()
        self.queue_label.setObjectName("tile-queue")
        self.wait_label = QtWidgets.QLabel()
        self.wait_label.setObjectName("tile-wait")
        self.online_label = QtWidgets.QLabel()
        self.online_label.setObjectName("tile-online")
        self.counts_label = QtWidgets.QLabel()
        self.counts_label.setObjectName("tile-counts")
        layout = QtWidgets.QVBoxLayout(self)
        for label in (
            self.name_label,
            self.queue_label,
            self.wait_label,
            self.online_label,
            self.counts_label,
        ):
            layout.addWidget(label)
        self.row: dict[str, Any] = {}
        self._wait_from = 0.0

    def show_row(self, row: dict[str, Any]) -> None:
        self.row = row
        self.name_label.setText(str(row.get("name") or row.get("group_id")))
        waiting = int(row.get("waiting") or 0)
        self.queue_label.setText(self.tr("Очередь: {0}").format(waiting))
        self.queue_label.setStyleSheet("color: #b00020; font-weight: bold;" if waiting else "")
        self._wait_from = time.monotonic() - float(row.get("longest_wait_seconds") or 0)
        self.online_label.setText(
            self.tr("На работе: {0} из {1}").format(row.get("online", 0), row.get("operators", 0))
        )
        counts = row.get("counts") or {}
        self.counts_label.setText(
            "\n".join(
                f"{self.tr(title)}: {counts.get(key, 0)}" for key, title in texts.COUNTERS.items()
            )
        )
        self.tick()

    def tick(self) -> None:
        waiting = int(self.row.get("waiting") or 0)
        wait = time.monotonic() - self._wait_from if waiting else 0
        self.wait_label.setText(self.tr("Дольше всех ждёт: {0}").format(texts.duration(wait)))


class GroupTiles(QtWidgets.QWidget):
    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("group-tiles")
        self.tiles: dict[int, GroupTile] = {}
        self.row_layout = QtWidgets.QHBoxLayout(self)
        self.row_layout.setContentsMargins(0, 0, 0, 0)
        self.empty = QtWidgets.QLabel(self.tr("Групп с операторами нет"))
        self.row_layout.addWidget(self.empty)
        self.row_layout.addStretch(1)
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def _tick(self) -> None:
        for tile in self.tiles.values():
            tile.tick()

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        for tile in self.tiles.values():
            tile.deleteLater()
        self.tiles = {}
        for row in rows:
            self.upsert(row)
        self.empty.setVisible(not self.tiles)

    def upsert(self, row: dict[str, Any]) -> None:
        gid = int(row["group_id"])
        tile = self.tiles.get(gid)
        if tile is None:
            tile = GroupTile()
            tile.setObjectName(f"group-tile-{gid}")
            self.tiles[gid] = tile
            self.row_layout.insertWidget(self.row_layout.count() - 1, tile)
            self.empty.hide()
        if not row.get("name") and tile.row.get("name"):
            row = {**row, "name": tile.row["name"]}
        tile.show_row(row)
