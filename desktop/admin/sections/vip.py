"""VIP numbers: callers served first, by priority."""

from __future__ import annotations

from desktop.admin.widgets.form import Field
from desktop.admin.widgets.paged import Column, Row
from desktop.admin.widgets.section import CrudSection


class VipSection(CrudSection):
    key = "vip"
    path = "/api/vip-numbers"

    def title(self) -> str:
        return self.tr("VIP-номера")

    def columns(self) -> list[Column]:
        return [
            Column("e164", self.tr("Номер")),
            Column("priority", self.tr("Приоритет")),
            Column("comment", self.tr("Комментарий")),
        ]

    def fields(self) -> list[Field]:
        return [
            Field("e164", self.tr("Номер")),
            Field("priority", self.tr("Приоритет (1 — высший)"), "int", default=1, minimum=0,
                  maximum=100),
            Field("comment", self.tr("Комментарий")),
        ]  # fmt: skip

    def name_of(self, row: Row) -> str:
        return str(row["e164"])
