"""Finance: balance and payment scheme, charges, payments, promised payment, credit limit,
services with a price quote confirmed before anything is switched on."""

from __future__ import annotations

from typing import Any

from desktop.admin.sections.cdrs import local_time
from desktop.admin.widgets import dialogs, tasks
from desktop.admin.widgets.form import Field, Form
from desktop.admin.widgets.paged import Column, PagedModel
from desktop.admin.widgets.section import Section, make_table
from desktop.api.client import ApiError, PultClient, ServerUnreachable
from desktop.common.i18n import tr
from desktop.qt import QtWidgets


def schemes() -> dict[str, str]:
    return {"advance": tr("Предоплата"), "credit": tr("Кредит"), "unlimited": tr("Безлимит")}


class FinanceSection(Section):
    key = "finance"

    def __init__(self, client: PultClient, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(client, parent)
        self.account_label = QtWidgets.QLabel()
        self.account_label.setObjectName("account")
        self.account_label.setWordWrap(True)
        self.charges = PagedModel(client, "/api/billing/charges", [
            Column("at", tr("Когда"), lambda r: local_time(r["at"])),
            Column("operation", tr("Операция")),
            Column("quantity", tr("Кол-во")),
            Column("amount", tr("Сумма, ₽")),
            Column("balance_after", tr("Баланс после, ₽")),
        ])  # fmt: skip
        self.payments = PagedModel(client, "/api/billing/payments", [
            Column("at", tr("Когда"), lambda r: local_time(r["at"])),
            Column("source", tr("Источник")),
            Column("description", tr("Описание")),
            Column("amount", tr("Сумма, ₽")),
        ])  # fmt: skip
        for model in (self.charges, self.payments):
            model.failed.connect(self.show_failure)
        tabs = QtWidgets.QTabWidget()
        tabs.setObjectName("finance-tabs")
        tabs.addTab(make_table(self.charges, "charges"), self.tr("Списания"))
        tabs.addTab(make_table(self.payments, "payments"), self.tr("Платежи"))
        self.services = QtWidgets.QTableWidget(0, 5)
        self.services.setObjectName("services")
        self.services.setHorizontalHeaderLabels([self.tr("Услуга"), self.tr("Подключена"),
            self.tr("Количество"), self.tr("В месяц, ₽"), self.tr("Подключение, ₽")])  # fmt: skip
        self.services.verticalHeader().setVisible(False)
        self.services.horizontalHeader().setStretchLastSection(True)
        self.services.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.services.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.quantity = QtWidgets.QSpinBox()
        self.quantity.setObjectName("service-quantity")
        self.quantity.setRange(1, 10_000)
        enable = QtWidgets.QPushButton(self.tr("Подключить / изменить…"))
        enable.setObjectName("service-set")
        enable.clicked.connect(self.set_service)
        disable = QtWidgets.QPushButton(self.tr("Отключить"))
        disable.setObjectName("service-disable")
        disable.clicked.connect(self.disable_service)
        service_row = QtWidgets.QHBoxLayout()
        service_row.addWidget(QtWidgets.QLabel(self.tr("Количество")))
        service_row.addWidget(self.quantity)
        service_row.addWidget(enable)
        service_row.addWidget(disable)
        service_row.addStretch(1)
        tabs_services = QtWidgets.QWidget()
        sv = QtWidgets.QVBoxLayout(tabs_services)
        sv.addWidget(self.services)
        sv.addLayout(service_row)
        tabs.addTab(tabs_services, self.tr("Услуги"))

        self.money = Form([
            Field("promised", self.tr("Обещанный платёж, ₽"), placeholder="500"),
            Field("credit_limit", self.tr("Кредитный лимит, ₽"), placeholder="1000"),
        ])  # fmt: skip
        self.money.attach_error("amount", self.money.errors["promised"])
        promised = QtWidgets.QPushButton(self.tr("Взять обещанный платёж"))
        promised.setObjectName("promised")
        promised.clicked.connect(self.take_promised)
        credit = QtWidgets.QPushButton(self.tr("Установить кредитный лимит"))
        credit.setObjectName("credit")
        credit.clicked.connect(self.set_credit)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(promised)
        buttons.addWidget(credit)
        buttons.addStretch(1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.account_label)
        layout.addWidget(self.money)
        layout.addLayout(buttons)
        layout.addWidget(tabs, 1)
        layout.addWidget(self.status)
        self.service_rows: list[dict[str, Any]] = []

    def title(self) -> str:
        return self.tr("Финансы")

    def first_show(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        self.run(self._load())

    async def _load(self) -> None:
        acc = await self.client.request("GET", "/api/billing/account")
        text = self.tr("Баланс {0} ₽, схема оплаты: {1}.").format(
            acc["balance"], schemes().get(acc["payment_scheme"], acc["payment_scheme"])
        )
        if acc.get("credit_limit") is not None:
            text += " " + self.tr("Кредитный лимит {0} ₽.").format(acc["credit_limit"])
        text += " " + self.tr(
            "В этом месяце: поступило {0} ₽, списано {1} ₽, сегодня {2} ₽."
        ).format(acc["month_income"], acc["month_spend"], acc["spend_today"])
        if acc.get("promised_payment"):
            p = acc["promised_payment"]
            text += " " + self.tr("Обещанный платёж {0} ₽ до {1}.").format(
                p["amount"], local_time(p["expires_at"])
            )
        self.account_label.setText(text)
        await self.charges.refresh()
        await self.payments.refresh()
        services = await self.client.request("GET", "/api/billing/services")
        self.service_rows = services if isinstance(services, list) else services.get("items", [])
        self.services.setRowCount(len(self.service_rows))
        for i, s in enumerate(self.service_rows):
            values = [
                s["name"],
                "✓" if s["enabled"] else "",
                s["quantity"],
                s["monthly"],
                s["connection_fee"],
            ]
            for j, v in enumerate(values):
                self.services.setItem(i, j, QtWidgets.QTableWidgetItem(str(v)))

    def _money_call(self, method: str, path: str, field: str) -> None:
        async def go() -> None:
            self.money.clear_errors()
            try:
                await self.client.request(method, path, json={"amount": self.money.values()[field]})
            except (ApiError, ServerUnreachable) as exc:
                self.money.show_error(exc)
                if isinstance(exc, ApiError) and not exc.details:
                    # A refusal (limit reached, scheme) concerns the field that was used.
                    self.money.errors[field].setText(exc.message)
                    self.money.errors[field].show()
                    self.money.general_error.hide()
                return
            self.show_status(self.tr("Готово"))
            await self._load()

        tasks.start(go(), self.show_failure)

    def take_promised(self) -> None:
        self.money.errors["amount"] = self.money.errors["promised"]
        self._money_call("POST", "/api/billing/promised-payment", "promised")

    def set_credit(self) -> None:
        self.money.errors["amount"] = self.money.errors["credit_limit"]
        self._money_call("PUT", "/api/billing/credit-limit", "credit_limit")

    def _chosen_service(self) -> dict[str, Any] | None:
        row = self.services.currentRow()
        return self.service_rows[row] if 0 <= row < len(self.service_rows) else None

    def set_service(self) -> None:
        service = self._chosen_service()
        if service is None:
            self.show_status(self.tr("Выберите услугу"), error=True)
            return

        async def go() -> None:
            quantity = self.quantity.value()
            quote = await self.client.request(
                "GET",
                f"/api/billing/services/{service['code']}/quote",
                params={"quantity": quantity},
            )
            question = self.tr(
                "«{0}», количество {1}: +{2} ₽ в месяц, подключение {3} ₽, "
                "сегодня спишется {4} ₽. Подтвердить?"
            ).format(
                service["name"],
                quantity,
                quote["monthly_delta"],
                quote["connection_fee"],
                quote["today_charge"],
            )
            if not dialogs.confirm(self, question):
                return
            await self.client.request(
                "PUT", f"/api/billing/services/{service['code']}", json={"quantity": quantity}
            )
            self.show_status(self.tr("Услуга подключена: {0}").format(service["name"]))
            await self._load()

        self.run(go())

    def disable_service(self) -> None:
        service = self._chosen_service()
        if service is None or not dialogs.confirm(
            self, self.tr("Отключить «{0}»?").format(service["name"])
        ):
            return

        async def go() -> None:
            # The person confirmed above; the server asks for that confirmation explicitly
            # (without it a DELETE only answers how much the monthly fee would drop).
            await self.client.request(
                "DELETE", f"/api/billing/services/{service['code']}", params={"confirm": "true"}
            )
            self.show_status(self.tr("Услуга отключена: {0}").format(service["name"]))
            await self._load()

        self.run(go())
