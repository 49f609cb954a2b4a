"""Summary: this month's spend by kind, connected services, the most active users, quick links."""

from __future__ import annotations

from typing import Any

from desktop.admin.widgets.section import Section
from desktop.api.client import ApiError, PultClient
from desktop.common.i18n import tr
from desktop.qt import QtWidgets


def kind_name(kind: str) -> str:
    names = {
        "subscription": tr("Абонентская плата"),
        "services": tr("Услуги"),
        "calls": tr("Звонки"),
        "sms": tr("SMS"),
        "storage": tr("Хранилище"),
        "connection": tr("Подключение"),
        "other": tr("Прочее"),
    }
    return names.get(kind, kind)


class SummarySection(Section):
    key = "summary"

    def __init__(self, client: PultClient, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(client, parent)
        self.headline = QtWidgets.QLabel()
        self.headline.setObjectName("headline")
        self.headline.setWordWrap(True)
        font = self.headline.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.headline.setFont(font)
        self.spend = self._table("spend", [self.tr("Статья"), self.tr("Расход за месяц")])
        self.services = self._table("services", [self.tr("Услуга"), self.tr("Количество")])
        self.top = self._table(
            "top-users", [self.tr("Пользователь"), self.tr("Внутр."), self.tr("Разговоры")]
        )
        grid = QtWidgets.QGridLayout()
        for col, (title, table) in enumerate(
            (
                (self.tr("Расходы в этом месяце"), self.spend),
                (self.tr("Подключённые услуги"), self.services),
                (self.tr("Самые активные пользователи"), self.top),
            )
        ):
            box = QtWidgets.QGroupBox(title)
            QtWidgets.QVBoxLayout(box).addWidget(table)
            grid.addWidget(box, 0, col)
        links = QtWidgets.QHBoxLayout()
        for key, text in (
            ("users", self.tr("Пользователи")),
            ("groups", self.tr("Группы")),
            ("numbers", self.tr("Номера и маршрутизация")),
            ("cdrs", self.tr("История звонков")),
            ("finance", self.tr("Финансы")),
        ):
            button = QtWidgets.QPushButton(text)
            button.setObjectName(f"link-{key}")
            button.clicked.connect(lambda _c=False, k=key: self.navigate.emit(k))
            links.addWidget(button)
        links.addStretch(1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addLayout(grid, 1)
        layout.addWidget(QtWidgets.QLabel(self.tr("Быстрые ссылки")))
        layout.addLayout(links)
        layout.addWidget(self.status)

    def _table(self, name: str, headers: list[str]) -> QtWidgets.QTableWidget:
        table = QtWidgets.QTableWidget(0, len(headers))
        table.setObjectName(name)
        table.setHorizontalHeaderLabels(headers)
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setStretchLastSection(True)
        table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        return table

    @staticmethod
    def _fill(table: QtWidgets.QTableWidget, rows: list[list[Any]]) -> None:
        table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                table.setItem(i, j, QtWidgets.QTableWidgetItem(str(value)))

    def title(self) -> str:
        return self.tr("Сводка")

    def first_show(self) -> None:
        self.run(self._load())

    async def _load(self) -> None:
        domain = await self.client.request("GET", "/api/domain")
        try:
            board = await self.client.request("GET", "/api/billing/dashboard")
        except ApiError as exc:
            if exc.status != 404:
                raise
            board = None
        text = self.tr("{0}: баланс {1} ₽").format(domain["display_name"], domain["balance"])
        if board is not None:
            text += ", " + self.tr("пользователей {0} из {1} включённых в тариф").format(
                board["users_connected"], board["users_included"]
            )
            text += ", " + self.tr("расход за месяц {0} ₽").format(board["month_spend"])
            self._fill(
                self.spend, [[kind_name(k), f"{v} ₽"] for k, v in board["spend_by_kind"].items()]
            )
            self._fill(
                self.services,
                [
                    [s["name"], "" if s.get("quantity") is None else s["quantity"]]
                    for s in board["services"]
                ],
            )
            self._fill(
                self.top,
                [
                    [
                        u["display_name"],
                        u["extension"],
                        f"{u['talk_seconds'] // 60} {self.tr('мин')}",
                    ]
                    for u in board["top_users"]
                ],
            )
        self.headline.setText(text)
