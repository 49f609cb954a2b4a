"""Schedules: the company week grid painted with the mouse, a manual mode for exact minutes,
and up to three extra named intervals (lunch, holidays...)."""

from __future__ import annotations

import re
from typing import Any

from desktop.admin.sections.common import WEEKDAYS
from desktop.admin.sections.weekgrid import COLOURS, ERASE, WORKING, WeekGrid, fmt, parse
from desktop.admin.widgets.form import Field
from desktop.admin.widgets.paged import Column, Row
from desktop.admin.widgets.section import CrudSection
from desktop.api.client import PultClient
from desktop.common.i18n import tr
from desktop.qt import QtWidgets

LINE = re.compile(
    r"^\s*(?P<name>[^:]+):\s*(?P<day>\S+)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$"
)


class ManualSyntaxError(ValueError):
    pass


def working_name() -> str:
    return tr("Рабочее время")


def to_text(intervals: dict[str, Any]) -> str:
    days = [tr(d) for d in WEEKDAYS]
    lines = [f"{working_name()}: {days[d]} {a}-{b}" for d, a, b in intervals.get("working", [])]
    for extra in intervals.get("extra", []):
        lines += [f"{extra['name']}: {days[d]} {a}-{b}" for d, a, b in extra.get("intervals", [])]
    return "\n".join(lines)


