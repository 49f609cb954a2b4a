"""Messages to operators (spec 02 §2), the supervisor's side: the sent list with «3/10» read,
a «Новое сообщение» dialog (title, text, recipient groups) and who has / has not read one."""

from __future__ import annotations

from typing import Any

from desktop.operator.messages import when
from desktop.qt import QtCore, QtWidgets, Signal

ROLE_ID = QtCore.Qt.ItemDataRole.UserRole


class NewMessageDialog(QtWidgets.QDialog):
    """``send_requested(title, text, group_ids)``; stays open until :meth:`sent` (the server
    may refuse, e.g. a group without operators, and the text must not be lost)."""

    send_requested = Signal(str, str, list)

    def __init__(
        self, groups: list[dict[str, Any]], parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("new-message")
        self.setWindowTitle(self.tr("Новое сообщение"))
        self.title_edit = QtWidgets.QLineEdit()
        self.title_edit.setObjectName("new-message-title")
        self.text_edit = QtWidgets.QPlainTextEdit()
        self.text_edit.setObjectName("new-message-text")
        self.groups = QtWidgets.QListWidget()
        self.groups.setObjectName("new-message-groups")
        for group in groups:
            item = QtWidgets.QListWidgetItem(str(group["name"]))
            item.setData(ROLE_ID, int(group["id"]))
            item.setFlags(item.flags() | QtCore.Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(QtCore.Qt.CheckState.Unchecked)
            self.groups.addItem(item)
        self.error_label = QtWidgets.QLabel()
        self.error_label.setObjectName("new-message-error")
        self.error_label.setStyleSheet("color: #b00020;")
        self.error_label.setWordWrap(True)
        self.buttons = QtWidgets.QDialogButtonBox()
        self.send_button = self.buttons.addButton(
            self.tr("Отправить"), QtWidgets.QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.send_button.setObjectName("new-message-send")
        self.buttons.addButton(self.tr("Отмена"), QtWidgets.QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        form = QtWidgets.QFormLayout(self)
        form.addRow(self.tr("Заголовок"), self.title_edit)
        form.addRow(self.tr("Текст"), self.text_edit)
        form.addRow(self.tr("Группы получателей"), self.groups)
        form.addRow(self.error_label)
        form.addRow(self.buttons)
        self.resize(520, 460)

    def check(self, name: str) -> None:
        for index in range(self.groups.count()):
            item = self.groups.item(index)
            if item.text() == name:
                item.setCheckState(QtCore.Qt.CheckState.Checked)

    def chosen(self) -> list[int]:
        return [
            int(self.groups.item(i).data(ROLE_ID))
            for i in range(self.groups.count())
            if self.groups.item(i).checkState() == QtCore.Qt.CheckState.Checked
        ]

    def submit(self) -> None:
        title, text = self.title_edit.text().strip(), self.text_edit.toPlainText().strip()
        groups = self.chosen()
        if not (title and text and groups):
            self.error_label.setText(
                self.tr("Заполните заголовок и текст и выберите хотя бы одну группу")
            )
            return
        self.send_button.setEnabled(False)
        self.error_label.clear()
        self.send_requested.emit(title, text, groups)

    def refused(self, text: str) -> None:
        self.send_button.setEnabled(True)
        self.error_label.setText(text)


class SentMessages(QtWidgets.QWidget):
    """Emits ``report_requested(message_id)`` when a message is chosen, ``compose_requested``."""

    report_requested = Signal(int)
    compose_requested = Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.items: list[dict[str, Any]] = []
        self.new_button = QtWidgets.QPushButton(self.tr("Новое сообщение"))
        self.new_button.setObjectName("message-new")
        self.new_button.clicked.connect(self.compose_requested)
        self.status_label = QtWidgets.QLabel()
        self.status_label.setObjectName("messages-status")
        self.table = QtWidgets.QTableWidget(0, 4)
        self.table.setObjectName("sent-messages")
        self.table.setHorizontalHeaderLabels(
            [self.tr("Заголовок"), self.tr("Дата"), self.tr("Текст"), self.tr("Прочитали")]
        )
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(
            2, QtWidgets.QHeaderView.ResizeMode.Stretch
        )
        self.table.itemSelectionChanged.connect(self._chosen)
        self.report_title = QtWidgets.QLabel(
            self.tr("Выберите сообщение, чтобы увидеть, кто его прочитал")
        )
        self.read_title = QtWidgets.QLabel()
        self.read_list = QtWidgets.QListWidget()
        self.read_list.setObjectName("report-read")
        self.unread_title = QtWidgets.QLabel()
        self.unread_list = QtWidgets.QListWidget()
        self.unread_list.setObjectName("report-unread")
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.new_button)
        top.addWidget(self.status_label, 1)
        report = QtWidgets.QGridLayout()
        report.addWidget(self.report_title, 0, 0, 1, 2)
        report.addWidget(self.read_title, 1, 0)
        report.addWidget(self.unread_title, 1, 1)
        report.addWidget(self.read_list, 2, 0)
        report.addWidget(self.unread_list, 2, 1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 3)
        layout.addLayout(report, 2)
        self.show_report(None)

    def set_messages(self, items: list[dict[str, Any]]) -> None:
        keep = self.selected_id()
        self.items = items
        self.table.blockSignals(True)
        self.table.setRowCount(len(items))
        for row, item in enumerate(items):
            cells = (item["title"], when(item.get("created_at")), item["text"], item["read"])
            for col, text in enumerate(cells):
                cell = QtWidgets.QTableWidgetItem(str(text))
                cell.setData(ROLE_ID, int(item["id"]))
                self.table.setItem(row, col, cell)
        self.table.blockSignals(False)
        if keep is not None:
            self.select(keep)

    def selected_id(self) -> int | None:
        cells = self.table.selectedItems()
        return int(cells[0].data(ROLE_ID)) if cells else None

    def select(self, message_id: int) -> None:
        for row in range(self.table.rowCount()):
            cell = self.table.item(row, 0)
            if cell is not None and cell.data(ROLE_ID) == message_id:
                self.table.selectRow(row)
                return

    def _chosen(self) -> None:
        mid = self.selected_id()
        if mid is not None:
            self.report_requested.emit(mid)

    def read_text(self, message_id: int) -> str:
        for item in self.items:
            if int(item["id"]) == message_id:
                return str(item["read"])
        return ""

    def show_report(self, report: dict[str, Any] | None) -> None:
        self.read_list.clear()
        self.unread_list.clear()
        read = (report or {}).get("read", [])
        unread = (report or {}).get("unread", [])
        for person in read:
            self.read_list.addItem(f"{person['name']} — {when(person.get('read_at'))}")
        for person in unread:
            self.unread_list.addItem(str(person["name"]))
        self.read_title.setText(self.tr("Прочитали ({0})").format(len(read)))
        self.unread_title.setText(self.tr("Не прочитали ({0})").format(len(unread)))
        visible = report is not None
        for widget in (self.read_title, self.unread_title, self.read_list, self.unread_list):
            widget.setVisible(visible)
        self.report_title.setVisible(not visible)
