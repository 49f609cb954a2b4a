"""Groups, pickup groups, numbers with routing rules and lists, schedules, the simulator."""

from __future__ import annotations

import asyncio
from typing import Any

from desktop.api.client import PultClient
from desktop.qt import QtWidgets
from tests.ui.admin.conftest import fresh, settle


def type_into(form: Any, name: str, text: str) -> None:
    widget = form.widgets[name]
    if isinstance(widget, QtWidgets.QLineEdit):
        widget.setText(text)
        widget.textEdited.emit(text)
    else:
        widget.setPlainText(text)


def test_group_crud_members_and_crm_preview(
    workspace: Any, api: PultClient, loop: asyncio.AbstractEventLoop
) -> None:
    section = workspace.open("groups")
    settle(loop)
    assert section.model.total == 3
    section.new()
    type_into(section.form, "name", "Доставка")
    type_into(section.form, "extension", "101")  # taken by a user: the shared extension space
    section.save()
    settle(loop)
    assert section.form.errors["extension"].text()
    type_into(section.form, "extension", "")
    type_into(section.form, "crm_url_template", "https://crm.example/c?phone={caller}")
    assert "+79161234567" in section.preview.text()
    section.save()
    settle(loop)
    group = next(g for g in fresh(loop, api, "/api/groups")["items"] if g["name"] == "Доставка")
    assert group["crm_url_template"] == "https://crm.example/c?phone={caller}"

    members = section.members
    members.user.setCurrentIndex(0)
    added = members.user.currentData()
    members.add()
    settle(loop)
    assert [m["user_id"] for m in members.members] == [added]
    spin = members.table.cellWidget(0, 3)
    spin.setValue(7)
    members.set_priority(added, 7)
    settle(loop)
    stored = fresh(loop, api, f"/api/groups/{group['id']}")
    assert [(m["user_id"], m["priority"]) for m in stored["members"]] == [(added, 7)]

    section.delete()
    settle(loop)
    assert all(g["name"] != "Доставка" for g in fresh(loop, api, "/api/groups")["items"])


def test_pickup_group_members(
    workspace: Any, api: PultClient, loop: asyncio.AbstractEventLoop
) -> None:
    section = workspace.open("pickup")
    settle(loop)
    section.new()
    settle(loop)
    section.save()  # no name
    settle(loop)
    assert section.form.errors["name"].text()
    type_into(section.form, "name", "Склад")
    section.members.item(0).setCheckState(section.members.item(0).checkState().Checked)
    section.save()
    settle(loop)
    made = next(p for p in fresh(loop, api, "/api/pickup-groups")["items"] if p["name"] == "Склад")
    assert len(made["member_ids"]) == 1
    section.delete()
    settle(loop)
    assert all(p["name"] != "Склад" for p in fresh(loop, api, "/api/pickup-groups")["items"])


def test_number_rules_reorder_filters_copy(
    workspace: Any, api: PultClient, loop: asyncio.AbstractEventLoop
) -> None:
    section = workspace.open("numbers")
    settle(loop)
    section.new()
    type_into(section.form, "e164", "12")
    section.save()
    settle(loop)
    assert section.form.errors["e164"].text()
    type_into(section.form, "e164", "+74951110000")
    type_into(section.form, "name", "Новый")
    section.save()
    settle(loop)
    number = section.current
    assert number is not None and number["e164"] == "+74951110000"

    rules = section.rules
    editor = rules.editor
    for name, target in (("Продажи", "group"), ("Отбой", "hangup")):
        rules.new_rule()
        type_into(editor.form, "name", name)
        editor.target_combo.setCurrentIndex(editor.target_combo.findData(target))
        if target == "group":
            editor.ref_combo.setCurrentIndex(0)
        editor.save()
        settle(loop)
    # A bad prefix: the server's message under the prefixes field.
    rules.new_rule()
    type_into(editor.form, "prefixes", "abc")
    editor.target_combo.setCurrentIndex(editor.target_combo.findData("hangup"))
    editor.save()
    settle(loop)
    assert editor.form.errors["prefixes"].text()
    stored = fresh(loop, api, "/api/routing-rules", number_id=number["id"])["items"]
    assert [r["name"] for r in sorted(stored, key=lambda r: r["priority"])] == ["Продажи", "Отбой"]

    rules.move_rule(1, 0)  # what dragging «Отбой» to the top does
    settle(loop)
    stored = fresh(loop, api, "/api/routing-rules", number_id=number["id"])["items"]
    assert [r["name"] for r in sorted(stored, key=lambda r: r["priority"])] == ["Отбой", "Продажи"]

    filters = section.filters
    filters.phone.setText("+79031112233")
    filters.add()
    settle(loop)
    filters.mode.setCurrentIndex(filters.mode.findData("black"))
    filters._mode_chosen(filters.mode.currentIndex())
    settle(loop)
    assert filters.entries.count() == 1
    filters.phone.setText("xyz")
    filters.add()
    settle(loop)
    assert filters.message.isVisible() and filters.message.text()

    target = rules.copy_to.itemData(0)
    rules.copy_rules()
    settle(loop)
    copied = fresh(loop, api, "/api/routing-rules", number_id=target)["items"]
    assert sorted(r["name"] for r in copied) == ["Отбой", "Продажи"]

    section.delete()
    settle(loop)
    assert fresh(loop, api, "/api/numbers", q="74951110000")["total"] == 0


