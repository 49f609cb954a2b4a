"""A table model that pages through a ``{items, total, offset, limit}`` endpoint as you scroll.

Only the first page is fetched when the table appears; Qt's ``canFetchMore``/``fetchMore``
asks for the next page when the view nears the end, so a 100,000-row call history opens as
fast as an empty one and scrolls without loading everything first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from desktop.admin.widgets import tasks
from desktop.api.client import PultClient
from desktop.qt import QtCore, Signal

Row = dict[str, Any]
Qt = QtCore.Qt


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    fmt: Callable[[Row], str] | None = None

    def text(self, row: Row) -> str:
        if self.fmt is not None:
            return self.fmt(row)
        value = row.get(self.key)
        if value is None:
            return ""
        if isinstance(value, bool):
            return "✓" if value else ""
        return str(value)


class PagedModel(QtCore.QAbstractTableModel):
    """``progress`` carries (loaded, total); ``failed`` the exception of a page that failed."""

    progress = Signal(int, int)
    failed = Signal(object)

    def __init__(
        self,
        client: PultClient,
        path: str,
        columns: list[Column],
        *,
        page_size: int = 200,
        params: dict[str, Any] | None = None,
        parent: QtCore.QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.client = client
        self.path = path
        self.columns = columns
        self.page_size = page_size
        self.params: dict[str, Any] = dict(params or {})
        self.rows: list[Row] = []
        self.total: int | None = None
        self._loading = False
        self._generation = 0  # a reload makes pages of the previous query stale

    # --- Qt model ---------------------------------------------------------------------

    def rowCount(self, parent: QtCore.QModelIndex | None = None) -> int:  # type: ignore[override]
        if parent is not None and parent.isValid():
            return 0
        return len(self.rows)

    def columnCount(self, parent: QtCore.QModelIndex | None = None) -> int:  # type: ignore[override]
        if parent is not None and parent.isValid():
            return 0
        return len(self.columns)

    def data(self, index: QtCore.QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # type: ignore[override]
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.columns[index.column()].text(row)
        if role == Qt.ItemDataRole.UserRole:
            return row
        return None

    def headerData(  # type: ignore[override]
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section].title
        return None

    def canFetchMore(self, parent: QtCore.QModelIndex | None = None) -> bool:  # type: ignore[override]
        if parent is not None and parent.isValid():
            return False
        return not self._loading and self.total is not None and len(self.rows) < self.total

    def fetchMore(self, parent: QtCore.QModelIndex | None = None) -> None:  # type: ignore[override]
        if self.canFetchMore():
            self._loading = True
            tasks.start(self._fetch(self._generation), self.failed.emit)

    # --- API --------------------------------------------------------------------------

    def row(self, index: int) -> Row:
        return self.rows[index]

    def find(self, key: str, value: Any) -> int:
        return next((i for i, r in enumerate(self.rows) if r.get(key) == value), -1)

    def set_params(self, **params: Any) -> None:
        self.params = {k: v for k, v in params.items() if v not in (None, "")}
        self.reload()

    def reload(self) -> None:
        tasks.start(self.refresh(), self.failed.emit)

    async def refresh(self) -> None:
        """Forget what was loaded and fetch the first page again."""
        self._generation += 1
        self.beginResetModel()
        self.rows = []
        self.total = None
        self.endResetModel()
        self._loading = True
        await self._fetch(self._generation)

    async def fetch_all(self) -> None:
        while self.total is None or len(self.rows) < self.total:
            self._loading = True
            before = len(self.rows)
            await self._fetch(self._generation)
            if len(self.rows) == before:
                break

    async def _fetch(self, generation: int) -> None:
        try:
            page = await self.client.request(
                "GET",
                self.path,
                params={**self.params, "offset": len(self.rows), "limit": self.page_size},
            )
        finally:
            if generation == self._generation:
                self._loading = False
        if generation != self._generation:
            return
        items: list[Row] = list(page.get("items", [])) if isinstance(page, dict) else list(page)
        total = int(page.get("total", len(items))) if isinstance(page, dict) else len(items)
        if items:
            first = len(self.rows)
            self.beginInsertRows(QtCore.QModelIndex(), first, first + len(items) - 1)
            self.rows.extend(items)
            self.total = total
            self.endInsertRows()
        self.total = max(total, len(self.rows))
        self.progress.emit(len(self.rows), self.total)
