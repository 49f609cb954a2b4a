"""Call groups (algorithm, members with inline priorities, operator workstation settings with a
CRM link preview) and pickup groups."""

from __future__ import annotations

from typing import Any

from desktop.admin.sections.common import algorithms, user_label
from desktop.admin.widgets import tasks
from desktop.admin.widgets.form import ERROR_STYLE, Field, describe
from desktop.admin.widgets.paged import Column, Row
from desktop.admin.widgets.section import CrudSection
from desktop.api.client import ApiError, PultClient, ServerUnreachable
from desktop.common.i18n import tr
from desktop.qt import QtCore, QtWidgets

# What the operator's CRM link gets at the moment a call is answered (spec 02: {caller},
# {call_id}, ...); the preview fills them with believable values.
SAMPLE = {
    "caller": "+79161234567",
    "called": "+74951234567",
    "call_id": "3c2b9a7e-5f1d",
    "operator": "popov",
    "extension": "110",
    "group": "501",
}


def crm_preview(template: str) -> str:
    text = template
    for key, value in SAMPLE.items():
        text = text.replace("{" + key + "}", value)
    return text


class MembersPanel(QtWidgets.QGroupBox):
    """Members of a group with their priority editable in place (saved on change)."""

    def __init__(self, client: PultClient, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.group_id: int | None = None
        self.setObjectName("members")
        self.setTitle(self.tr("Участники"))
        self.table = QtWidgets.QTableWidget(0, 4)
        self.table.setObjectName("members-table")
        self.table.setHorizontalHeaderLabels(
            [self.tr("Имя"), self.tr("Внутр."), self.tr("Оператор"), self.tr("Приоритет")]
        )
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setMinimumHeight(150)
        self.user = QtWidgets.QComboBox()
        self.user.setObjectName("member-user")
        add = QtWidgets.QPushButton(self.tr("Добавить"))
        add.setObjectName("member-add")
        add.clicked.connect(self.add)
        remove = QtWidgets.QPushButton(self.tr("Убрать выбранного"))
        remove.setObjectName("member-remove")
        remove.clicked.connect(self.remove)
        self.error = QtWidgets.QLabel()
        self.error.setObjectName("error-members")
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.hide()
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.user, 1)
        row.addWidget(add)
        row.addWidget(remove)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(row)
        layout.addWidget(self.error)
        self.members: list[Row] = []

    def show_group(self, group: Row) -> None:
        self.group_id = group["id"]
        self.members = list(group["members"])
        self._draw()
        tasks.start(self._users(), self._failed)

    async def _users(self) -> None:
        page = await self.client.request("GET", "/api/users", params={"limit": 500})
        present = {m["user_id"] for m in self.members}
        self.user.clear()
        for u in page["items"]:
            if u["id"] not in present:
                self.user.addItem(user_label(u), u["id"])

    def _draw(self) -> None:
        self.table.setRowCount(len(self.members))
        for i, m in enumerate(self.members):
            for j, text in enumerate(
                (m["display_name"], m["extension"], "✓" if m["is_operator"] else "")
            ):
                self.table.setItem(i, j, QtWidgets.QTableWidgetItem(text))
            spin = QtWidgets.QSpinBox()
            spin.setObjectName(f"priority-{m['user_id']}")
            spin.setRange(1, 100)
            spin.setValue(m["priority"])
            spin.editingFinished.connect(
                lambda uid=m["user_id"], s=spin: self.set_priority(uid, s.value())
            )
            self.table.setCellWidget(i, 3, spin)

    def set_priority(self, user_id: int, priority: int) -> None:
        member = next(m for m in self.members if m["user_id"] == user_id)
        if member["priority"] == priority:
            return
        tasks.start(
            self._call("PATCH", f"/members/{user_id}", {"priority": priority}), self._failed
        )

    def add(self) -> None:
        user_id = self.user.currentData()
        if user_id is not None:
            tasks.start(self._call("POST", "/members", [{"user_id": user_id}]), self._failed)

    def remove(self) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self.members):
            uid = self.members[row]["user_id"]
            tasks.start(self._call("DELETE", f"/members/{uid}", None), self._failed)

    async def _call(self, method: str, suffix: str, body: Any) -> None:
        self.error.hide()
        kwargs = {} if body is None else {"json": body}
        try:
            await self.client.request(method, f"/api/groups/{self.group_id}{suffix}", **kwargs)
        except (ApiError, ServerUnreachable) as exc:
            self._failed(exc)
            return
        group = await self.client.request("GET", f"/api/groups/{self.group_id}")
        self.show_group(group)

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, ApiError) and exc.details:
            self.error.setText("\n".join(d.message for d in exc.details))
        else:
            self.error.setText(describe(exc))
        self.error.show()