def drag(widget: QtWidgets.QWidget, pos: Any) -> None:
    """A mouse move with the left button held (QTest's moves carry no buttons)."""
    from desktop.qt import QtCore, QtGui

    event = QtGui.QMouseEvent(
        QtCore.QEvent.Type.MouseMove,
        QtCore.QPointF(pos),
        QtCore.QPointF(widget.mapToGlobal(pos)),
        QtCore.Qt.MouseButton.NoButton,
        QtCore.Qt.MouseButton.LeftButton,
        QtCore.Qt.KeyboardModifier.NoModifier,
    )
    QtWidgets.QApplication.sendEvent(widget, event)


def test_schedule_painted_with_the_mouse(
    workspace: Any, api: PultClient, loop: asyncio.AbstractEventLoop, qtbot: Any
) -> None:
    from desktop.qt import QtCore

    section = workspace.open("schedules")
    settle(loop)
    section.new()
    type_into(section.form, "name", "Склад")
    grid = section.editor.grid
    grid.clear()
    # Monday 10:00–12:00 by dragging with the left button held.
    qtbot.mousePress(grid, QtCore.Qt.MouseButton.LeftButton, pos=grid.cell_centre(0, 20))
    for slot in range(21, 24):
        drag(grid, grid.cell_centre(0, slot))
    section.editor.names[0].setText("Обед")
    section.editor.brush_group.button(0).setChecked(True)
    qtbot.mousePress(grid, QtCore.Qt.MouseButton.LeftButton, pos=grid.cell_centre(0, 22))
    section.save()
    settle(loop)
    made = next(s for s in fresh(loop, api, "/api/schedules")["items"] if s["name"] == "Склад")
    assert made["intervals"]["working"] == [[0, "10:00", "12:00"]]
    assert made["intervals"]["extra"] == [{"name": "Обед", "intervals": [[0, "11:00", "11:30"]]}]

    # Manual mode: exact minutes; a bad overlap comes back at the intervals.
    section.editor.mode.setChecked(True)
    section.editor.manual.setPlainText(
        "Рабочее время: Пн 09:15-18:00\nРабочее время: Пн 10:00-11:00"
    )
    section.save()
    settle(loop)
    assert section.editor.error.text()
    section.editor.manual.setPlainText("Рабочее время: Пн 09:15-18:00")
    section.save()
    settle(loop)
    made = fresh(loop, api, f"/api/schedules/{made['id']}")
    assert made["intervals"]["working"] == [[0, "09:15", "18:00"]]
    section.delete()
    settle(loop)
    assert all(s["name"] != "Склад" for s in fresh(loop, api, "/api/schedules")["items"])


def test_simulate_shows_the_route_trace(workspace: Any, loop: asyncio.AbstractEventLoop) -> None:
    section = workspace.open("simulate")
    type_into(section.form, "caller", "+79161112233")
    type_into(section.form, "called", "+74951234567")
    section.simulate()
    settle(loop)
    assert section.decision is not None
    assert section.decision["trace"]
    assert section.decision["trace"][0] in section.result.toPlainText()
    type_into(section.form, "caller", "")
    section.simulate()
    settle(loop)
    assert section.form.errors["caller"].text()
