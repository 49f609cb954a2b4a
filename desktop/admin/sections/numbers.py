"""Numbers and their routing: per number an ordered rule list (drag to reorder), a rule editor
with schedule and prefix conditions and a target, the black/white list, copy rules."""

from __future__ import annotations

from typing import Any

from desktop.admin.sections.common import group_label, label_of, number_label, targets, user_label
from desktop.admin.widgets import dialogs, tasks
from desktop.admin.widgets.form import ERROR_STYLE, Field, Form, describe
from desktop.admin.widgets.paged import Column, Row
from desktop.admin.widgets.section import CrudSection
from desktop.api.client import ApiError, PultClient, ServerUnreachable
from desktop.common.i18n import tr
from desktop.qt import QtCore, QtWidgets

Qt = QtCore.Qt
USER_TARGETS = {"user", "user_voicemail", "user_fax"}
GROUP_TARGETS = {"group", "group_voicemail", "group_fax"}
NUMBER_TARGETS = {"external", "private_route"}


def kinds() -> list[tuple[Any, str]]:
    return [
        (None, tr("По номеру")),
        ("landline", tr("Городской")),
        ("mobile", tr("Мобильный")),
        ("toll_free", tr("8-800")),
    ]


def when_choices(schedule: Row | None) -> list[tuple[Any, str]]:
    result: list[tuple[Any, str]] = [
        ("working", tr("В рабочее время")),
        ("non_working", tr("В нерабочее время")),
    ]
    for extra in (schedule or {}).get("intervals", {}).get("extra", []):
        result.append((extra["name"], extra["name"]))
    return result


