"""Users section against the real server with the demo domain."""

from __future__ import annotations

import asyncio
from typing import Any

from desktop.admin.sections.users import UsersSection
from desktop.api.client import PultClient
from desktop.qt import QtWidgets
from tests.ui.admin.conftest import fresh, settle


def open_users(workspace: Any, loop: asyncio.AbstractEventLoop) -> UsersSection:
    section = workspace.open("users")
    settle(loop)
    assert isinstance(section, UsersSection)
    return section


def type_into(section: Any, name: str, text: str) -> None:
    widget = section.form.widgets[name]
    assert isinstance(widget, QtWidgets.QLineEdit)
    widget.setText(text)
    widget.textEdited.emit(text)


def test_list_loads_the_demo_directory(workspace: Any, loop: asyncio.AbstractEventLoop) -> None:
    section = open_users(workspace, loop)
    assert section.model.total == 30
    assert "30" in section.counter.text()
    names = [section.model.row(i)["display_name"] for i in range(section.model.rowCount())]
    assert "Соколов Андрей Викторович" in names


def test_create_edit_reject_and_delete(
    workspace: Any, api: PultClient, loop: asyncio.AbstractEventLoop
) -> None:
    section = open_users(workspace, loop)
    section.new()
    settle(loop)
    assert "₽" in section.quote.text()  # the price quote is shown before creating
    type_into(section, "login", "newbie")
    type_into(section, "password", "Secret-pass1")
    type_into(section, "display_name", "Новиков Новичок")
    type_into(section, "extension", "1")  # too short: the server names the field
    section.save()
    settle(loop)
    assert section.form.errors["extension"].text()
    assert section.form.errors["login"].text() == ""
    assert fresh(loop, api, "/api/users", q="newbie")["total"] == 0

    type_into(section, "extension", "")
    section.save()
    settle(loop)
    created = fresh(loop, api, "/api/users", q="newbie")["items"]
    assert [u["display_name"] for u in created] == ["Новиков Новичок"]
    assert section.current is not None and section.current["login"] == "newbie"

    type_into(section, "position", "Стажёр")
    assert section.is_dirty()
    section.save()
    settle(loop)
    assert fresh(loop, api, f"/api/users/{created[0]['id']}")["position"] == "Стажёр"
    assert not section.is_dirty()

    section.delete()
    settle(loop)
    assert fresh(loop, api, "/api/users", q="newbie")["total"] == 0
    assert any(
        "Новиков Новичок" in q
        for q in __import__("desktop.admin.widgets.dialogs", fromlist=["x"]).asked
    )


def test_search_and_bulk_recording(
    workspace: Any, api: PultClient, loop: asyncio.AbstractEventLoop
) -> None:
    section = open_users(workspace, loop)
    section.search.setText("Бухгалтер")
    section.apply_search()
    settle(loop)
    section.search.setText("петрова")
    section.apply_search()
    settle(loop)
    assert section.model.total == 1
    section.table.selectAll()
    section.bulk_action.setCurrentIndex(section.bulk_action.findData("set_recording"))
    section.bulk_recording.setChecked(True)
    section.apply_bulk()
    settle(loop)
    user = fresh(loop, api, "/api/users", q="petrova")["items"][0]
    assert user["recording"] is True


def test_forwarding_scheme_editor(
    workspace: Any, api: PultClient, loop: asyncio.AbstractEventLoop
) -> None:
    section = open_users(workspace, loop)
    index = section.model.find("login", "ivanov")
    section.table.selectRow(index)
    settle(loop)
    editor = section.forwarding
    editor.number.setText("не номер")
    editor.add()
    settle(loop)
    assert editor.error.isVisible() and editor.error.text()
    editor.number.setText("+79161234567")
    editor.new_tier.setValue(2)
    editor.add()
    settle(loop)
    assert "+79161234567" in editor.tiers()[2]
    user_id = section.current["id"]  # type: ignore[index]
    stored = fresh(loop, api, "/api/forwarding-contacts", user_id=user_id)["items"]
    assert {(c["number"], c["priority"]) for c in stored if not c["is_sip"]} == {
        ("+79161234567", 2)
    }


def test_unsaved_changes_are_not_lost_silently(
    workspace: Any, loop: asyncio.AbstractEventLoop
) -> None:
    from desktop.admin.widgets import dialogs

    section = open_users(workspace, loop)
    section.table.selectRow(0)
    settle(loop)
    type_into(section, "position", "Изменено")
    dialogs.answer = False
    workspace.open("groups")
    assert workspace.current() is section  # refused to leave
    section.table.selectRow(1)
    assert section.form.values()["position"] == "Изменено"
    assert len(dialogs.asked) == 2
