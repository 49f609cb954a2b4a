"""The base of every admin section and the generic list + form section (CRUD).

A section loads nothing until it is first shown (:meth:`Section.activate`), reports whether it
holds unsaved edits (:meth:`Section.is_dirty`) so the workspace can ask before leaving it, and
shows request failures on its status line.
"""

from __future__ import annotations

from typing import Any

from desktop.admin.widgets import dialogs, tasks
from desktop.admin.widgets.form import ERROR_STYLE, Field, Form, describe
from desktop.admin.widgets.paged import Column, PagedModel, Row
from desktop.api.client import ApiError, PultClient, ServerUnreachable
from desktop.qt import QtCore, QtWidgets, Signal

Qt = QtCore.Qt


class Section(QtWidgets.QWidget):
    """``navigate`` asks the workspace to open another section by key (quick links)."""

    key = ""
    navigate = Signal(str)

    def __init__(self, client: PultClient, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.activated = False
        self.status = QtWidgets.QLabel()
        self.status.setObjectName("status")
        self.status.setWordWrap(True)

    def title(self) -> str:
        raise NotImplementedError

    def activate(self) -> None:
        if not self.activated:
            self.activated = True
            self.first_show()

    def first_show(self) -> None:
        """Load what the section shows; runs once, when the person first opens it."""

    def is_dirty(self) -> bool:
        return False

    def discard(self) -> None:
        """Forget unsaved edits (the person agreed to lose them)."""

    def show_status(self, text: str, *, error: bool = False) -> None:
        self.status.setStyleSheet(ERROR_STYLE if error else "")
        self.status.setText(text)

    def show_failure(self, exc: BaseException) -> None:
        self.show_status(describe(exc), error=True)

    def run(self, coro: Any) -> None:
        """Run a request; its failure goes to the status line."""
        tasks.start(self._guarded(coro), self.show_failure)

    async def _guarded(self, coro: Any) -> None:
        try:
            await coro
        except (ApiError, ServerUnreachable) as exc:
            self.show_failure(exc)


def make_table(model: QtCore.QAbstractItemModel, name: str) -> QtWidgets.QTableView:
    view = QtWidgets.QTableView()
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(22)
    view.horizontalHeader().setStretchLastSection(True)
    view.setAlternatingRowColors(True)
    return view


class CrudSection(Section):
    """A searchable lazy list on the left, the selected object's form on the right.

    Subclasses give ``path``, :meth:`columns`, :meth:`fields` and may shape payloads
    (:meth:`create_payload`, :meth:`update_payload`) or add panels under the form
    (``self.details``) filled in :meth:`on_open`.
    """

    path = ""
    item_path = ""  # "{path}/{id}" unless the resource differs
    searchable = True
    list_params: dict[str, Any] = {}

    def __init__(self, client: PultClient, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(client, parent)
        self.current: Row | None = None
        self.model = PagedModel(client, self.path, self.columns(), params=dict(self.list_params))
        self.model.failed.connect(self.show_failure)
        self.model.progress.connect(self._progress)
        self.table = make_table(self.model, "list")
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)

        self.search = QtWidgets.QLineEdit()
        self.search.setObjectName("search")
        self.search.setPlaceholderText(self.tr("Поиск"))
        self.search.setClearButtonEnabled(True)
        self.search.setVisible(self.searchable)
        self._search_timer = QtCore.QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(300)
        self._search_timer.timeout.connect(self.apply_search)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())

        self.counter = QtWidgets.QLabel()
        self.counter.setObjectName("counter")
        self.new_button = QtWidgets.QPushButton(self.tr("Создать"))
        self.new_button.setObjectName("new")
        self.new_button.clicked.connect(self.new)
        self.delete_button = QtWidgets.QPushButton(self.tr("Удалить"))
        self.delete_button.setObjectName("delete")
        self.delete_button.clicked.connect(self.delete)

        self.form = Form(self.fields())
        self.form.edited.connect(self._edited)
        self.heading = QtWidgets.QLabel()
        self.heading.setObjectName("heading")
        font = self.heading.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.heading.setFont(font)
        self.save_button = QtWidgets.QPushButton(self.tr("Сохранить"))
        self.save_button.setObjectName("save")
        self.save_button.clicked.connect(self.save)
        self.revert_button = QtWidgets.QPushButton(self.tr("Отменить изменения"))
        self.revert_button.setObjectName("revert")
        self.revert_button.clicked.connect(self.discard)

        left = QtWidgets.QWidget()
        left_layout = QtWidgets.QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.search)
        self.toolbar = QtWidgets.QHBoxLayout()
        left_layout.addLayout(self.toolbar)
        left_layout.addWidget(self.table, 1)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.counter, 1)
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.delete_button)
        left_layout.addLayout(buttons)

        right = QtWidgets.QWidget()
        self.right_layout = QtWidgets.QVBoxLayout(right)
        self.right_layout.addWidget(self.heading)
        self.right_layout.addWidget(self.form)
        actions = QtWidgets.QHBoxLayout()
        actions.addStretch(1)
        actions.addWidget(self.revert_button)
        actions.addWidget(self.save_button)
        self.right_layout.addLayout(actions)
        self.details = QtWidgets.QVBoxLayout()
        self.right_layout.addLayout(self.details)
        self.right_layout.addStretch(1)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(right)

        splitter = QtWidgets.QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(scroll)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([520, 560])
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)
        self._set_editing(None)

    # --- to override ------------------------------------------------------------------

    def columns(self) -> list[Column]:
        raise NotImplementedError

    def fields(self) -> list[Field]:
        raise NotImplementedError

    def name_of(self, row: Row) -> str:
        return str(row.get("name") or row.get("id"))

    def from_item(self, row: Row) -> dict[str, Any]:
        return row

    def create_payload(self, values: dict[str, Any]) -> dict[str, Any]:
        return values

    def update_payload(self, changed: dict[str, Any]) -> dict[str, Any]:
        create_only = {n for n, f in self.form.fields.items() if f.create_only}
        return {k: v for k, v in changed.items() if k not in create_only}

    def delete_question(self, row: Row) -> str:
        return self.tr("Удалить «{0}»?").format(self.name_of(row))

    def on_open(self, row: Row | None) -> None:
        """Fill extra panels for the opened object (None: a new one is being created)."""

    def url_of(self, row_id: Any) -> str:
        return f"{self.item_path or self.path}/{row_id}"

    # --- behaviour --------------------------------------------------------------------

    def first_show(self) -> None:
        self.model.reload()
        self.run(self.form.load_refs(self.client))

    def apply_search(self) -> None:
        text = self.search.text().strip()
        self.model.set_params(**{**self.list_params, "q": text})

    def _progress(self, loaded: int, total: int) -> None:
        self.counter.setText(self.tr("Загружено {0} из {1}").format(loaded, total))

    def _edited(self) -> None:
        self.save_button.setEnabled(True)
        self.revert_button.setEnabled(self.form.is_dirty())

    def is_dirty(self) -> bool:
        return not self.form.isHidden() and self.form.is_dirty()

    def discard(self) -> None:
        self._set_editing(self.current, keep_form=False)

    def _set_editing(self, row: Row | None, *, keep_form: bool = False, new: bool = False) -> None:
        self.current = row
        showing = row is not None or new
        self.form.setVisible(showing)
        self.save_button.setVisible(showing)
        self.revert_button.setVisible(showing)
        if not keep_form:
            self.form.set_values(self.from_item(row) if row is not None else None)
        self.revert_button.setEnabled(False)
        if row is not None:
            self.heading.setText(self.name_of(row))
        elif new:
            self.heading.setText(self.tr("Новый объект"))
        else:
            self.heading.setText(self.tr("Выберите строку в списке или создайте новую"))
        self.delete_button.setEnabled(row is not None)
        if showing:
            self.on_open(row)

    def _row_changed(self, current: QtCore.QModelIndex, previous: QtCore.QModelIndex) -> None:
        if not current.isValid():
            return
        row = self.model.row(current.row())
        if self.current is not None and row.get("id") == self.current.get("id"):
            return
        if self.form.is_dirty() and not self.form.isHidden() and not dialogs.confirm_discard(self):
            self._reselect(self.current)
            return
        self.open(row)

    def _reselect(self, row: Row | None) -> None:
        index = self.model.find("id", row.get("id")) if row else -1
        selection = self.table.selectionModel()
        selection.blockSignals(True)
        if index >= 0:
            selection.setCurrentIndex(
                self.model.index(index, 0),
                QtCore.QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QtCore.QItemSelectionModel.SelectionFlag.Rows,
            )
        else:
            selection.clearSelection()
        selection.blockSignals(False)

    def open(self, row: Row) -> None:
        self._set_editing(row)

    def select_id(self, row_id: Any) -> bool:
        index = self.model.find("id", row_id)
        if index < 0:
            return False
        self.table.selectRow(index)
        self.table.scrollTo(self.model.index(index, 0))
        return True

    def new(self) -> None:
        if self.form.is_dirty() and not self.form.isHidden() and not dialogs.confirm_discard(self):
            return
        self.table.selectionModel().blockSignals(True)
        self.table.clearSelection()
        self.table.selectionModel().blockSignals(False)
        self._set_editing(None, new=True)

    def save(self) -> None:
        if self.current is None:
            payload = self.create_payload(self.form.values())
            coro = self.client.request("POST", self.path, json=payload)
        else:
            payload = self.update_payload(self.form.changed_values())
            coro = self.client.request("PATCH", self.url_of(self.current["id"]), json=payload)
        tasks.start(self._save(coro), self.form.show_error)

    async def _save(self, coro: Any) -> None:
        self.form.clear_errors()
        try:
            saved = await coro
        except (ApiError, ServerUnreachable) as exc:
            self.form.show_error(exc)
            self.show_status(self.tr("Не сохранено: исправьте отмеченные поля"), error=True)
            return
        await self.after_save(saved)
        self.form.mark_clean()
        self.show_status(self.tr("Сохранено"))
        await self.model.refresh()
        if self.model.find("id", saved.get("id")) < 0:
            await self.model.fetch_all()
        self.current = None
        if not self.select_id(saved.get("id")):
            self._set_editing(saved)

    async def after_save(self, saved: Row) -> None:
        """More requests that belong to the same save (members, forwarding...)."""

    def delete(self) -> None:
        row = self.current
        if row is None:
            return
        if not dialogs.confirm(self, self.delete_question(row)):
            return
        self.run(self._delete(row))

    async def _delete(self, row: Row) -> None:
        await self.client.request("DELETE", self.url_of(row["id"]))
        self.show_status(self.tr("Удалено: {0}").format(self.name_of(row)))
        self._set_editing(None)
        await self.model.refresh()
