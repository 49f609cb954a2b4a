"""Domain settings: time zone, notification e-mail, default caller ID and restriction,
pickup code."""

from __future__ import annotations

from typing import Any

from desktop.admin.sections.common import number_label, restrictions
from desktop.admin.widgets import tasks
from desktop.admin.widgets.form import Field, Form
from desktop.admin.widgets.section import Section
from desktop.api.client import ApiError, PultClient, ServerUnreachable
from desktop.qt import QtWidgets


class DomainSection(Section):
    key = "domain"

    def __init__(self, client: PultClient, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(client, parent)
        self.info = QtWidgets.QLabel()
        self.info.setObjectName("domain-info")
        self.info.setWordWrap(True)
        self.form = Form(
            [
                Field("timezone", self.tr("Часовой пояс"), placeholder="Europe/Moscow"),
                Field("notification_email", self.tr("Email для уведомлений")),
                Field(
                    "default_outgoing_number_id",
                    self.tr("АОН по умолчанию"),
                    "ref",
                    ref_path="/api/numbers",
                    ref_label=number_label,
                ),
                Field(
                    "default_restriction",
                    self.tr("Исходящие вызовы по умолчанию"),
                    "choice",
                    choices=restrictions()[1:],
                    default="none",
                ),
                Field("pickup_code", self.tr("Код перехвата")),
            ]
        )
        save = QtWidgets.QPushButton(self.tr("Сохранить"))
        save.setObjectName("save")
        save.clicked.connect(self.save)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.info)
        layout.addWidget(self.form)
        layout.addWidget(save)
        layout.addStretch(1)
        layout.addWidget(self.status)
        self.domain: dict[str, Any] = {}

    def title(self) -> str:
        return self.tr("Настройки домена")

    def first_show(self) -> None:
        self.run(self._load())

    async def _load(self) -> None:
        await self.form.load_refs(self.client)
        self.domain = await self.client.request("GET", "/api/domain")
        self.form.set_values(self.domain)
        d = self.domain
        self.info.setText(
            self.tr("{0} ({1}), лицевой счёт {2}, баланс {3} ₽").format(
                d["display_name"], d["name"], d["account_number"], d["balance"]
            )
        )

    def is_dirty(self) -> bool:
        return self.activated and self.form.is_dirty()

    def discard(self) -> None:
        self.form.set_values(self.domain)

    def save(self) -> None:
        tasks.start(self._save(), self.form.show_error)

    async def _save(self) -> None:
        self.form.clear_errors()
        try:
            self.domain = await self.client.request(
                "PATCH", "/api/domain", json=self.form.changed_values()
            )
        except (ApiError, ServerUnreachable) as exc:
            self.form.show_error(exc)
            return
        self.form.set_values(self.domain)
        self.show_status(self.tr("Сохранено"))
