"""Users: the directory with search and bulk operations, create with the price quote, import,
and the user page (profile, roles, passwords, restriction, caller ID, recording, voicemail,
forwarding scheme)."""

from __future__ import annotations

from typing import Any

from desktop.admin.sections.common import number_label, restrictions
from desktop.admin.sections.forwarding import ForwardingEditor
from desktop.admin.widgets import dialogs, tasks
from desktop.admin.widgets.form import Field
from desktop.admin.widgets.importer import ImportPanel
from desktop.admin.widgets.paged import Column, Row
from desktop.admin.widgets.section import CrudSection
from desktop.api.client import PultClient
from desktop.common.i18n import tr
from desktop.qt import QtWidgets

BULK_ACTIONS = ("add_to_group", "set_pickup_group", "set_roles", "set_recording", "delete")


def roles_text(row: Row) -> str:
    names = [
        (row.get("is_admin"), tr("админ")),
        (row.get("is_supervisor"), tr("супервизор")),
        (row.get("is_operator"), tr("оператор")),
    ]
    return ", ".join(text for on, text in names if on)


class UsersSection(CrudSection):
    key = "users"
    path = "/api/users"

    def __init__(self, client: PultClient, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(client, parent)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.ExtendedSelection)
        self.search.setPlaceholderText(self.tr("Поиск по имени, логину, номеру (от 3 символов)"))
        self._bulk_bar()
        self.quote = QtWidgets.QLabel()
        self.quote.setObjectName("quote")
        self.quote.setWordWrap(True)
        self.right_layout.insertWidget(1, self.quote)
        self.forwarding = ForwardingEditor(client)
        self.details.addWidget(self.forwarding)
        self.importer = ImportPanel(client, "users")
        self.importer.imported.connect(self.model.reload)
        self.importer.hide()
        import_button = QtWidgets.QPushButton(self.tr("Импорт…"))
        import_button.setObjectName("import")
        import_button.clicked.connect(
            lambda: self.importer.setVisible(not self.importer.isVisible())
        )
        self.toolbar.addWidget(import_button)
        layout = self.layout()
        assert isinstance(layout, QtWidgets.QVBoxLayout)
        layout.insertWidget(1, self.importer)

    def title(self) -> str:
        return self.tr("Пользователи")

    def columns(self) -> list[Column]:
        return [
            Column("display_name", self.tr("Имя")),
            Column("extension", self.tr("Внутр.")),
            Column("login", self.tr("Логин")),
            Column("roles", self.tr("Роли"), roles_text),
            Column(
                "groups", self.tr("Группы"), lambda r: ", ".join(g["name"] for g in r["groups"])
            ),
        ]

    def fields(self) -> list[Field]:
        return [
            Field("login", self.tr("Логин"), read_only_after_create=True),
            Field("password", self.tr("Пароль"), "password",
                  placeholder=self.tr("оставьте пустым, чтобы не менять")),
            Field("sip_password", self.tr("Пароль SIP"), "password",
                  placeholder=self.tr("по умолчанию — как пароль")),
            Field("display_name", self.tr("Отображаемое имя")),
            Field("extension", self.tr("Внутренний номер"),
                  placeholder=self.tr("пусто — следующий свободный")),
            Field("email", self.tr("Email")),
            Field("position", self.tr("Должность")),
            Field("is_operator", self.tr("Оператор"), "bool"),
            Field("is_supervisor", self.tr("Супервизор"), "bool"),
            Field("is_admin", self.tr("Администратор"), "bool"),
            Field("active", self.tr("Активен"), "bool", default=True),
            Field("outgoing_restriction", self.tr("Исходящие вызовы"), "choice",
                  choices=restrictions(), default="inherit"),
            Field("outgoing_number_id", self.tr("АОН (номер для исходящих)"), "ref",
                  ref_path="/api/numbers", ref_label=number_label),
            Field("pickup_group_id", self.tr("Группа перехвата"), "ref",
                  ref_path="/api/pickup-groups"),
            Field("recording", self.tr("Запись разговоров"), "bool"),
            Field("voicemail_enabled", self.tr("Голосовая почта"), "bool"),
            Field("voicemail_to_email", self.tr("Голосовые сообщения на email"), "bool"),
        ]  # fmt: skip

    def name_of(self, row: Row) -> str:
        return f"{row['display_name']} ({row['extension']})"

    def create_payload(self, values: dict[str, Any]) -> dict[str, Any]:
        payload = dict(values)
        for key in ("sip_password", "extension"):
            if not payload.get(key):
                payload.pop(key, None)
        return payload

    def update_payload(self, changed: dict[str, Any]) -> dict[str, Any]:
        payload = dict(changed)
        payload.pop("login", None)
        for key in ("password", "sip_password"):
            if not payload.get(key):
                payload.pop(key, None)
        return payload

    def on_open(self, row: Row | None) -> None:
        self.forwarding.setVisible(row is not None)
        self.quote.setVisible(row is None)
        if row is not None:
            self.forwarding.load(row["id"])
        else:
            self.quote.setText("")
            self.run(self._prefill())

    async def _prefill(self) -> None:
        """A new user: the next free extension and what one more user will cost."""
        nxt = await self.client.request("GET", "/api/users/next-extension")
        self.form.widgets["extension"].setProperty("placeholderText", nxt["extension"])
        quote = await self.client.request("GET", "/api/quotes/users", params={"count": 1})
        self.quote.setText(
            self.tr("Стоимость: +{0} ₽ в месяц, подключение {1} ₽, сегодня спишется {2} ₽.").format(
                quote["monthly_delta"], quote["connection_fee"], quote["today_charge"]
            )
        )

    def save(self) -> None:
        if (
            self.current is None
            and self.quote.text()
            and not dialogs.confirm(
                self, self.tr("Создать пользователя? {0}").format(self.quote.text())
            )
        ):
            return
        super().save()

    # --- delete with the server's check ---------------------------------------------------

    def delete(self) -> None:
        row = self.current
        if row is not None:
            self.run(self._checked_delete(row))

    async def _checked_delete(self, row: Row) -> None:
        check = await self.client.request("GET", f"/api/users/{row['id']}/delete-check")
        if not check["can_delete"]:
            self.show_status(check["reason"] or self.tr("Удалить нельзя"), error=True)
            return
        question = self.delete_question(row)
        empty = [g["name"] for g in check["groups_left_empty"]]
        no_ops = [g["name"] for g in check["groups_left_without_operators"]]
        if empty:
            question += "\n" + self.tr("Группы останутся пустыми: {0}").format(", ".join(empty))
        if no_ops:
            question += "\n" + self.tr("Группы останутся без операторов: {0}").format(
                ", ".join(no_ops)
            )
        if dialogs.confirm(self, question):
            await self._delete(row)

    # --- bulk operations --------------------------------------------------------------

    def _bulk_bar(self) -> None:
        self.bulk_action = QtWidgets.QComboBox()
        self.bulk_action.setObjectName("bulk-action")
        for action, text in zip(
            BULK_ACTIONS,
            (
                self.tr("Добавить в группу"),
                self.tr("В группу перехвата"),
                self.tr("Назначить роли"),
                self.tr("Запись разговоров"),
                self.tr("Удалить"),
            ),
            strict=True,
        ):
            self.bulk_action.addItem(text, action)
        self.bulk_group = QtWidgets.QComboBox()
        self.bulk_group.setObjectName("bulk-group")
        self.bulk_pickup = QtWidgets.QComboBox()
        self.bulk_pickup.setObjectName("bulk-pickup")
        self.bulk_roles = {
            "is_operator": QtWidgets.QCheckBox(self.tr("оператор")),
            "is_supervisor": QtWidgets.QCheckBox(self.tr("супервизор")),
            "is_admin": QtWidgets.QCheckBox(self.tr("админ")),
        }
        self.bulk_recording = QtWidgets.QCheckBox(self.tr("включить"))
        self.bulk_recording.setObjectName("bulk-recording")
        apply = QtWidgets.QPushButton(self.tr("Применить к выбранным"))
        apply.setObjectName("bulk-apply")
        apply.clicked.connect(self.apply_bulk)
        self.toolbar.addWidget(self.bulk_action)
        self.toolbar.addWidget(self.bulk_group)
        self.toolbar.addWidget(self.bulk_pickup)
        for name, box in self.bulk_roles.items():
            box.setObjectName(f"bulk-{name}")
            self.toolbar.addWidget(box)
        self.toolbar.addWidget(self.bulk_recording)
        self.toolbar.addWidget(apply)
        self.toolbar.addStretch(1)
        self.bulk_action.currentIndexChanged.connect(self._bulk_visible)
        self._bulk_visible()

    def _bulk_visible(self, *_: Any) -> None:
        action = self.bulk_action.currentData()
        self.bulk_group.setVisible(action == "add_to_group")
        self.bulk_pickup.setVisible(action == "set_pickup_group")
        for box in self.bulk_roles.values():
            box.setVisible(action == "set_roles")
        self.bulk_recording.setVisible(action == "set_recording")

    def first_show(self) -> None:
        super().first_show()
        self.run(self._load_bulk_choices())

    async def _load_bulk_choices(self) -> None:
        groups = await self.client.request("GET", "/api/groups", params={"limit": 500})
        pickups = await self.client.request("GET", "/api/pickup-groups", params={"limit": 500})
        self.bulk_group.clear()
        for g in groups["items"]:
            self.bulk_group.addItem(f"{g['name']} ({g['extension']})", g["id"])
        self.bulk_pickup.clear()
        self.bulk_pickup.addItem(self.tr("Без группы"), None)
        for p in pickups["items"]:
            self.bulk_pickup.addItem(p["name"], p["id"])

    def selected_rows(self) -> list[Row]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.row(r) for r in rows]

    def apply_bulk(self) -> None:
        rows = self.selected_rows()
        if not rows:
            self.show_status(self.tr("Выберите пользователей в списке"), error=True)
            return
        action = self.bulk_action.currentData()
        body: dict[str, Any] = {"user_ids": [r["id"] for r in rows], "action": action}
        if action == "add_to_group":
            body["group_id"] = self.bulk_group.currentData()
        elif action == "set_pickup_group":
            body["pickup_group_id"] = self.bulk_pickup.currentData()
        elif action == "set_roles":
            body.update({k: box.isChecked() for k, box in self.bulk_roles.items()})
        elif action == "set_recording":
            body["recording"] = self.bulk_recording.isChecked()
        question = self.tr("{0}: пользователей — {1}. Продолжить?").format(
            self.bulk_action.currentText(), len(rows)
        )
        if dialogs.confirm(self, question):
            self.run(self._bulk(body))

    async def _bulk(self, body: dict[str, Any]) -> None:
        result = await self.client.request("POST", "/api/users/bulk", json=body)
        self.show_status(self.tr("Изменено пользователей: {0}").format(len(result["changed"])))
        if body["action"] == "delete":
            self._set_editing(None)
        await self.model.refresh()


__all__ = ["UsersSection", "tasks"]
