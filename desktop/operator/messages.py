"""Messages from the supervisors (spec 02 §2): unread first; reading is confirmed with the
operator's own password, which the server checks (a wrong one confirms nothing)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from desktop.qt import QtCore, QtGui, QtWidgets, Signal

ROLE_ID = QtCore.Qt.ItemDataRole.UserRole


def when(value: Any) -> str:
    try:
        return datetime.fromisoformat(str(value)).astimezone().strftime("%d.%m.%Y %H:%M")
    except ValueError:
        return str(value or "")


class MessagesPanel(QtWidgets.QWidget):
    """Emits ``ack_requested(message_id, password)``; ``unread_changed(n)`` for the tab's badge."""

    ack_requested = Signal(int, str)
    unread_changed = Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.items: list[dict[str, Any]] = []
        self.unread = 0
        self.list = QtWidgets.QListWidget()
        self.list.setObjectName("operator-messages")
        self.list.currentRowChanged.connect(self._show)
        self.title_label = QtWidgets.QLabel()
        self.title_label.setObjectName("message-title")
        bold = self.title_label.font()
        bold.setBold(True)
        bold.setPointSizeF(bold.pointSizeF() * 1.2)
        self.title_label.setFont(bold)
        self.meta_label = QtWidgets.QLabel()
        self.text_view = QtWidgets.QPlainTextEdit()
        self.text_view.setObjectName("message-text")
        self.text_view.setReadOnly(True)
        self.hint_label = QtWidgets.QLabel(
            self.tr("Введите свой пароль, чтобы подтвердить прочтение")
        )
        self.password_edit = QtWidgets.QLineEdit()
        self.password_edit.setObjectName("message-password")
        self.password_edit.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
        self.password_edit.setPlaceholderText(self.tr("Введите пароль"))
        self.password_edit.returnPressed.connect(self.acknowledge)
        self.ack_button = QtWidgets.QPushButton(self.tr("Подтвердить прочтение"))
        self.ack_button.setObjectName("message-ack")
        self.ack_button.clicked.connect(self.acknowledge)
        self.result_label = QtWidgets.QLabel()
        self.result_label.setObjectName("message-result")
        self.result_label.setWordWrap(True)

        confirm = QtWidgets.QHBoxLayout()
        confirm.addWidget(self.password_edit, 1)
        confirm.addWidget(self.ack_button)
        self.confirm_box = QtWidgets.QWidget()
        box = QtWidgets.QVBoxLayout(self.confirm_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.hint_label)
        box.addLayout(confirm)
        right = QtWidgets.QVBoxLayout()
        right.addWidget(self.title_label)
        right.addWidget(self.meta_label)
        right.addWidget(self.text_view, 1)
        right.addWidget(self.confirm_box)
        right.addWidget(self.result_label)
        layout = QtWidgets.QHBoxLayout(self)
        layout.addWidget(self.list, 2)
        layout.addLayout(right, 3)
        self.set_messages([], 0)

    def set_messages(self, items: list[dict[str, Any]], unread: int) -> None:
        keep = self.current_id()
        self.items = items
        self.list.blockSignals(True)
        self.list.clear()
        for item in items:
            row = QtWidgets.QListWidgetItem(f"{item['title']} — {when(item.get('created_at'))}")
            row.setData(ROLE_ID, int(item["id"]))
            if not item.get("read_at"):
                font = row.font()
                font.setBold(True)
                row.setFont(font)
                row.setIcon(self.unread_icon())
            self.list.addItem(row)
        self.list.blockSignals(False)
        if not items:
            self.list.addItem(self.tr("Сообщений нет"))
            self.list.item(0).setFlags(QtCore.Qt.ItemFlag.NoItemFlags)
        ids = [int(i["id"]) for i in items]
        self.list.setCurrentRow(ids.index(keep) if keep in ids else (0 if items else -1))
        self._show(self.list.currentRow())
        if unread != self.unread:
            self.unread = unread
            self.unread_changed.emit(unread)

    def current(self) -> dict[str, Any] | None:
        row = self.list.currentRow()
        return self.items[row] if 0 <= row < len(self.items) else None

    def current_id(self) -> int | None:
        item = self.current()
        return int(item["id"]) if item else None

    def select(self, message_id: int) -> None:
        ids = [int(i["id"]) for i in self.items]
        if message_id in ids:
            self.list.setCurrentRow(ids.index(message_id))

    def _show(self, _row: int) -> None:
        item = self.current()
        self.result_label.clear()
        self.password_edit.clear()
        if item is None:
            self.title_label.clear()
            self.meta_label.clear()
            self.text_view.clear()
            self.confirm_box.hide()
            return
        self.title_label.setText(str(item["title"]))
        read = item.get("read_at")
        state = self.tr("Прочитано {0}").format(when(read)) if read else self.tr("Не прочитано")
        self.meta_label.setText(
            self.tr("от {0}, {1}").format(item.get("author", ""), when(item.get("created_at")))
            + " · "
            + state
        )
        self.text_view.setPlainText(str(item.get("text", "")))
        self.confirm_box.setVisible(not read)

    def acknowledge(self) -> None:
        item = self.current()
        password = self.password_edit.text()
        if item is None or item.get("read_at"):
            return
        if not password:
            self.show_result(self.tr("Введите пароль"))
            return
        self.ack_button.setEnabled(False)
        self.ack_requested.emit(int(item["id"]), password)

    def show_result(self, text: str) -> None:
        self.ack_button.setEnabled(True)
        self.password_edit.clear()
        self.result_label.setText(text)

    def unread_icon(self) -> QtGui.QIcon:
        return self.style().standardIcon(QtWidgets.QStyle.StandardPixmap.SP_MessageBoxInformation)