class GroupsSection(CrudSection):
    key = "groups"
    path = "/api/groups"

    def __init__(self, client: PultClient, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(client, parent)
        self.preview = QtWidgets.QLabel()
        self.preview.setObjectName("crm-preview")
        self.preview.setWordWrap(True)
        self.preview.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.right_layout.insertWidget(2, self.preview)
        crm = self.form.widgets["crm_url_template"]
        assert isinstance(crm, QtWidgets.QLineEdit)
        crm.textChanged.connect(self._preview)
        self.members = MembersPanel(client)
        self.details.addWidget(self.members)

    def title(self) -> str:
        return self.tr("Группы")

    def columns(self) -> list[Column]:
        algos = algorithms()
        return [
            Column("name", self.tr("Название")),
            Column("extension", self.tr("Внутр.")),
            Column("algorithm", self.tr("Алгоритм"),
                   lambda r: next((t for v, t in algos if v == r["algorithm"]), r["algorithm"])),
            Column("operators", self.tr("Операторов")),
            Column("users", self.tr("Пользователей")),
        ]  # fmt: skip

    def fields(self) -> list[Field]:
        return [
            Field("name", self.tr("Название")),
            Field("extension", self.tr("Внутренний номер"),
                  placeholder=self.tr("пусто — следующий свободный")),
            Field("algorithm", self.tr("Алгоритм"), "choice", choices=algorithms(),
                  default="ring_all"),
            Field("email", self.tr("Email")),
            Field("step_seconds", self.tr("Шаг, с"), "int", default=20, maximum=600),
            Field("total_wait_seconds", self.tr("Общее ожидание, с"), "int", default=60,
                  maximum=3600),
            Field("voicemail_enabled", self.tr("Голосовая почта группы"), "bool"),
            Field("greeting_text", self.tr("Приветствие оператора"), "multiline"),
            Field("answer_seconds", self.tr("Время на ответ, с"), "int", default=20, maximum=600),
            Field("post_call_seconds", self.tr("Поствызывная обработка, с"), "int", default=30,
                  maximum=3600),
            Field("avg_talk_seconds", self.tr("Среднее время разговора, с"), "int", default=180,
                  maximum=36000),
            Field("crm_url_template", self.tr("Шаблон ссылки CRM"),
                  placeholder="https://crm.example/card?phone={caller}"),
        ]  # fmt: skip

    def name_of(self, row: Row) -> str:
        return f"{row['name']} ({row['extension']})"

    def create_payload(self, values: dict[str, Any]) -> dict[str, Any]:
        payload = dict(values)
        if not payload.get("extension"):
            payload.pop("extension", None)
        return payload

    def _preview(self, text: str) -> None:
        self.preview.setText(
            tr("Пример ссылки: {0}").format(crm_preview(text)) if text.strip() else ""
        )

    def on_open(self, row: Row | None) -> None:
        self.members.setVisible(row is not None)
        if row is not None:
            self.members.show_group(row)


class PickupGroupsSection(CrudSection):
    key = "pickup"
    path = "/api/pickup-groups"

    def __init__(self, client: PultClient, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(client, parent)
        self.members = QtWidgets.QListWidget()
        self.members.setObjectName("pickup-members")
        self.members.itemChanged.connect(lambda _i: self._edited())
        box = QtWidgets.QGroupBox(self.tr("Участники (отметьте)"))
        QtWidgets.QVBoxLayout(box).addWidget(self.members)
        self.details.addWidget(box)
        self._members_snapshot: list[int] = []

    def title(self) -> str:
        return self.tr("Группы перехвата")

    def columns(self) -> list[Column]:
        return [
            Column("name", self.tr("Название")),
            Column("pickup_code", self.tr("Код перехвата")),
            Column("members", self.tr("Участники"), lambda r: str(len(r["member_ids"]))),
        ]

    def fields(self) -> list[Field]:
        return [Field("name", self.tr("Название"))]

    def checked(self) -> list[int]:
        result = []
        for i in range(self.members.count()):
            item = self.members.item(i)
            if item.checkState() == QtCore.Qt.CheckState.Checked:
                result.append(int(item.data(QtCore.Qt.ItemDataRole.UserRole)))
        return result

    def is_dirty(self) -> bool:
        return super().is_dirty() or (
            not self.form.isHidden() and sorted(self.checked()) != sorted(self._members_snapshot)
        )

    def on_open(self, row: Row | None) -> None:
        self._members_snapshot = list(row["member_ids"]) if row else []
        self.run(self._fill(set(self._members_snapshot)))

    async def _fill(self, chosen: set[int]) -> None:
        page = await self.client.request("GET", "/api/users", params={"limit": 500})
        self.members.blockSignals(True)
        self.members.clear()
        for u in page["items"]:
            item = QtWidgets.QListWidgetItem(user_label(u))
            item.setData(QtCore.Qt.ItemDataRole.UserRole, u["id"])
            item.setCheckState(
                QtCore.Qt.CheckState.Checked
                if u["id"] in chosen
                else QtCore.Qt.CheckState.Unchecked
            )
            self.members.addItem(item)
        self.members.blockSignals(False)

    def create_payload(self, values: dict[str, Any]) -> dict[str, Any]:
        return {**values, "user_ids": self.checked()}

    def update_payload(self, changed: dict[str, Any]) -> dict[str, Any]:
        return changed

    def save(self) -> None:
        if self.current is not None and not self.form.is_dirty():
            # Only the members changed.
            self.run(self._save_members(self.current["id"]))
            return
        super().save()

    async def after_save(self, saved: Row) -> None:
        if self.current is not None and sorted(self.checked()) != sorted(self._members_snapshot):
            await self.client.request(
                "PUT",
                f"/api/pickup-groups/{saved['id']}/members",
                json={"user_ids": self.checked()},
            )
        self._members_snapshot = self.checked()

    async def _save_members(self, group_id: int) -> None:
        await self.client.request(
            "PUT", f"/api/pickup-groups/{group_id}/members", json={"user_ids": self.checked()}
        )
        self._members_snapshot = self.checked()
        self.show_status(self.tr("Сохранено"))
        await self.model.refresh()
