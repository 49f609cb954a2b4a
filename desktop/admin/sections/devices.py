"""SIP devices: attach a phone by MAC and serial, bind it to a user, proxies or domain defaults."""

from __future__ import annotations

from desktop.admin.sections.common import user_label
from desktop.admin.widgets.form import Field
from desktop.admin.widgets.paged import Column, Row
from desktop.admin.widgets.section import CrudSection


class DevicesSection(CrudSection):
    key = "devices"
    path = "/api/devices"

    def title(self) -> str:
        return self.tr("SIP-устройства")

    def columns(self) -> list[Column]:
        return [
            Column("mac", self.tr("MAC")),
            Column("serial", self.tr("Серийный номер")),
            Column("model", self.tr("Модель")),
            Column("use_domain_settings", self.tr("Настройки домена")),
        ]

    def fields(self) -> list[Field]:
        return [
            Field("mac", self.tr("MAC-адрес"), placeholder="00:15:65:AA:BB:CC"),
            Field("serial", self.tr("Серийный номер")),
            Field("model", self.tr("Модель")),
            Field("user_id", self.tr("Пользователь"), "ref", ref_path="/api/users",
                  ref_label=user_label),
            Field("use_domain_settings", self.tr("Настройки домена по умолчанию"), "bool",
                  default=True),
            Field("push_proxy", self.tr("Передавать прокси на устройство"), "bool"),
            Field("primary_proxy", self.tr("Основной прокси")),
            Field("primary_port", self.tr("Порт"), "int", default=5060, minimum=1, maximum=65535),
            Field("backup_proxy", self.tr("Резервный прокси")),
            Field("backup_port", self.tr("Порт резервного"), "int", default=5060, minimum=1,
                  maximum=65535),
        ]  # fmt: skip

    def name_of(self, row: Row) -> str:
        return f"{row['mac']} {row.get('model') or ''}".strip()