class RuleEditor(QtWidgets.QGroupBox):
    """One rule: conditions (schedule interval, caller prefixes) and where the call goes."""

    saved = QtCore.Signal()

    def __init__(self, client: PultClient, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.setObjectName("rule-editor")
        self.number_id: int | None = None
        self.rule: Row | None = None
        self.schedules: list[Row] = []
        self.users: list[Row] = []
        self.groups: list[Row] = []
        self.form = Form(
            [
                Field("name", self.tr("Название правила")),
                Field("active", self.tr("Действует"), "bool", default=True),
                Field("schedule_id", self.tr("Расписание"), "choice", choices=[(None, "—")]),
                Field(
                    "schedule_when",
                    self.tr("Когда"),
                    "choice",
                    choices=when_choices(None),
                    default="working",
                ),
                Field(
                    "prefixes",
                    self.tr("Префиксы номера звонящего"),
                    placeholder=self.tr("через запятую, например +7495, +7499"),
                ),
                Field(
                    "target",
                    self.tr("Куда направить"),
                    "choice",
                    choices=targets(),
                    default="group",
                ),
                Field("target_ref", self.tr("Кому"), "choice", choices=[]),
                Field("target_number", self.tr("Номер")),
            ]
        )
        self.schedule_combo.currentIndexChanged.connect(self._schedule_changed)
        self.target_combo.currentIndexChanged.connect(self._target_changed)
        save = QtWidgets.QPushButton(self.tr("Сохранить правило"))
        save.setObjectName("rule-save")
        save.clicked.connect(self.save)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.form)
        layout.addWidget(save)

    @property
    def schedule_combo(self) -> QtWidgets.QComboBox:
        w = self.form.widgets["schedule_id"]
        assert isinstance(w, QtWidgets.QComboBox)
        return w

    @property
    def when_combo(self) -> QtWidgets.QComboBox:
        w = self.form.widgets["schedule_when"]
        assert isinstance(w, QtWidgets.QComboBox)
        return w

    @property
    def target_combo(self) -> QtWidgets.QComboBox:
        w = self.form.widgets["target"]
        assert isinstance(w, QtWidgets.QComboBox)
        return w

    @property
    def ref_combo(self) -> QtWidgets.QComboBox:
        w = self.form.widgets["target_ref"]
        assert isinstance(w, QtWidgets.QComboBox)
        return w

    async def load_choices(self) -> None:
        get = self.client.request
        self.schedules = (await get("GET", "/api/schedules", params={"limit": 500}))["items"]
        self.users = (await get("GET", "/api/users", params={"limit": 500}))["items"]
        self.groups = (await get("GET", "/api/groups", params={"limit": 500}))["items"]
        combo = self.schedule_combo
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(self.tr("Без расписания (всегда)"), None)
        for s in self.schedules:
            combo.addItem(s["name"], s["id"])
        combo.blockSignals(False)

    def _refill(
        self, combo: QtWidgets.QComboBox, choices: list[tuple[Any, str]], value: Any
    ) -> None:
        combo.blockSignals(True)
        combo.clear()
        for v, text in choices:
            combo.addItem(text, v)
        combo.setCurrentIndex(max(combo.findData(value), 0))
        combo.blockSignals(False)

    def _schedule_changed(self, *_: Any) -> None:
        schedule = next(
            (s for s in self.schedules if s["id"] == self.schedule_combo.currentData()), None
        )
        self._refill(self.when_combo, when_choices(schedule), self.when_combo.currentData())
        self.when_combo.setEnabled(schedule is not None)

    def _target_changed(self, *_: Any) -> None:
        target = self.target_combo.currentData()
        if target in USER_TARGETS:
            choices = [(u["id"], user_label(u)) for u in self.users]
        elif target in GROUP_TARGETS:
            choices = [(g["id"], group_label(g)) for g in self.groups]
        else:
            choices = []
        self._refill(self.ref_combo, choices, self.ref_combo.currentData())
        self.ref_combo.setVisible(bool(choices))
        self.form.labelFor("target_ref").setVisible(bool(choices))
        self.form.widgets["target_number"].setVisible(target in NUMBER_TARGETS)
        self.form.labelFor("target_number").setVisible(target in NUMBER_TARGETS)

    def edit(self, number_id: int, rule: Row | None) -> None:
        self.number_id = number_id
        self.rule = rule
        self.setTitle(
            self.tr("Новое правило")
            if rule is None
            else self.tr("Правило «{0}»").format(rule["name"] or f"#{rule['priority']}")
        )
        data = None
        if rule is not None:
            data = {**rule, "prefixes": ", ".join(rule["prefixes"])}
        self.form.set_values(data)
        self.schedule_combo.setCurrentIndex(
            max(self.schedule_combo.findData(rule["schedule_id"] if rule else None), 0)
        )
        self._schedule_changed()
        self._target_changed()
        if rule is not None:
            self.when_combo.setCurrentIndex(max(self.when_combo.findData(rule["schedule_when"]), 0))
            self.ref_combo.setCurrentIndex(max(self.ref_combo.findData(rule["target_ref"]), 0))
        self.form.mark_clean()

    def payload(self) -> dict[str, Any]:
        values = self.form.values()
        values["prefixes"] = [p.strip() for p in values["prefixes"].split(",") if p.strip()]
        if values["target"] not in USER_TARGETS | GROUP_TARGETS:
            values["target_ref"] = None
        return values

    def save(self) -> None:
        tasks.start(self._save(), self.form.show_error)

    async def _save(self) -> None:
        self.form.clear_errors()
        body = self.payload()
        try:
            if self.rule is None:
                body["number_id"] = self.number_id
                self.rule = await self.client.request("POST", "/api/routing-rules", json=body)
            else:
                self.rule = await self.client.request(
                    "PATCH", f"/api/routing-rules/{self.rule['id']}", json=body
                )
        except (ApiError, ServerUnreachable) as exc:
            self.form.show_error(exc)
            return
        self.form.mark_clean()
        self.saved.emit()

    def is_dirty(self) -> bool:
        return self.isVisible() and self.form.is_dirty()


