"""What an admin does in the panel to set up a domain, one step per function.

Each step drives a section's own widgets and methods (what the buttons call), waits for the
panel's requests to finish, and fails with the message the panel showed when the server
refused; it returns the object the panel now shows as saved.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from desktop.admin.sections.groups import GroupsSection
from desktop.admin.sections.numbers import NumbersSection
from desktop.admin.sections.schedules import SchedulesSection
from desktop.admin.sections.users import UsersSection
from desktop.admin.widgets.section import CrudSection
from desktop.admin.workspace import AdminWorkspace
from desktop.qt import QtWidgets
from tests.ui.admin.conftest import settle


@dataclass(frozen=True)
class Member:
    login: str
    display_name: str
    password: str
    sip_password: str


def type_into(section_form: Any, name: str, text: str) -> None:
    widget = section_form.widgets[name]
    if isinstance(widget, QtWidgets.QLineEdit):
        widget.setText(text)
        widget.textEdited.emit(text)
    else:
        widget.setPlainText(text)


def choose(combo: QtWidgets.QComboBox, value: Any) -> None:
    index = combo.findData(value)
    assert index >= 0, (
        f"{value!r} is not offered: {[combo.itemText(i) for i in range(combo.count())]}"
    )
    combo.setCurrentIndex(index)


def combo(section: CrudSection, name: str) -> QtWidgets.QComboBox:
    widget = section.form.widgets[name]
    assert isinstance(widget, QtWidgets.QComboBox)
    return widget


def form_errors(section: CrudSection) -> str:
    shown = {name: label.text() for name, label in section.form.errors.items() if label.text()}
    return f"status={section.status.text()!r} fields={shown}"


def saved(section: CrudSection) -> dict[str, Any]:
    assert section.current is not None, "not saved: " + form_errors(section)
    return section.current


def create_user(ws: AdminWorkspace, loop: asyncio.AbstractEventLoop, m: Member) -> dict[str, Any]:
    section = ws.open("users")
    assert isinstance(section, UsersSection)
    settle(loop)
    section.new()
    settle(loop)
    for name, text in (
        ("login", m.login),
        ("password", m.password),
        ("sip_password", m.sip_password),
        ("display_name", m.display_name),
    ):
        type_into(section.form, name, text)
    section.save()  # the price quote is confirmed (the test dialogs answer «yes»)
    settle(loop)
    user = saved(section)
    assert user["login"] == m.login, form_errors(section)
    return user


def create_group(ws: AdminWorkspace, loop: asyncio.AbstractEventLoop, name: str) -> dict[str, Any]:
    section = ws.open("groups")
    assert isinstance(section, GroupsSection)
    settle(loop)
    section.new()
    type_into(section.form, "name", name)
    choose(combo(section, "algorithm"), "ring_all")
    section.save()
    settle(loop)
    group = saved(section)
    assert group["name"] == name, form_errors(section)
    return group


def add_member(ws: AdminWorkspace, loop: asyncio.AbstractEventLoop, user: dict[str, Any]) -> None:
    """Into the group open in the groups section, as choosing a user and «Добавить» does."""
    section = ws.open("groups")
    assert isinstance(section, GroupsSection)
    settle(loop)
    members = section.members
    choose(members.user, user["id"])
    members.add()
    settle(loop)
    assert user["id"] in [m["user_id"] for m in members.members], members.error.text()


def create_schedule(
    ws: AdminWorkspace, loop: asyncio.AbstractEventLoop, name: str, manual_text: str
) -> dict[str, Any]:
    """Typed in the editor's manual mode (exact minutes, up to 24:00)."""
    section = ws.open("schedules")
    assert isinstance(section, SchedulesSection)
    settle(loop)
    section.new()
    type_into(section.form, "name", name)
    section.editor.mode.setChecked(True)
    section.editor.manual.setPlainText(manual_text)
    section.save()
    settle(loop)
    schedule = saved(section)
    assert schedule["name"] == name, section.editor.error.text() or form_errors(section)
    return schedule


def create_number_with_rule(
    ws: AdminWorkspace,
    loop: asyncio.AbstractEventLoop,
    e164: str,
    schedule: dict[str, Any],
    group: dict[str, Any],
) -> dict[str, Any]:
    """The number on the schedule, and one rule: in working time → the group."""
    section = ws.open("numbers")
    assert isinstance(section, NumbersSection)
    settle(loop)
    section.new()
    type_into(section.form, "e164", e164)
    type_into(section.form, "name", "Главный")
    choose(combo(section, "schedule_id"), schedule["id"])
    section.save()
    settle(loop)
    number = saved(section)
    assert number["e164"] == e164 and number["schedule_id"] == schedule["id"], form_errors(section)

    rules = section.rules
    editor = rules.editor
    rules.new_rule()
    type_into(editor.form, "name", "Рабочее время → группа")
    choose(editor.schedule_combo, schedule["id"])
    choose(editor.when_combo, "working")
    choose(editor.target_combo, "group")
    choose(editor.ref_combo, group["id"])
    editor.save()
    settle(loop)
    shown = {n: label.text() for n, label in editor.form.errors.items() if label.text()}
    assert editor.rule is not None and not shown, f"rule not saved: {shown}"
    assert rules.list.count() == 1 and group["name"] in rules.list.item(0).text()
    return number
