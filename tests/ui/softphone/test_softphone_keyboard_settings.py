"""Hotkeys, keyboard-only use, sound devices and call history (pytest-qt, fake engine)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from pytestqt.qtbot import QtBot

from desktop.qt import QtCore, QtGui, QtWidgets
from desktop.softphone.engine.devices import AudioChoice, SoundDevice
from tests.ui.softphone.conftest import Phone, make_phone

Key = QtCore.Qt.Key


def press(qtbot: QtBot, phone: Phone, key: QtCore.Qt.Key, mods: Any = None) -> None:
    target = QtWidgets.QApplication.focusWidget() or phone.widget
    if mods is None:
        qtbot.keyClick(target, key)
    else:
        qtbot.keyClick(target, key, mods)


def test_default_hotkeys_answer_hold_mute_transfer_and_hang_up(qtbot: QtBot, phone: Phone) -> None:
    phone.widget.number_edit.setFocus()
    line_id = phone.engine.ring("1002")
    phone.widget.activateWindow()
    press(qtbot, phone, Key.Key_F5)
    assert ("answer", line_id) in phone.engine.actions
    press(qtbot, phone, Key.Key_F7)
    assert phone.engine.actions[-1] == ("hold", line_id)
    press(qtbot, phone, Key.Key_F7)
    assert phone.engine.actions[-1] == ("resume", line_id)
    press(qtbot, phone, Key.Key_F8)
    assert phone.engine.actions[-1] == ("mute", line_id, True)
    qtbot.keyClicks(phone.widget.number_edit, "1003")
    press(qtbot, phone, Key.Key_F9)
    assert phone.engine.actions[-1] == ("blind_transfer", line_id, "1003")
    press(qtbot, phone, Key.Key_F6)
    assert phone.engine.actions[-1] == ("hangup", line_id)


def test_a_hotkey_changed_in_settings_is_remembered_and_used(
    qtbot: QtBot, phone: Phone, tmp_path: Path, loop: asyncio.AbstractEventLoop
) -> None:
    edit = phone.widget.settings_page.key_edits["answer"]
    edit.setKeySequence(QtGui.QKeySequence("Ctrl+Shift+A"))
    edit.editingFinished.emit()
    assert phone.settings.value("softphone/hotkeys/answer") == "Ctrl+Shift+A"
    line_id = phone.engine.ring("1002")
    phone.widget.number_edit.setFocus()
    press(qtbot, phone, Key.Key_F5)
    assert ("answer", line_id) not in phone.engine.actions
    press(
        qtbot,
        phone,
        Key.Key_A,
        QtCore.Qt.KeyboardModifier.ControlModifier | QtCore.Qt.KeyboardModifier.ShiftModifier,
    )
    assert ("answer", line_id) in phone.engine.actions
    # A new page (next start) reads the same settings file.
    again = make_phone(qtbot, loop, tmp_path)
    assert again.widget.settings_page.key_edits["answer"].keySequence().toString() == (
        "Ctrl+Shift+A"
    )


def test_every_action_is_reachable_without_a_mouse(qtbot: QtBot, phone: Phone) -> None:
    """Each control has a mnemonic (Alt+letter) or a hotkey; lines are picked with Alt+1/2."""
    for name, button in phone.widget.buttons.items():
        assert "&" in button.text() or name in phone.widget.shortcuts, name
        assert button.focusPolicy() != QtCore.Qt.FocusPolicy.NoFocus, name
    for box in (phone.widget.dnd_box, phone.widget.auto_box):
        assert "&" in box.text()
    phone.engine.dial("1002")
    phone.engine.dial("1003")
    assert phone.widget.panels[2].select.isChecked()
    phone.widget.number_edit.setFocus()
    press(qtbot, phone, Key.Key_1, QtCore.Qt.KeyboardModifier.AltModifier)
    assert phone.widget.panels[1].select.isChecked()
    press(qtbot, phone, Key.Key_2, QtCore.Qt.KeyboardModifier.AltModifier)
    assert phone.widget.panels[2].select.isChecked()


def test_sound_devices_are_chosen_by_name_and_survive_unplugging(phone: Phone) -> None:
    page = phone.widget.settings_page
    mic = page.combos["microphone"]
    items = [mic.itemText(i) for i in range(mic.count())]
    assert items == ["Системное устройство", "Built-in Microphone", "USB Headset"]
    ringer = page.combos["ringer"]
    assert [ringer.itemText(i) for i in range(ringer.count())][1:] == [
        "Built-in Speakers",
        "USB Headset",
    ]
    mic.setCurrentIndex(mic.findData("USB Headset"))
    mic.activated.emit(mic.currentIndex())
    ringer.setCurrentIndex(ringer.findData("Built-in Speakers"))
    ringer.activated.emit(ringer.currentIndex())
    assert phone.engine.audio == AudioChoice("USB Headset", "", "Built-in Speakers")
    assert phone.settings.value("softphone/audio/microphone") == "USB Headset"

    phone.engine.unplug("USB Headset")
    assert mic.currentText() == "USB Headset (не подключено)"
    assert "USB Headset" in page.device_note.text()
    phone.engine.plug(SoundDevice("USB Headset", 1, 2, 5))
    assert mic.currentText() == "USB Headset"
    assert page.device_note.text() == ""
    assert phone.engine.audio.microphone == "USB Headset"


def test_history_enter_redials_and_plain_users_are_told_why_it_is_local(
    qtbot: QtBot, phone: Phone
) -> None:
    page = phone.widget.history_page
    assert not page.server_button.isVisible()
    assert "администратору" in page.note.text()
    phone.engine.ring("1002")
    phone.widget.reject()
    phone.widget.tabs.setCurrentIndex(1)
    page.tree.setFocus()
    first = page.tree.topLevelItem(0)
    assert first is not None
    page.tree.setCurrentItem(first)
    qtbot.keyClick(page.tree, Key.Key_Return)
    assert phone.engine.actions[-1] == ("dial", "1002")
    assert phone.widget.tabs.currentIndex() == 0


def test_an_administrator_loads_the_server_history(
    qtbot: QtBot, loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    async def cdrs() -> list[dict[str, Any]]:
        return [
            {
                "caller": "1001",
                "called": "1002",
                "started_at": "2024-05-01T10:00:00+00:00",
                "duration_seconds": 65,
                "result": "answered",
                "direction": "internal",
            }
        ]

    phone = make_phone(qtbot, loop, tmp_path, server_history=cdrs)
    page = phone.widget.history_page
    phone.widget.tabs.setCurrentIndex(1)
    assert page.server_button.isVisible()
    page.server_button.click()
    loop.run_until_complete(asyncio.gather(*page.tasks))
    row = page.tree.topLevelItem(0)
    assert row is not None
    assert row.text(1) == "1001 → 1002"
    assert (row.text(2), row.text(3), row.text(4)) == ("01:05", "разговор", "сервер")
    assert page.note.text() == "С сервера: 1 вызовов"