class RulesPanel(QtWidgets.QGroupBox):
    def __init__(self, client: PultClient, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.number: Row | None = None
        self.rules: list[Row] = []
        self.setObjectName("rules")
        self.setTitle(self.tr("Правила маршрутизации (перетащите, чтобы изменить порядок)"))
        self.list = QtWidgets.QListWidget()
        self.list.setObjectName("rules-list")
        self.list.setDragDropMode(QtWidgets.QAbstractItemView.DragDropMode.InternalMove)
        self.list.setMinimumHeight(120)
        self.list.model().rowsMoved.connect(lambda *_: self.save_order())
        self.list.currentRowChanged.connect(self._chosen)
        self.editor = RuleEditor(client)
        self.editor.saved.connect(self.reload)
        self.editor.hide()
        add = QtWidgets.QPushButton(self.tr("Новое правило"))
        add.setObjectName("rule-new")
        add.clicked.connect(self.new_rule)
        remove = QtWidgets.QPushButton(self.tr("Удалить правило"))
        remove.setObjectName("rule-delete")
        remove.clicked.connect(self.delete_rule)
        self.copy_to = QtWidgets.QComboBox()
        self.copy_to.setObjectName("copy-to")
        copy = QtWidgets.QPushButton(self.tr("Копировать правила на номер"))
        copy.setObjectName("rule-copy")
        copy.clicked.connect(self.copy_rules)
        self.error = QtWidgets.QLabel()
        self.error.setObjectName("rules-error")
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        copy_row = QtWidgets.QHBoxLayout()
        copy_row.addWidget(copy)
        copy_row.addWidget(self.copy_to, 1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        layout.addWidget(self.editor)
        layout.addLayout(copy_row)
        layout.addWidget(self.error)

    def show_number(self, number: Row, others: list[Row]) -> None:
        self.number = number
        self.copy_to.clear()
        for n in others:
            if n["id"] != number["id"]:
                self.copy_to.addItem(number_label(n), n["id"])
        self.editor.hide()
        self.reload()

    def reload(self) -> None:
        tasks.start(self._load(), self._failed)

    async def _load(self) -> None:
        if self.number is None:
            return
        if not self.editor.schedules:
            await self.editor.load_choices()
        page = await self.client.request(
            "GET", "/api/routing-rules", params={"number_id": self.number["id"], "limit": 500}
        )
        self.rules = sorted(page["items"], key=lambda r: r["priority"])
        self._draw()

    def describe_rule(self, rule: Row) -> str:
        target = label_of(targets(), rule["target"])
        who = ""
        if rule["target"] in USER_TARGETS:
            who = next(
                (user_label(u) for u in self.editor.users if u["id"] == rule["target_ref"]), ""
            )
        elif rule["target"] in GROUP_TARGETS:
            who = next(
                (group_label(g) for g in self.editor.groups if g["id"] == rule["target_ref"]), ""
            )
        elif rule["target"] in NUMBER_TARGETS:
            who = rule["target_number"]
        conditions = []
        if rule["schedule_id"] is not None:
            sched = next((s for s in self.editor.schedules if s["id"] == rule["schedule_id"]), None)
            conditions.append(
                f"{sched['name'] if sched else '?'}: "
                + label_of(when_choices(sched), rule["schedule_when"])
            )
        if rule["prefixes"]:
            conditions.append(self.tr("префиксы {0}").format(", ".join(rule["prefixes"])))
        text = f"{rule['priority']}. {rule['name'] or self.tr('Правило')} → {target} {who}".strip()
        if conditions:
            text += "  [" + "; ".join(conditions) + "]"
        if not rule["active"]:
            text += "  " + self.tr("(выключено)")
        return text

    def _draw(self) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for rule in self.rules:
            item = QtWidgets.QListWidgetItem(self.describe_rule(rule))
            item.setData(Qt.ItemDataRole.UserRole, rule["id"])
            self.list.addItem(item)
        self.list.blockSignals(False)

    def order(self) -> list[int]:
        return [
            int(self.list.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(self.list.count())
        ]

    def move_rule(self, source: int, target: int) -> None:
        """What a drag does (tests and keyboard use it): move a row, then save the order."""
        item = self.list.takeItem(source)
        self.list.insertItem(target, item)
        self.save_order()

    def save_order(self) -> None:
        if self.number is None or self.order() == [r["id"] for r in self.rules]:
            return

        async def go() -> None:
            assert self.number is not None
            await self.client.request(
                "PUT",
                f"/api/numbers/{self.number['id']}/rules/order",
                json={"rule_ids": self.order()},
            )
            await self._load()

        tasks.start(go(), self._failed)

    def _chosen(self, row: int) -> None:
        if 0 <= row < len(self.rules) and self.number is not None:
            rule_id = self.list.item(row).data(Qt.ItemDataRole.UserRole)
            rule = next(r for r in self.rules if r["id"] == rule_id)
            if self.editor.is_dirty() and not dialogs.confirm_discard(self):
                return
            self.editor.edit(self.number["id"], rule)
            self.editor.show()

    def new_rule(self) -> None:
        if self.number is None:
            return
        if self.editor.is_dirty() and not dialogs.confirm_discard(self):
            return
        self.editor.edit(self.number["id"], None)
        self.editor.show()

    def delete_rule(self) -> None:
        rule = self.editor.rule if self.editor.isVisible() else None
        if rule is None:
            return
        if dialogs.confirm(
            self, self.tr("Удалить правило «{0}»?").format(rule["name"] or rule["id"])
        ):

            async def go() -> None:
                await self.client.request("DELETE", f"/api/routing-rules/{rule['id']}")
                self.editor.hide()
                await self._load()

            tasks.start(go(), self._failed)

    def copy_rules(self) -> None:
        target = self.copy_to.currentData()
        if self.number is None or target is None:
            return
        question = self.tr(
            "Скопировать правила номера {0} на номер {1}? Правила того номера будут удалены."
        ).format(self.number["e164"], self.copy_to.currentText())
        if dialogs.confirm(self, question):

            async def go() -> None:
                assert self.number is not None
                copied = await self.client.request(
                    "POST", f"/api/numbers/{self.number['id']}/rules/copy",
                    json={"to_number_id": target},
                )  # fmt: skip
                self.error.setStyleSheet("")
                self.error.setText(self.tr("Скопировано правил: {0}").format(len(copied)))
                self.error.show()

            tasks.start(go(), self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setText(describe(exc))
        self.error.show()


class FiltersPanel(QtWidgets.QGroupBox):
    """The black or white list of a number (never both)."""

    def __init__(self, client: PultClient, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.number: Row | None = None
        self.setObjectName("filters")
        self.setTitle(self.tr("Чёрный и белый списки"))
        self.mode = QtWidgets.QComboBox()
        self.mode.setObjectName("list-mode")
        for value, text in (
            ("none", self.tr("Не действует")),
            ("black", self.tr("Чёрный список: эти номера не пропускать")),
            ("white", self.tr("Белый список: пропускать только эти номера")),
        ):
            self.mode.addItem(text, value)
        self.mode.activated.connect(self._mode_chosen)
        self.entries = QtWidgets.QListWidget()
        self.entries.setObjectName("filter-entries")
        self.entries.setMaximumHeight(110)
        self.phone = QtWidgets.QLineEdit()
        self.phone.setObjectName("field-e164")
        self.phone.setPlaceholderText(self.tr("Номер"))
        self.comment = QtWidgets.QLineEdit()
        self.comment.setPlaceholderText(self.tr("Комментарий"))
        add = QtWidgets.QPushButton(self.tr("Добавить"))
        add.setObjectName("filter-add")
        add.clicked.connect(self.add)
        remove = QtWidgets.QPushButton(self.tr("Удалить выбранный"))
        remove.setObjectName("filter-remove")
        remove.clicked.connect(self.remove)
        self.message = QtWidgets.QLabel()
        self.message.setObjectName("error-e164")
        self.message.setWordWrap(True)
        self.message.hide()
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.phone, 1)
        row.addWidget(self.comment, 1)
        row.addWidget(add)
        row.addWidget(remove)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.mode)
        layout.addWidget(self.entries)
        layout.addLayout(row)
        layout.addWidget(self.message)

    def show_number(self, number: Row) -> None:
        self.number = number
        # The number's current mode, when the server tells it (list_mode in the number).
        self.mode.setCurrentIndex(max(self.mode.findData(number.get("list_mode", "none")), 0))
        self.message.hide()
        tasks.start(self._load(), self._failed)

    async def _load(self) -> None:
        assert self.number is not None
        page = await self.client.request(
            "GET", "/api/number-filters", params={"number_id": self.number["id"], "limit": 500}
        )
        self.entries.clear()
        for f in page["items"]:
            item = QtWidgets.QListWidgetItem(f"{f['e164']}  {f['comment']}".strip())
            item.setData(Qt.ItemDataRole.UserRole, f["id"])
            self.entries.addItem(item)

    def _mode_chosen(self, _index: int) -> None:
        async def go() -> None:
            assert self.number is not None
            result = await self.client.request(
                "PUT", f"/api/numbers/{self.number['id']}/list-mode",
                json={"mode": self.mode.currentData()},
            )  # fmt: skip
            self.number["list_mode"] = result["mode"]
            self._note(
                result.get("warning") or self.tr("Режим списка сохранён"),
                error=bool(result.get("warning")),
            )

        tasks.start(go(), self._failed)

    def add(self) -> None:
        async def go() -> None:
            assert self.number is not None
            try:
                await self.client.request(
                    "POST", "/api/number-filters",
                    json={"number_id": self.number["id"], "e164": self.phone.text().strip(),
                          "comment": self.comment.text().strip()},
                )  # fmt: skip
            except (ApiError, ServerUnreachable) as exc:
                self._failed(exc)
                return
            self.phone.clear()
            self.comment.clear()
            self.message.hide()
            await self._load()

        tasks.start(go(), self._failed)

    def remove(self) -> None:
        item = self.entries.currentItem()
        if item is None:
            return
        filter_id = item.data(Qt.ItemDataRole.UserRole)

        async def go() -> None:
            await self.client.request("DELETE", f"/api/number-filters/{filter_id}")
            await self._load()

        tasks.start(go(), self._failed)

    def _note(self, text: str, *, error: bool) -> None:
        self.message.setStyleSheet(ERROR_STYLE if error else "")
        self.message.setText(text)
        self.message.show()

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, ApiError) and exc.details:
            self._note("\n".join(d.message for d in exc.details), error=True)
        else:
            self._note(describe(exc), error=True)


class NumbersSection(CrudSection):
    key = "numbers"
    path = "/api/numbers"

    def __init__(self, client: PultClient, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(client, parent)
        self.rules = RulesPanel(client)
        self.filters = FiltersPanel(client)
        self.details.addWidget(self.rules)
        self.details.addWidget(self.filters)

    def title(self) -> str:
        return self.tr("Номера и маршрутизация")

    def columns(self) -> list[Column]:
        return [
            Column("e164", self.tr("Номер")),
            Column("name", self.tr("Название")),
            Column("kind", self.tr("Тип"), lambda r: label_of(kinds(), r["kind"])),
        ]

    def fields(self) -> list[Field]:
        return [
            Field("e164", self.tr("Номер")),
            Field("name", self.tr("Название")),
            Field("kind", self.tr("Тип"), "choice", choices=kinds()),
            Field("schedule_id", self.tr("Расписание"), "ref", ref_path="/api/schedules"),
        ]

    def name_of(self, row: Row) -> str:
        return number_label(row)

    def is_dirty(self) -> bool:
        return super().is_dirty() or self.rules.editor.is_dirty()

    def discard(self) -> None:
        super().discard()
        self.rules.editor.hide()

    def on_open(self, row: Row | None) -> None:
        self.rules.setVisible(row is not None)
        self.filters.setVisible(row is not None)
        if row is not None:
            self.rules.show_number(row, list(self.model.rows))
            self.filters.show_number(row)