def from_text(text: str) -> dict[str, Any]:
    """``Рабочее время: Пн 09:00-18:00`` / ``Обед: Пн 13:00-14:00``, one range per line."""
    days = {tr(d).casefold(): i for i, d in enumerate(WEEKDAYS)}
    days.update({str(i + 1): i for i in range(7)})
    working: list[list[Any]] = []
    extras: dict[str, list[list[Any]]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        match = LINE.match(raw)
        day = days.get(match["day"].casefold()) if match else None
        if match is None or day is None:
            raise ManualSyntaxError(
                tr("Строка {0}: ожидается «Название: Пн 09:00-18:00»").format(number)
            )
        start, end = fmt(parse(match["start"])), fmt(parse(match["end"]))
        name = match["name"].strip()
        target = (
            working if name.casefold() == working_name().casefold() else extras.setdefault(name, [])
        )
        target.append([day, start, end])
    return {
        "working": working,
        "extra": [{"name": n, "intervals": r} for n, r in extras.items()],
    }


class ScheduleEditor(QtWidgets.QGroupBox):
    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("schedule-editor")
        self.setTitle(self.tr("Неделя"))
        self.grid = WeekGrid()
        self.grid.day_names = tuple(self.tr(d) for d in WEEKDAYS)
        self.manual = QtWidgets.QPlainTextEdit()
        self.manual.setObjectName("manual")
        self.manual.setPlaceholderText(
            self.tr("Рабочее время: Пн 09:00-18:00\nОбед: Пн 13:00-14:00")
        )
        self.manual.hide()
        self.mode = QtWidgets.QCheckBox(self.tr("Ручной ввод (точное время)"))
        self.mode.setObjectName("manual-mode")
        self.mode.toggled.connect(self.set_manual)
        brushes = QtWidgets.QHBoxLayout()
        self.brush_group = QtWidgets.QButtonGroup(self)
        working = QtWidgets.QRadioButton(self.tr("Рабочее время"))
        working.setObjectName("brush-working")
        working.setStyleSheet(f"color: {COLOURS[0]}; font-weight: bold;")
        working.setChecked(True)
        self.brush_group.addButton(working, WORKING)
        brushes.addWidget(working)
        self.names: list[QtWidgets.QLineEdit] = []
        for i in range(3):
            radio = QtWidgets.QRadioButton()
            radio.setObjectName(f"brush-extra-{i}")
            self.brush_group.addButton(radio, i)
            name = QtWidgets.QLineEdit()
            name.setObjectName(f"extra-name-{i}")
            name.setPlaceholderText(self.tr("Доп. интервал {0}").format(i + 1))
            name.setStyleSheet(f"border: 2px solid {COLOURS[1 + i]};")
            name.setMaximumWidth(130)
            self.names.append(name)
            brushes.addWidget(radio)
            brushes.addWidget(name)
        erase = QtWidgets.QRadioButton(self.tr("Ластик"))
        erase.setObjectName("brush-erase")
        self.brush_group.addButton(erase, ERASE)
        brushes.addWidget(erase)
        brushes.addStretch(1)
        self.brush_group.idToggled.connect(self._brush)
        self.note = QtWidgets.QLabel(self.tr("Рисуйте мышью по сетке; правая кнопка стирает."))
        self.note.setObjectName("schedule-note")
        self.note.setWordWrap(True)
        self.error = QtWidgets.QLabel()
        self.error.setObjectName("error-intervals")
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(brushes)
        layout.addWidget(self.grid)
        layout.addWidget(self.manual)
        layout.addWidget(self.mode)
        layout.addWidget(self.note)
        layout.addWidget(self.error)
        self._snapshot: dict[str, Any] = {"working": [], "extra": []}

    def _brush(self, brush_id: int, checked: bool) -> None:
        if checked:
            self.grid.brush = brush_id

    def extra_names(self) -> list[str]:
        return [n.text().strip() for n in self.names]

    def load(self, intervals: dict[str, Any]) -> None:
        self.mode.blockSignals(True)
        self.mode.setChecked(False)
        self.mode.blockSignals(False)
        self.manual.hide()
        self.grid.show()
        names, lossy = self.grid.load(intervals)
        for i, edit in enumerate(self.names):
            edit.setText(names[i] if i < len(names) else "")
        self.manual.setPlainText(to_text(intervals))
        if lossy:
            # Minutes the grid cannot show: keep them exact by editing in manual mode.
            self.mode.setChecked(True)
        self._snapshot = self.intervals()

    def set_manual(self, on: bool) -> None:
        if on:
            self.manual.setPlainText(to_text(self.grid.intervals(self.extra_names())))
        else:
            try:
                intervals = from_text(self.manual.toPlainText())
            except ManualSyntaxError as exc:
                self.error.setText(str(exc))
                self.error.show()
                self.mode.blockSignals(True)
                self.mode.setChecked(True)
                self.mode.blockSignals(False)
                return
            names, lossy = self.grid.load(intervals)
            for i, edit in enumerate(self.names):
                edit.setText(names[i] if i < len(names) else "")
            if lossy:
                self.note.setText(self.tr("Время округлено до получаса по сетке."))
        self.manual.setVisible(on)
        self.grid.setVisible(not on)

    def intervals(self) -> dict[str, Any]:
        if self.mode.isChecked():
            return from_text(self.manual.toPlainText())
        return self.grid.intervals(self.extra_names())

    def is_dirty(self) -> bool:
        try:
            return self.intervals() != self._snapshot
        except ManualSyntaxError:
            return True

    def mark_clean(self) -> None:
        self._snapshot = self.intervals()


class SchedulesSection(CrudSection):
    key = "schedules"
    path = "/api/schedules"

    def __init__(self, client: PultClient, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(client, parent)
        self.editor = ScheduleEditor()
        self.right_layout.insertWidget(2, self.editor)
        self.form.attach_error("intervals", self.editor.error)
        self.editor.setVisible(False)

    def _set_editing(self, row: Row | None, *, keep_form: bool = False, new: bool = False) -> None:
        super()._set_editing(row, keep_form=keep_form, new=new)
        if hasattr(self, "editor"):
            _hide_editor_when_idle(self)

    def title(self) -> str:
        return self.tr("Расписания")

    def columns(self) -> list[Column]:
        return [
            Column("name", self.tr("Название")),
            Column("is_company", self.tr("Расписание компании")),
        ]

    def fields(self) -> list[Field]:
        return [
            Field("name", self.tr("Название")),
            Field("is_company", self.tr("Расписание компании"), "bool"),
        ]

    def _intervals_or_error(self) -> dict[str, Any] | None:
        try:
            return self.editor.intervals()
        except ManualSyntaxError as exc:
            self.editor.error.setText(str(exc))
            self.editor.error.show()
            return None

    def save(self) -> None:
        if self._intervals_or_error() is None:
            return
        super().save()

    def create_payload(self, values: dict[str, Any]) -> dict[str, Any]:
        return {**values, "intervals": self.editor.intervals()}

    def update_payload(self, changed: dict[str, Any]) -> dict[str, Any]:
        payload = dict(changed)
        if self.editor.is_dirty():
            payload["intervals"] = self.editor.intervals()
        return payload

    async def after_save(self, saved: Row) -> None:
        self.editor.mark_clean()

    def is_dirty(self) -> bool:
        return super().is_dirty() or (not self.form.isHidden() and self.editor.is_dirty())

    def on_open(self, row: Row | None) -> None:
        self.editor.show()
        if row is None:
            template = {"working": [[d, "09:00", "18:00"] for d in range(5)], "extra": []}
            self.editor.load(template)
            self.editor._snapshot = {"working": [], "extra": []}  # a new schedule is unsaved
        else:
            self.editor.load(row["intervals"])


def _hide_editor_when_idle(section: SchedulesSection) -> None:
    section.editor.setVisible(not section.form.isHidden())
