"""Every softphone action through the page (pytest-qt, offscreen, fake engine)."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from desktop.qt import QtCore, QtWidgets
from tests.ui.softphone.conftest import Phone

Key = QtCore.Qt.Key


def click(phone: Phone, name: str) -> None:
    button = phone.widget.findChild(QtWidgets.QAbstractButton, name)
    assert button is not None, name
    assert button.isEnabled(), f"{name} is disabled"
    button.click()


def call_out(qtbot: QtBot, phone: Phone, number: str) -> int:
    qtbot.keyClicks(phone.widget.number_edit, number)
    qtbot.keyClick(phone.widget.number_edit, Key.Key_Return)
    line_id = phone.engine.lines()[-1].id
    phone.engine.remote_answer(line_id)
    return line_id


def test_registration_state_is_shown(phone: Phone) -> None:
    from desktop.softphone.engine.types import SipAccount

    assert phone.widget.registration_label.text() == "Не зарегистрирован"
    phone.engine.registration_failed(403, "Forbidden")
    assert "403 Forbidden" in phone.widget.registration_label.text()
    phone.engine.register(SipAccount("ivanov", "demo.pult", "ha1", "sip:127.0.0.1"))
    assert phone.widget.registration_label.text() == "Зарегистрирован"


def test_typing_a_number_and_enter_dials_then_answer_timer_and_hangup(
    qtbot: QtBot, phone: Phone, tmp_path: Path
) -> None:
    qtbot.keyClicks(phone.widget.number_edit, "1002")
    qtbot.keyClick(phone.widget.number_edit, Key.Key_Return)
    assert phone.engine.actions == [("dial", "1002")]
    panel = phone.panel(1)
    assert panel.who.text() == "1002" and panel.state_label.text() == "Набор…"
    assert phone.widget.number_edit.text() == ""
    line_id = phone.engine.lines()[0].id
    phone.engine.remote_ringing(line_id)
    assert panel.state_label.text() == "Вызов…"
    phone.engine.remote_answer(line_id)
    assert panel.state_label.text() == "Разговор"
    assert panel.timer_label.text() == "00:00"
    click(phone, "hangup")
    assert phone.engine.actions[-1] == ("hangup", line_id)
    assert panel.who.text() == "Свободна"
    assert phone.widget.history.entries[0].number == "1002"
    assert phone.widget.history.entries[0].result == "answered"
    # The history file survives a restart.
    assert "1002" in (tmp_path / "history.json").read_text()


def test_dial_button_with_nothing_typed_asks_for_a_number(phone: Phone) -> None:
    click(phone, "dial")
    assert phone.engine.actions == []
    assert phone.widget.status_label.text() == "Введите номер"


def test_dial_pad_types_digits_when_idle_and_sends_dtmf_in_a_call(
    qtbot: QtBot, phone: Phone
) -> None:
    for key in ("1", "0", "star", "hash"):
        click(phone, f"key-{key}")
    assert phone.widget.number_edit.text() == "10*#"
    phone.widget.number_edit.clear()
    line_id = call_out(qtbot, phone, "1002")
    for key in ("4", "2", "hash"):
        click(phone, f"key-{key}")
    assert [a for a in phone.engine.actions if a[0] == "dtmf"] == [
        ("dtmf", line_id, "4"),
        ("dtmf", line_id, "2"),
        ("dtmf", line_id, "#"),
    ]
    phone.engine.remote_dtmf(line_id, "7")
    assert phone.widget.status_label.text() == "Получен тон 7"


def test_incoming_call_toast_shows_the_contact_name_and_answers(phone: Phone) -> None:
    line_id = phone.engine.ring("1002")
    toast = phone.widget.toast
    assert toast.isVisible()
    assert toast.name_label.text() == "1002"  # until the directory answers
    phone.settle()
    assert toast.name_label.text() == "Анна Петрова"
    assert toast.number_label.text() == "1002"
    assert phone.panel(1).who.text() == "Анна Петрова (1002)"
    toast.answer_button.click()
    assert phone.engine.actions[-1] == ("answer", line_id)
    assert not toast.isVisible()
    assert phone.panel(1).state_label.text() == "Разговор"


def test_incoming_call_rejected_from_the_page_is_in_history_as_rejected(phone: Phone) -> None:
    line_id = phone.engine.ring("+74951234567")
    phone.settle()
    click(phone, "reject")
    assert phone.engine.actions[-1] == ("reject", line_id)
    assert not phone.widget.toast.isVisible()
    entry = phone.widget.history.entries[0]
    assert (entry.name, entry.result, entry.direction) == ("Анна Петрова", "rejected", "in")
    page = phone.widget.history_page
    row = page.tree.topLevelItem(0)
    assert row is not None and row.text(3) == "отклонён"


def test_hold_resume_and_mute_toggle_from_their_buttons(qtbot: QtBot, phone: Phone) -> None:
    line_id = call_out(qtbot, phone, "1002")
    click(phone, "hold")
    assert phone.engine.actions[-1] == ("hold", line_id)
    assert phone.panel(1).state_label.text() == "На удержании"
    assert phone.widget.buttons["hold"].isChecked()
    click(phone, "hold")
    assert phone.engine.actions[-1] == ("resume", line_id)
    assert not phone.widget.buttons["hold"].isChecked()
    click(phone, "mute")
    assert phone.engine.actions[-1] == ("mute", line_id, True)
    assert phone.panel(1).state_label.text() == "Разговор, микрофон выключен"
    click(phone, "mute")
    assert phone.engine.actions[-1] == ("mute", line_id, False)


def test_blind_transfer_to_the_typed_number(qtbot: QtBot, phone: Phone) -> None:
    line_id = call_out(qtbot, phone, "1002")
    click(phone, "transfer")
    assert phone.widget.status_label.text() == "Введите номер, на который перевести вызов"
    qtbot.keyClicks(phone.widget.number_edit, "1003")
    click(phone, "transfer")
    assert phone.engine.actions[-1] == ("blind_transfer", line_id, "1003")
    assert phone.panel(1).state_label.text() == "Перевод…"
    phone.engine.transfer_done(line_id)
    assert phone.widget.status_label.text() == "Вызов переведён"
    assert phone.panel(1).line is None


def test_second_call_holds_the_first_then_attended_transfer_joins_them(
    qtbot: QtBot, phone: Phone
) -> None:
    first = call_out(qtbot, phone, "1002")
    assert not phone.widget.buttons["attended"].isEnabled()
    second = call_out(qtbot, phone, "1003")
    assert phone.panel(1).line.on_hold and phone.panel(1).state_label.text() == "На удержании"
    assert phone.panel(2).line.id == second and phone.panel(2).select.isChecked()
    click(phone, "attended")
    assert phone.engine.actions[-1] == ("attended_transfer", first, second)


def test_conference_mixes_two_lines_and_split_holds_the_other(qtbot: QtBot, phone: Phone) -> None:
    first = call_out(qtbot, phone, "1002")
    second = call_out(qtbot, phone, "1003")
    click(phone, "conference")
    assert phone.engine.actions[-1] == ("conference", second, first)
    assert phone.panel(1).state_label.text() == "Конференция"
    assert phone.panel(2).state_label.text() == "Конференция"
    assert phone.widget.buttons["split"].isEnabled()
    click(phone, "split")
    assert phone.engine.actions[-1] == ("split", second)
    assert phone.panel(1).state_label.text() == "На удержании"
    assert phone.panel(2).state_label.text() == "Разговор"


def test_call_waiting_rings_on_line_two_and_answering_holds_line_one(
    qtbot: QtBot, phone: Phone
) -> None:
    first = call_out(qtbot, phone, "1002")
    second = phone.engine.ring("1003")
    assert phone.panel(2).state_label.text() == "Входящий вызов"
    assert phone.panel(1).select.isChecked()  # the call in progress stays selected
    assert phone.widget.buttons["answer"].isEnabled()
    click(phone, "answer")
    assert phone.engine.actions[-1] == ("answer", second)
    assert phone.panel(1).line.id == first and phone.panel(1).line.on_hold
    assert phone.panel(2).select.isChecked()


def test_a_third_call_is_refused_busy_and_listed_in_history(qtbot: QtBot, phone: Phone) -> None:
    call_out(qtbot, phone, "1002")
    call_out(qtbot, phone, "1003")
    phone.engine.ring("1004")
    assert phone.widget.history.entries[0].result == "busy"
    qtbot.keyClicks(phone.widget.number_edit, "1005")
    click(phone, "dial")
    assert phone.widget.status_label.text() == "Обе линии заняты"


def test_do_not_disturb_refuses_calls_and_is_remembered(phone: Phone) -> None:
    click(phone, "dnd")
    assert phone.engine.dnd is True
    phone.engine.ring("1002")
    assert not phone.widget.toast.isVisible()
    assert phone.widget.history.entries[0].result == "dnd"
    assert phone.settings.value("softphone/dnd") == "true"


def test_auto_answer_after_the_delay(qtbot: QtBot, phone: Phone) -> None:
    phone.widget.auto_delay.setValue(1)
    click(phone, "auto-answer")
    assert phone.engine.auto_answer == 1.0
    line_id = phone.engine.ring("1002")
    assert phone.panel(1).state_label.text() == "Входящий вызов"
    qtbot.waitUntil(lambda: ("answer", line_id) in phone.engine.actions, timeout=3000)
    assert phone.panel(1).state_label.text() == "Разговор"
    assert phone.settings.value("softphone/auto_answer") == "1.0"


def test_quality_indicator_shows_bars_from_the_stream_statistics(
    qtbot: QtBot, phone: Phone
) -> None:
    call_out(qtbot, phone, "1002")
    phone.widget.refresh_quality()
    label = phone.panel(1).quality_label
    assert label.property("bars") == 4
    assert label.text() == "▮▮▮▮▯"
    assert "G722" in label.toolTip()


def test_number_field_completes_from_directory_and_history(qtbot: QtBot, phone: Phone) -> None:
    call_out(qtbot, phone, "5555")
    phone.widget.hangup()
    qtbot.keyClicks(phone.widget.number_edit, "+7495")
    qtbot.waitUntil(lambda: bool(phone.widget.tasks or phone.directory.queries), timeout=2000)
    phone.settle()
    assert phone.directory.queries == ["+7495"]
    items = phone.widget.completions.stringList()
    assert "Анна Петрова — +74951234567" in items
    assert "5555" in items  # numbers from the call history
    phone.widget.number_edit.completer().activated.emit("Анна Петрова — +74951234567")
    assert phone.widget.number_edit.text() == "+74951234567"
