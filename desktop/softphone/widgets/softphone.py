"""The softphone page: number field, dial pad, two lines, call controls, history, settings.

Every action is a button with a mnemonic, and the five call actions also have configurable
hotkeys, so the whole page works without a mouse. The engine is reached only through the
adapter; network work (directory, server history) runs as asyncio tasks on the qasync loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from desktop.qt import QtCore, QtGui, QtWidgets, Signal
from desktop.softphone import hotkeys
from desktop.softphone.directory import Directory
from desktop.softphone.engine.devices import DEFAULT, AudioChoice
from desktop.softphone.engine.types import (
    Direction,
    EngineError,
    LineInfo,
    LineState,
    Registration,
)
from desktop.softphone.history import History, entry_for
from desktop.softphone.qt_adapter import EngineAdapter
from desktop.softphone.widgets.dialpad import DialPad
from desktop.softphone.widgets.history_page import HistoryPage
from desktop.softphone.widgets.line_panel import LinePanel
from desktop.softphone.widgets.settings_page import SettingsPage
from desktop.softphone.widgets.toast import IncomingToast

log = logging.getLogger(__name__)

SLOTS = (1, 2)
QUALITY_EVERY_MS = 2000
SEARCH_DELAY_MS = 250


class SoftphoneWidget(QtWidgets.QWidget):
    """Emits :attr:`message` with every text shown in the status line (tests read it too)."""

    message = Signal(str)

    def __init__(
        self,
        adapter: EngineAdapter,
        *,
        directory: Directory,
        history: History,
        settings: QtCore.QSettings,
        server_history: Callable[[], Coroutine[Any, Any, list[dict[str, Any]]]] | None = None,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("softphone")
        self.adapter = adapter
        self.engine = adapter.engine
        self.directory = directory
        self.history = history
        self.settings = settings
        self.tasks: set[asyncio.Task[Any]] = set()
        self.slots: dict[int, LinePanel] = {}
        self.names: dict[int, str] = {}  # line id -> contact name

        self.registration_label = QtWidgets.QLabel(self.tr("Не зарегистрирован"))
        self.registration_label.setObjectName("registration")
        self.status_label = QtWidgets.QLabel()
        self.status_label.setObjectName("message")
        self.status_label.setWordWrap(True)

        self.number_edit = QtWidgets.QLineEdit()
        self.number_edit.setObjectName("number")
        self.number_edit.setPlaceholderText(self.tr("Номер, имя или SIP-адрес"))
        self.completions = QtCore.QStringListModel(self)
        completer = QtWidgets.QCompleter(self.completions, self)
        completer.setCaseSensitivity(QtCore.Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(QtCore.Qt.MatchFlag.MatchContains)
        completer.activated.connect(self._completion_chosen)
        self.number_edit.setCompleter(completer)
        self.number_edit.returnPressed.connect(self.dial)
        self.number_edit.textEdited.connect(self._schedule_search)
        self.search_timer = QtCore.QTimer(self)
        self.search_timer.setSingleShot(True)
        self.search_timer.setInterval(SEARCH_DELAY_MS)
        self.search_timer.timeout.connect(self._search)
        self.dial_button = QtWidgets.QPushButton(self.tr("&Позвонить"))
        self.dial_button.setObjectName("dial")
        self.dial_button.clicked.connect(self.dial)

        self.dialpad = DialPad()
        self.dialpad.pressed.connect(self.key_pressed)

        self.panels = {slot: LinePanel(slot) for slot in SLOTS}
        # The radio buttons sit in different boxes, so only a group makes them exclusive.
        self.line_group = QtWidgets.QButtonGroup(self)
        self.line_group.setExclusive(True)
        for panel in self.panels.values():
            self.line_group.addButton(panel.select, panel.slot)
            panel.select.toggled.connect(self._update_controls)

        self.buttons: dict[str, QtWidgets.QPushButton] = {}
        for name, text, handler in (
            ("answer", self.tr("&Ответить"), self.answer),
            ("reject", self.tr("О&тклонить"), self.reject),
            ("hangup", self.tr("&Завершить"), self.hangup),
            ("hold", self.tr("&Удержание"), self.toggle_hold),
            ("mute", self.tr("&Микрофон выкл."), self.toggle_mute),
            ("transfer", self.tr("П&еревести на номер"), self.transfer),
            ("attended", self.tr("Пере&вести на линию"), self.attended_transfer),
            ("conference", self.tr("&Конференция"), self.conference),
            ("split", self.tr("&Разделить"), self.split),
        ):
            button = QtWidgets.QPushButton(text)
            button.setObjectName(name)
            button.clicked.connect(handler)
            self.buttons[name] = button
        self.buttons["hold"].setCheckable(True)
        self.buttons["mute"].setCheckable(True)

        self.dnd_box = QtWidgets.QCheckBox(self.tr("&Не беспокоить"))
        self.dnd_box.setObjectName("dnd")
        self.dnd_box.toggled.connect(self.set_dnd)
        self.auto_box = QtWidgets.QCheckBox(self.tr("&Автоответ через"))
        self.auto_box.setObjectName("auto-answer")
        self.auto_delay = QtWidgets.QSpinBox()
        self.auto_delay.setObjectName("auto-answer-delay")
        self.auto_delay.setRange(0, 60)
        self.auto_delay.setSuffix(self.tr(" с"))
        self.auto_box.toggled.connect(self._auto_answer_changed)
        self.auto_delay.valueChanged.connect(self._auto_answer_changed)

        # Parented so it dies with the page; the Tool flag keeps it a window of its own.
        self.toast = IncomingToast(self)
        self.toast.answer_clicked.connect(self.answer_line)
        self.toast.reject_clicked.connect(self.reject_line)

        self.history_page = HistoryPage(history, server_history=server_history)
        self.history_page.dial_requested.connect(self._dial_from_history)
        self.settings_page = SettingsPage(self.engine, settings)
        self.settings_page.hotkeys_changed.connect(self._bind_hotkeys)

        self._layout()
        self.shortcuts: dict[str, QtGui.QShortcut] = {}
        self._bind_hotkeys()
        for slot in SLOTS:
            picker = QtGui.QShortcut(QtGui.QKeySequence(f"Alt+{slot}"), self)
            picker.activated.connect(lambda s=slot: self.panels[s].select.setChecked(True))

        self.clock = QtCore.QTimer(self)
        self.clock.setInterval(1000)
        self.clock.timeout.connect(self._tick)
        self.clock.start()
        self.quality_timer = QtCore.QTimer(self)
        self.quality_timer.setInterval(QUALITY_EVERY_MS)
        self.quality_timer.timeout.connect(self.refresh_quality)
        self.quality_timer.start()

        adapter.registration_changed.connect(self.show_registration)
        adapter.line_changed.connect(self.on_line)
        adapter.incoming.connect(self.on_incoming)
        adapter.line_ended.connect(self.on_ended)
        adapter.dtmf_received.connect(self._on_dtmf)
        adapter.transfer_progress.connect(self._on_transfer)
        adapter.failed.connect(self.show_message)
        adapter.devices_changed.connect(self.settings_page.fill_devices)

        self._restore_options()
        self._refresh_completions([])
        self._update_controls()

    # --- layout ------------------------------------------------------------------------------
    def _layout(self) -> None:
        dial_row = QtWidgets.QHBoxLayout()
        dial_row.addWidget(self.number_edit, 1)
        dial_row.addWidget(self.dial_button)
        lines = QtWidgets.QHBoxLayout()
        for panel in self.panels.values():
            lines.addWidget(panel)
        controls = QtWidgets.QGridLayout()
        for i, name in enumerate(self.buttons):
            controls.addWidget(self.buttons[name], i // 3, i % 3)
        options = QtWidgets.QHBoxLayout()
        options.addWidget(self.dnd_box)
        options.addWidget(self.auto_box)
        options.addWidget(self.auto_delay)
        options.addStretch(1)
        left = QtWidgets.QVBoxLayout()
        left.addLayout(dial_row)
        left.addWidget(self.dialpad)
        left.addStretch(1)
        right = QtWidgets.QVBoxLayout()
        right.addLayout(lines)
        right.addLayout(controls)
        right.addLayout(options)
        right.addWidget(self.status_label)
        right.addStretch(1)
        calls = QtWidgets.QWidget()
        calls.setObjectName("calls-page")
        body = QtWidgets.QHBoxLayout(calls)
        body.addLayout(left)
        body.addLayout(right, 1)
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.setObjectName("softphone-tabs")
        self.tabs.addTab(calls, self.tr("Звонки"))
        self.tabs.addTab(self.history_page, self.tr("История"))
        self.tabs.addTab(self.settings_page, self.tr("Настройки"))
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.registration_label)
        layout.addWidget(self.tabs, 1)
        QtWidgets.QWidget.setTabOrder(self.number_edit, self.dial_button)

    def _bind_hotkeys(self) -> None:
        actions = {
            "answer": self.answer,
            "hangup": self.hangup,
            "hold": self.toggle_hold,
            "mute": self.toggle_mute,
            "transfer": self.transfer,
        }
        for shortcut in self.shortcuts.values():
            shortcut.setEnabled(False)
            shortcut.deleteLater()
        self.shortcuts = {}
        for action, keys in hotkeys.load(self.settings).items():
            if not keys:
                continue
            shortcut = QtGui.QShortcut(QtGui.QKeySequence(keys), self)
            shortcut.setContext(QtCore.Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(actions[action])
            self.shortcuts[action] = shortcut
        # The toast is a window of its own: answer and reject work there too.
        for action, keys in hotkeys.load(self.settings).items():
            if action in ("answer", "hangup") and keys:
                shortcut = QtGui.QShortcut(QtGui.QKeySequence(keys), self.toast)
                shortcut.activated.connect(self.answer if action == "answer" else self.reject)
                self.shortcuts[f"toast-{action}"] = shortcut

    def _restore_options(self) -> None:
        dnd = str(self.settings.value("softphone/dnd", "false")).lower() == "true"
        auto = self.settings.value("softphone/auto_answer", "")
        self.dnd_box.setChecked(dnd)
        self.engine.dnd = dnd
        if auto not in ("", None):
            self.auto_delay.setValue(int(float(str(auto))))
            self.auto_box.setChecked(True)
        self._auto_answer_changed()

    # --- helpers -----------------------------------------------------------------------------
    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def history_page_tasks(self) -> set[asyncio.Task[Any]]:
        return set(self.history_page.tasks)

    def show_message(self, text: str) -> None:
        self.status_label.setText(text)
        self.message.emit(text)

    def explain(self, exc: Exception) -> str:
        if isinstance(exc, EngineError):
            texts = {
                "no_account": self.tr("Телефон не зарегистрирован на сервере"),
                "lines_busy": self.tr("Обе линии заняты"),
                "bad_target": self.tr("Не понимаю, куда звонить: {0}").format(exc.detail),
                "dial_failed": self.tr("Вызов не удался: {0}").format(exc.detail),
                "no_line": self.tr("Этой линии больше нет"),
                "not_ringing": self.tr("Этот вызов уже не звонит"),
                "not_talking": self.tr("Разговор ещё не начался"),
            }
            return texts.get(exc.code, exc.code)
        return self.tr("Ошибка телефона: {0}").format(exc)

    def act(self, fn: Callable[[], Any]) -> bool:
        try:
            fn()
        except Exception as exc:
            self.show_message(self.explain(exc))
            return False
        return True

    def current(self) -> LineInfo | None:
        for panel in self.panels.values():
            if panel.select.isChecked() and panel.line is not None:
                return panel.line
        live = [p.line for p in self.panels.values() if p.line is not None]
        return live[0] if live else None

    def other(self, line: LineInfo) -> LineInfo | None:
        for panel in self.panels.values():
            if panel.line is not None and panel.line.id != line.id:
                return panel.line
        return None

    def ringing(self) -> LineInfo | None:
        cur = self.current()
        if cur is not None and cur.state is LineState.INCOMING:
            return cur
        for panel in self.panels.values():
            if panel.line is not None and panel.line.state is LineState.INCOMING:
                return panel.line
        return None

    def panel_of(self, line_id: int) -> LinePanel | None:
        return self.slots.get(line_id)

    # --- actions -----------------------------------------------------------------------------
    def dial(self) -> None:
        target = self.number_edit.text().strip()
        if not target:
            self.show_message(self.tr("Введите номер"))
            self.number_edit.setFocus()
            return
        if " — " in target:  # a completion "Name — number"
            target = target.rsplit(" — ", 1)[1]
        self.dial_target(target)

    def dial_target(self, target: str) -> bool:
        """Dial a number or a SIP/tel URI (also what a tel: link handed over asks for)."""
        if self.act(lambda: self.engine.dial(target)):
            self.show_message(self.tr("Вызов {0}").format(target))
            self.number_edit.clear()
            return True
        return False

    def spy_line(self) -> LineInfo | None:
        """The supervisor's listen/whisper/barge call: the one dialled to a ``spy-`` target."""
        for line in self.engine.lines():
            if line.direction is Direction.OUT and line.number.startswith("spy-"):
                return line
        return None

    def set_spy_mode(self, mode: str) -> bool:
        """Switch the running listen/whisper/barge call to ``mode`` (the server already
        agreed to it: the edge refuses a mode the supervisor API did not set)."""
        line = self.spy_line()
        if line is None:
            self.show_message(self.tr("Нет разговора с оператором"))
            return False
        return self.act(lambda: self.engine.set_spy_mode(line.id, mode))

    def hangup_spy(self) -> None:
        line = self.spy_line()
        if line is not None:
            self.act(lambda: self.engine.hangup(line.id))

    def key_pressed(self, key: str) -> None:
        line = self.current()
        if line is not None and line.state is LineState.TALKING and not line.on_hold:
            if self.act(lambda: self.engine.send_dtmf(line.id, key)):
                self.show_message(self.tr("Тон {0}").format(key))
            return
        self.number_edit.insert(key)
        self.number_edit.setFocus()

    def answer(self) -> None:
        line = self.ringing()
        if line is None:
            self.show_message(self.tr("Нет входящего вызова"))
            return
        self.answer_line(line.id)

    def answer_line(self, line_id: int) -> None:
        self.act(lambda: self.engine.answer(line_id))
        panel = self.panel_of(line_id)
        if panel is not None:
            panel.select.setChecked(True)

    def reject(self) -> None:
        line = self.ringing()
        if line is None:
            self.show_message(self.tr("Нет входящего вызова"))
            return
        self.reject_line(line.id)

    def reject_line(self, line_id: int) -> None:
        self.act(lambda: self.engine.reject(line_id))

    def hangup(self) -> None:
        line = self.current()
        if line is None:
            self.show_message(self.tr("Нет вызова"))
            return
        if line.state is LineState.INCOMING:
            self.reject_line(line.id)
        else:
            self.act(lambda: self.engine.hangup(line.id))

    def toggle_hold(self) -> None:
        line = self.current()
        if line is None:
            self._update_controls()
            return
        if line.on_hold:
            self.act(lambda: self.engine.resume(line.id))
        else:
            self.act(lambda: self.engine.hold(line.id))
        self._update_controls()

    def toggle_mute(self) -> None:
        line = self.current()
        if line is None:
            self._update_controls()
            return
        self.act(lambda: self.engine.set_mute(line.id, not line.muted))
        self._update_controls()

    def transfer(self) -> None:
        """Blind transfer of the current call to the number typed in the field."""
        line = self.current()
        target = self.number_edit.text().strip()
        if " — " in target:
            target = target.rsplit(" — ", 1)[1]
        if line is None:
            self.show_message(self.tr("Нет вызова"))
            return
        if not target:
            self.show_message(self.tr("Введите номер, на который перевести вызов"))
            self.number_edit.setFocus()
            return
        if self.act(lambda: self.engine.blind_transfer(line.id, target)):
            self.show_message(self.tr("Перевод на {0}…").format(target))
            self.number_edit.clear()

    def attended_transfer(self) -> None:
        """Connect the current line's party with the other line's party, and leave."""
        line = self.current()
        other = self.other(line) if line is not None else None
        if line is None or other is None:
            self.show_message(self.tr("Для перевода с консультацией нужны две линии"))
            return
        # The held caller is transferred to the consulted party.
        held, consulted = (line, other) if line.on_hold else (other, line)
        self.act(lambda: self.engine.attended_transfer(held.id, consulted.id))

    def conference(self) -> None:
        line = self.current()
        other = self.other(line) if line is not None else None
        if line is None or other is None:
            self.show_message(self.tr("Для конференции нужны две линии"))
            return
        if self.act(lambda: self.engine.conference(line.id, other.id)):
            self.show_message(self.tr("Конференция"))

    def split(self) -> None:
        line = self.current()
        if line is None or not line.in_conference:
            self.show_message(self.tr("Нет конференции"))
            return
        self.act(lambda: self.engine.split(line.id))

    def set_dnd(self, on: bool) -> None:
        self.engine.dnd = on
        self.settings.setValue("softphone/dnd", "true" if on else "false")

    def _auto_answer_changed(self, *_: object) -> None:
        on = self.auto_box.isChecked()
        delay = float(self.auto_delay.value())
        self.engine.auto_answer = delay if on else None
        self.auto_delay.setEnabled(on)
        self.settings.setValue("softphone/auto_answer", str(delay) if on else "")

    # --- engine events -----------------------------------------------------------------------
    def show_registration(self, reg: Registration) -> None:
        if reg.registered:
            text = self.tr("Зарегистрирован")
        elif reg.retrying and reg.code:
            text = self.tr("Нет регистрации ({0} {1}), повтор…").format(reg.code, reg.reason)
        elif reg.retrying:
            text = self.tr("Регистрация…")
        else:
            text = self.tr("Не зарегистрирован")
        self.registration_label.setText(text)
        self.registration_label.setProperty("registered", reg.registered)

    def on_line(self, line: LineInfo) -> None:
        panel = self.panel_of(line.id)
        if panel is None:
            free = next((p for p in self.panels.values() if p.line is None), None)
            if free is None:
                return  # a transfer leg beyond two lines: not shown
            self.slots[line.id] = panel = free
            if line.state is not LineState.INCOMING or self.current() is None:
                panel.select.setChecked(True)
        panel.show_line(line, self.names.get(line.id, ""))
        if self.toast.line_id == line.id and line.state is not LineState.INCOMING:
            self.toast.hide()
        self._update_controls()

    def on_incoming(self, line: LineInfo) -> None:
        self.on_line(line)
        self.toast.show_call(line.id, line.display_name, line.number)
        self.spawn(self._lookup_name(line))

    async def _lookup_name(self, line: LineInfo) -> None:
        name = await self.directory.name_for(line.number)
        if not name:
            return
        self.names[line.id] = name
        if self.toast.line_id == line.id:
            self.toast.set_caller(name, line.number)
        panel = self.panel_of(line.id)
        if panel is not None and panel.line is not None:
            panel.show_line(panel.line, name)

    def on_ended(self, line: LineInfo) -> None:
        name = self.names.pop(line.id, "")
        self.history.add(entry_for(line, name))
        self.history_page.reload()
        self._refresh_completions([])
        panel = self.slots.pop(line.id, None)
        if panel is not None:
            was_selected = panel.select.isChecked()
            panel.show_line(None)
            if was_selected:
                other = next((p for p in self.panels.values() if p.line is not None), None)
                if other is not None:
                    other.select.setChecked(True)
        if self.toast.line_id == line.id:
            self.toast.hide()
        if line.status_code >= 400 and not line.answered and line.reason not in ("rejected",):
            self.show_message(
                self.tr("Вызов завершён: {0} {1}").format(line.status_code, line.reason)
            )
        self._update_controls()

    def _on_dtmf(self, line: LineInfo, digit: str) -> None:
        self.show_message(self.tr("Получен тон {0}").format(digit))

    def _on_transfer(self, line: LineInfo, status: int, final: bool) -> None:
        if final and 200 <= status < 300:
            self.show_message(self.tr("Вызов переведён"))
        elif final:
            self.show_message(self.tr("Перевод не удался ({0})").format(status))

    def _update_controls(self, *_: object) -> None:
        line = self.current()
        other = self.other(line) if line is not None else None
        ringing = self.ringing() is not None
        talking = line is not None and line.state is LineState.TALKING
        b = self.buttons
        b["answer"].setEnabled(ringing)
        b["reject"].setEnabled(ringing)
        b["hangup"].setEnabled(line is not None)
        b["hold"].setEnabled(talking)
        b["hold"].setChecked(bool(line and line.on_hold))
        b["mute"].setEnabled(talking)
        b["mute"].setChecked(bool(line and line.muted))
        b["transfer"].setEnabled(talking)
        two = talking and other is not None and other.state is LineState.TALKING
        b["attended"].setEnabled(two)
        b["conference"].setEnabled(two and not (line and line.in_conference))
        b["split"].setEnabled(bool(line and line.in_conference))

    def _tick(self) -> None:
        for panel in self.panels.values():
            panel.tick()

    def refresh_quality(self) -> None:
        for panel in self.panels.values():
            line = panel.line
            if line is not None and line.state is LineState.TALKING and not line.on_hold:
                with contextlib.suppress(Exception):
                    panel.set_quality(self.engine.quality(line.id))

    # --- number field ------------------------------------------------------------------------
    def _schedule_search(self, text: str) -> None:
        self.search_timer.start()

    def _search(self) -> None:
        text = self.number_edit.text().strip()
        if len(text) >= 2:
            self.spawn(self._complete(text))

    async def _complete(self, text: str) -> None:
        matches = await self.directory.search(text)
        if self.number_edit.text().strip() != text:
            return  # typed on meanwhile
        self._refresh_completions([m.label for m in matches])
        completer = self.number_edit.completer()
        if matches and self.number_edit.hasFocus():
            completer.setCompletionPrefix(text)
            completer.complete()

    def _refresh_completions(self, extra: list[str]) -> None:
        self.completions.setStringList(list(dict.fromkeys(extra + self.history.numbers())))

    def _completion_chosen(self, text: str) -> None:
        self.number_edit.setText(text.rsplit(" — ", 1)[1] if " — " in text else text)

    def _dial_from_history(self, number: str) -> None:
        self.tabs.setCurrentIndex(0)
        self.dial_target(number)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        self.toast.hide()
        super().closeEvent(event)


def audio_choice_from(settings: QtCore.QSettings) -> AudioChoice:
    return AudioChoice(
        microphone=str(settings.value("softphone/audio/microphone", DEFAULT) or DEFAULT),
        speaker=str(settings.value("softphone/audio/speaker", DEFAULT) or DEFAULT),
        ringer=str(settings.value("softphone/audio/ringer", DEFAULT) or DEFAULT),
    )
