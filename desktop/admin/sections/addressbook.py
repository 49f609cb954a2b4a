"""Address books: the company book and the admin's personal one, contact groups, short codes
(speed dial) and import from a file."""

from __future__ import annotations

from typing import Any

from desktop.admin.widgets import dialogs
from desktop.admin.widgets.form import Field
from desktop.admin.widgets.importer import ImportPanel
from desktop.admin.widgets.paged import Column, Row
from desktop.admin.widgets.section import CrudSection
from desktop.api.client import PultClient
from desktop.common.i18n import tr
from desktop.qt import QtWidgets

PHONE_KINDS = ("work", "mobile", "home", "ip", "other")


def kind_names() -> dict[str, str]:
    return {
        "work": tr("рабочий"),
        "mobile": tr("мобильный"),
        "home": tr("домашний"),
        "ip": tr("IP"),
        "other": tr("другой"),
    }


def phones_text(phones: list[dict[str, Any]]) -> str:
    names = kind_names()
    return ", ".join(f"{names.get(p['kind'], p['kind'])} {p['number']}" for p in phones)


def parse_phones(text: str) -> list[dict[str, Any]]:
    """``рабочий +74951112233, мобильный +79161112233``; a bare number is a work phone."""
    by_name = {v.casefold(): k for k, v in kind_names().items()} | {k: k for k in PHONE_KINDS}
    result = []
    for part in text.split(","):
        words = part.split()
        if not words:
            continue
        kind = by_name.get(words[0].casefold())
        number = " ".join(words[1:]) if kind else " ".join(words)
        result.append({"kind": kind or "work", "number": number})
    return result


class ContactsSection(CrudSection):
    key = "contacts"
    path = "/api/contacts"

    def __init__(self, client: PultClient, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(client, parent)
        self.book = QtWidgets.QComboBox()
        self.book.setObjectName("book")
        self.book.addItem(self.tr("Книга компании"), "company")
        self.book.addItem(self.tr("Моя личная книга"), "personal")
        self.book.activated.connect(self._book_chosen)
        self.toolbar.addWidget(self.book)
        self.group_name = QtWidgets.QLineEdit()
        self.group_name.setObjectName("contact-group-name")
        self.group_name.setPlaceholderText(self.tr("Новая группа контактов"))
        add_group = QtWidgets.QPushButton(self.tr("Создать группу"))
        add_group.setObjectName("contact-group-add")
        add_group.clicked.connect(self.add_group)
        self.toolbar.addWidget(self.group_name)
        self.toolbar.addWidget(add_group)
        self.importer = ImportPanel(client, "contacts")
        self.importer.imported.connect(self.model.reload)
        self.importer.hide()
        import_button = QtWidgets.QPushButton(self.tr("Импорт…"))
        import_button.setObjectName("import")
        import_button.clicked.connect(
            lambda: self.importer.setVisible(not self.importer.isVisible())
        )
        self.toolbar.addWidget(import_button)
        self.toolbar.addStretch(1)
        layout = self.layout()
        assert isinstance(layout, QtWidgets.QVBoxLayout)
        layout.insertWidget(1, self.importer)

    def title(self) -> str:
        return self.tr("Адресные книги")

    def columns(self) -> list[Column]:
        return [
            Column("name", self.tr("Имя")),
            Column("phones", self.tr("Телефоны"), lambda r: phones_text(r["phones"])),
            Column("speed_dial", self.tr("Короткий код")),
            Column("position", self.tr("Должность")),
        ]

    def fields(self) -> list[Field]:
        return [
            Field("name", self.tr("Имя")),
            Field("phones", self.tr("Телефоны"),
                  placeholder=self.tr("рабочий +74951112233, мобильный +79161112233")),
            Field("group_id", self.tr("Группа"), "ref", ref_path="/api/contact-groups"),
            Field("speed_dial", self.tr("Короткий код")),
            Field("email", self.tr("Email")),
            Field("position", self.tr("Должность")),
        ]  # fmt: skip

    def _prefix(self) -> str:
        return "/api/me" if self.book.currentData() == "personal" else "/api"

    def _book_chosen(self, _index: int) -> None:
        if self.is_dirty() and not dialogs.confirm_discard(self):
            return
        prefix = self._prefix()
        self.path = f"{prefix}/contacts"
        self.model.path = self.path
        self.form.fields["group_id"].ref_path = f"{prefix}/contact-groups"
        self.importer.setEnabled(prefix == "/api")  # the import fills the company book
        self._set_editing(None)
        self.model.reload()
        self.run(self.form.load_refs(self.client))

    def from_item(self, row: Row) -> dict[str, Any]:
        return {**row, "phones": phones_text(row["phones"]), "speed_dial": row["speed_dial"] or ""}

    def _shape(self, values: dict[str, Any]) -> dict[str, Any]:
        payload = dict(values)
        if "phones" in payload:
            payload["phones"] = parse_phones(payload["phones"])
        if "speed_dial" in payload and not payload["speed_dial"]:
            payload["speed_dial"] = None
        return payload

    def create_payload(self, values: dict[str, Any]) -> dict[str, Any]:
        return self._shape(values)

    def update_payload(self, changed: dict[str, Any]) -> dict[str, Any]:
        return self._shape(changed)

    def add_group(self) -> None:
        name = self.group_name.text().strip()
        if not name:
            return

        async def go() -> None:
            await self.client.request(
                "POST", f"{self._prefix()}/contact-groups", json={"name": name}
            )
            self.group_name.clear()
            self.show_status(self.tr("Группа создана: {0}").format(name))
            await self.form.load_refs(self.client)

        self.run(go())
