"""The user's forwarding scheme drawn as stages: each priority tier is a column of contacts that
ring together, tiers follow one another left to right (arrows), each contact with its ring time
and schedule. Every change is saved at once, so nothing waits unsaved in this editor."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from desktop.admin.widgets import tasks
from desktop.admin.widgets.form import ERROR_STYLE, describe
from desktop.api.client import ApiError, PultClient, ServerUnreachable
from desktop.qt import QtCore, QtWidgets

Qt = QtCore.Qt
WORKING, NON_WORKING = "working", "non_working"


class ContactCard(QtWidgets.QFrame):
    def __init__(self, editor: ForwardingEditor, contact: dict[str, Any]) -> None:
        super().__init__()
        self.editor = editor
        self.contact = contact
        self.setObjectName(f"contact-{contact['id']}")
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self.setStyleSheet("ContactCard { background: palette(base); border-radius: 6px; }")
        title = self.tr("SIP-телефон (основной)") if contact["is_sip"] else contact["number"]
        name = QtWidgets.QLabel(f"<b>{title}</b>")
        self.enabled = QtWidgets.QCheckBox(self.tr("Включён"))
        self.enabled.setObjectName("enabled")
        self.enabled.setChecked(contact["enabled"])
        self.enabled.toggled.connect(lambda v: self.save(enabled=v))
        self.ring = QtWidgets.QSpinBox()
        self.ring.setObjectName("ring_seconds")
        self.ring.setRange(5, 300)
        self.ring.setSuffix(self.tr(" с"))
        self.ring.setValue(contact["ring_seconds"])
        self.ring.editingFinished.connect(lambda: self.save(ring_seconds=self.ring.value()))
        self.tier = QtWidgets.QSpinBox()
        self.tier.setObjectName("priority")
        self.tier.setRange(1, 20)
        self.tier.setValue(contact["priority"])
        self.tier.editingFinished.connect(lambda: self.save(priority=self.tier.value()))
        self.schedule = QtWidgets.QComboBox()
        self.schedule.setObjectName("schedule_id")
        self.schedule.addItem(self.tr("Всегда"), None)
        for s in editor.schedules:
            self.schedule.addItem(s["name"], s["id"])
        self.schedule.setCurrentIndex(max(self.schedule.findData(contact["schedule_id"]), 0))
        self.when = QtWidgets.QComboBox()
        self.when.setObjectName("schedule_when")
        self._fill_when()
        self.schedule.activated.connect(self._schedule_chosen)
        self.when.activated.connect(lambda _i: self.save(schedule_when=self.when.currentData()))
        self.error = QtWidgets.QLabel()
        self.error.setObjectName("card-error")
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()
        form = QtWidgets.QFormLayout(self)
        form.addRow(name)
        form.addRow(self.tr("Звонить"), self.ring)
        form.addRow(self.tr("Этап"), self.tier)
        form.addRow(self.tr("Расписание"), self.schedule)
        form.addRow(self.tr("Когда"), self.when)
        form.addRow(self.enabled)
        if not contact["is_sip"]:
            remove = QtWidgets.QPushButton(self.tr("Удалить"))
            remove.setObjectName("remove")
            remove.clicked.connect(lambda: editor.remove(contact))
            form.addRow(remove)
        form.addRow(self.error)

    def _fill_when(self) -> None:
        self.when.clear()
        self.when.addItem(self.tr("В рабочее время"), WORKING)
        self.when.addItem(self.tr("В нерабочее время"), NON_WORKING)
        chosen = next(
            (s for s in self.editor.schedules if s["id"] == self.schedule.currentData()), None
        )
        for extra in (chosen or {}).get("intervals", {}).get("extra", []):
            self.when.addItem(extra["name"], extra["name"])
        self.when.setCurrentIndex(max(self.when.findData(self.contact["schedule_when"]), 0))
        self.when.setEnabled(chosen is not None)

    def _schedule_chosen(self, _index: int) -> None:
        self._fill_when()
        self.save(schedule_id=self.schedule.currentData(), schedule_when=self.when.currentData())

    def save(self, **changes: Any) -> None:
        if all(self.contact.get(k) == v for k, v in changes.items()):
            return
        tasks.start(self._save(changes), self._failed)

    async def _save(self, changes: dict[str, Any]) -> None:
        try:
            saved = await self.editor.client.request(
                "PATCH", f"/api/forwarding-contacts/{self.contact['id']}", json=changes
            )
        except (ApiError, ServerUnreachable) as exc:
            self._failed(exc)
            return
        self.contact.update(saved)
        self.error.hide()
        if "priority" in changes:
            self.editor.reload()

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, ApiError) and exc.details:
            text = "\n".join(d.message for d in exc.details)
        else:
            text = describe(exc)
        self.error.setText(text)
        self.error.show()


class ForwardingEditor(QtWidgets.QGroupBox):
    def __init__(self, client: PultClient, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.user_id: int | None = None
        self.schedules: list[dict[str, Any]] = []
        self.contacts: list[dict[str, Any]] = []
        self.cards: dict[int, ContactCard] = {}
        self.setObjectName("forwarding")
        self.setTitle(self.tr("Схема переадресации"))
        hint = QtWidgets.QLabel(
            self.tr(
                "Контакты одного этапа звонят одновременно; если никто не ответил, "
                "вызов переходит к следующему этапу."
            )
        )
        hint.setWordWrap(True)
        self.canvas = QtWidgets.QHBoxLayout()
        self.number = QtWidgets.QLineEdit()
        self.number.setObjectName("field-number")
        self.number.setPlaceholderText(self.tr("Номер, например +79161234567"))
        self.new_tier = QtWidgets.QSpinBox()
        self.new_tier.setObjectName("new-priority")
        self.new_tier.setRange(1, 20)
        self.new_tier.setPrefix(self.tr("этап "))
        self.new_ring = QtWidgets.QSpinBox()
        self.new_ring.setRange(5, 300)
        self.new_ring.setValue(20)
        self.new_ring.setSuffix(self.tr(" с"))
        add = QtWidgets.QPushButton(self.tr("Добавить номер"))
        add.setObjectName("add-contact")
        add.clicked.connect(self.add)
        self.error = QtWidgets.QLabel()
        self.error.setObjectName("error-number")
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.hide()
        adder = QtWidgets.QHBoxLayout()
        adder.addWidget(self.number, 1)
        adder.addWidget(self.new_tier)
        adder.addWidget(self.new_ring)
        adder.addWidget(add)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addLayout(self.canvas)
        layout.addLayout(adder)
        layout.addWidget(self.error)

    def load(self, user_id: int) -> None:
        self.user_id = user_id
        self.reload()

    def reload(self) -> None:
        tasks.start(self._load(), self._failed)

    async def _load(self) -> None:
        if self.user_id is None:
            return
        user_id = self.user_id
        schedules = await self.client.request("GET", "/api/schedules", params={"limit": 500})
        page = await self.client.request(
            "GET", "/api/forwarding-contacts", params={"user_id": user_id, "limit": 500}
        )
        if user_id != self.user_id:
            return
        self.schedules = schedules["items"]
        self.contacts = sorted(page["items"], key=lambda c: (c["priority"], c["id"]))
        self._draw()

    def _draw(self) -> None:
        while self.canvas.count():
            item = self.canvas.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.cards = {}
        if not self.contacts:
            self.canvas.addWidget(QtWidgets.QLabel(self.tr("Контактов нет")))
        for i, (tier, contacts) in enumerate(groupby(self.contacts, key=lambda c: c["priority"])):
            if i:
                arrow = QtWidgets.QLabel("→")
                arrow.setStyleSheet("font-size: 22px;")
                self.canvas.addWidget(arrow)
            column = QtWidgets.QGroupBox(self.tr("Этап {0}").format(tier))
            column.setObjectName(f"tier-{tier}")
            column_layout = QtWidgets.QVBoxLayout(column)
            for contact in contacts:
                card = ContactCard(self, contact)
                self.cards[contact["id"]] = card
                column_layout.addWidget(card)
            column_layout.addStretch(1)
            self.canvas.addWidget(column)
        self.canvas.addStretch(1)
        self.new_tier.setValue((self.contacts[-1]["priority"] + 1) if self.contacts else 1)

    def tiers(self) -> dict[int, list[str]]:
        """What is drawn: tier → contact titles (for tests and for reading the scheme)."""
        result: dict[int, list[str]] = {}
        for c in self.contacts:
            result.setdefault(c["priority"], []).append("SIP" if c["is_sip"] else c["number"])
        return result

    def add(self) -> None:
        tasks.start(self._add(), self._failed)

    async def _add(self) -> None:
        self.error.hide()
        try:
            await self.client.request(
                "POST",
                "/api/forwarding-contacts",
                json={
                    "user_id": self.user_id,
                    "number": self.number.text().strip(),
                    "priority": self.new_tier.value(),
                    "ring_seconds": self.new_ring.value(),
                },
            )
        except (ApiError, ServerUnreachable) as exc:
            self._failed(exc)
            return
        self.number.clear()
        await self._load()

    def remove(self, contact: dict[str, Any]) -> None:
        async def go() -> None:
            await self.client.request("DELETE", f"/api/forwarding-contacts/{contact['id']}")
            await self._load()

        tasks.start(go(), self._failed)

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, ApiError) and exc.details:
            text = "\n".join(d.message for d in exc.details)
        else:
            text = describe(exc)
        self.error.setText(text)
        self.error.show()
