"""Action history: who changed what and when, with filters, lazily paged."""

from __future__ import annotations

import json
from typing import Any

from desktop.admin.sections.cdrs import local_time
from desktop.admin.widgets.paged import Column, PagedModel
from desktop.admin.widgets.section import Section, make_table
from desktop.api.client import PultClient
from desktop.common.i18n import tr
from desktop.qt import QtCore, QtWidgets


def actions() -> list[tuple[str, str]]:
    return [("", tr("Все действия")), ("create", tr("Создание")), ("update", tr("Изменение")),
            ("delete", tr("Удаление")), ("login", tr("Вход"))]  # fmt: skip


class AuditSection(Section):
    key = "audit"

    def __init__(self, client: PultClient, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(client, parent)
        names = dict(actions())
        self.model = PagedModel(
            client,
            "/api/audit",
            [
                Column("at", self.tr("Когда"), lambda r: local_time(r["at"])),
                Column("actor_login", self.tr("Кто")),
                Column(
                    "action",
                    self.tr("Действие"),
                    lambda r: str(names.get(r["action"], r["action"])),
                ),
                Column("object_type", self.tr("Объект")),
                Column("object_name", self.tr("Название")),
                Column("address", self.tr("Адрес")),
            ],
            params={"days": 30},
        )
        self.model.failed.connect(self.show_failure)
        self.counter = QtWidgets.QLabel()
        self.model.progress.connect(
            lambda n, t: self.counter.setText(self.tr("Загружено {0} из {1}").format(n, t))
        )
        self.table = make_table(self.model, "audit")
        self.table.selectionModel().currentRowChanged.connect(self._chosen)
        self.days = QtWidgets.QComboBox()
        self.days.setObjectName("days")
        for days, text in ((1, self.tr("Сегодня")), (7, self.tr("7 дней")),
                           (30, self.tr("30 дней")), (45, self.tr("45 дней"))):  # fmt: skip
            self.days.addItem(text, days)
        self.days.setCurrentIndex(2)
        self.actor = QtWidgets.QLineEdit()
        self.actor.setObjectName("actor")
        self.actor.setPlaceholderText(self.tr("Кто (логин)"))
        self.object_name = QtWidgets.QLineEdit()
        self.object_name.setObjectName("object-name")
        self.object_name.setPlaceholderText(self.tr("Объект (название)"))
        self.action = QtWidgets.QComboBox()
        self.action.setObjectName("action")
        for value, text in actions():
            self.action.addItem(text, value)
        apply = QtWidgets.QPushButton(self.tr("Показать"))
        apply.setObjectName("apply")
        apply.clicked.connect(self.apply_filters)
        self.details = QtWidgets.QPlainTextEdit()
        self.details.setObjectName("audit-details")
        self.details.setReadOnly(True)
        self.details.setMaximumHeight(150)
        filters = QtWidgets.QHBoxLayout()
        for w in (self.days, self.actor, self.object_name, self.action, apply):
            filters.addWidget(w)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.counter)
        layout.addWidget(self.details)
        layout.addWidget(self.status)

    def title(self) -> str:
        return self.tr("История действий")

    def first_show(self) -> None:
        self.apply_filters()

    def apply_filters(self) -> None:
        self.details.clear()
        self.model.set_params(
            days=self.days.currentData(),
            actor=self.actor.text().strip(),
            object_name=self.object_name.text().strip(),
            action=self.action.currentData(),
        )

    def _chosen(self, current: QtCore.QModelIndex, _prev: QtCore.QModelIndex) -> None:
        if not current.isValid():
            return
        row: dict[str, Any] = self.model.row(current.row())
        text = [
            self.tr("Было: {0}").format(json.dumps(row.get("before"), ensure_ascii=False)),
            self.tr("Стало: {0}").format(json.dumps(row.get("after"), ensure_ascii=False)),
        ]
        self.details.setPlainText("\n".join(text))
