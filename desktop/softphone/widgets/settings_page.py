"""Sound devices (microphone, speaker, ringing device) and hotkeys.

Devices are remembered by name: a device that is unplugged falls back to the system default
and is used again when it comes back.
"""

from __future__ import annotations

from desktop.qt import QtCore, QtGui, QtWidgets, Signal
from desktop.softphone import hotkeys
from desktop.softphone.engine.api import EngineAPI
from desktop.softphone.engine.devices import DEFAULT, AudioChoice

AUDIO = "softphone/audio"


class SettingsPage(QtWidgets.QWidget):
    hotkeys_changed = Signal()

    def __init__(
        self, engine: EngineAPI, settings: QtCore.QSettings, parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settings-page")
        self.engine = engine
        self.settings = settings
        self.combos: dict[str, QtWidgets.QComboBox] = {}
        form = QtWidgets.QFormLayout()
        for key, label in (
            ("microphone", self.tr("&Микрофон")),
            ("speaker", self.tr("&Динамик")),
            ("ringer", self.tr("&Звонок")),
        ):
            combo = QtWidgets.QComboBox()
            combo.setObjectName(key)
            combo.activated.connect(self._device_chosen)
            self.combos[key] = combo
            form.addRow(label, combo)
        self.device_note = QtWidgets.QLabel()
        self.device_note.setObjectName("device-note")
        self.device_note.setWordWrap(True)
        form.addRow(self.device_note)

        keys = QtWidgets.QFormLayout()
        self.key_edits: dict[str, QtWidgets.QKeySequenceEdit] = {}
        names = {
            "answer": self.tr("Ответить"),
            "hangup": self.tr("Завершить"),
            "hold": self.tr("Удержание"),
            "mute": self.tr("Микрофон"),
            "transfer": self.tr("Перевод"),
        }
        for action, keyseq in hotkeys.load(settings).items():
            edit = QtWidgets.QKeySequenceEdit(QtGui.QKeySequence(keyseq))
            edit.setObjectName(f"hotkey-{action}")
            edit.editingFinished.connect(self.save_hotkeys)
            self.key_edits[action] = edit
            keys.addRow(names[action], edit)
        sound = QtWidgets.QGroupBox(self.tr("Звук"))
        sound.setLayout(form)
        shortcuts = QtWidgets.QGroupBox(self.tr("Горячие клавиши"))
        shortcuts.setLayout(keys)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(sound)
        layout.addWidget(shortcuts)
        layout.addStretch(1)
        self.fill_devices()
        self.engine.set_audio(self.remembered())

    def remembered(self) -> AudioChoice:
        value = {
            key: str(self.settings.value(f"{AUDIO}/{key}", DEFAULT) or DEFAULT)
            for key in self.combos
        }
        return AudioChoice(**value)

    def fill_devices(self) -> None:
        """(Re)list the devices; a remembered one that is missing shows as "not connected"."""
        devices = self.engine.sound_devices()
        choice = self.remembered()
        missing: list[str] = []
        for key, combo in self.combos.items():
            output = key != "microphone"
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(self.tr("Системное устройство"), DEFAULT)
            for dev in devices:
                if dev.is_output if output else dev.is_input:
                    combo.addItem(dev.name, dev.name)
            wanted = getattr(choice, key)
            index = combo.findData(wanted)
            if index < 0:
                missing.append(wanted)
                combo.addItem(self.tr("{0} (не подключено)").format(wanted), wanted)
                index = combo.count() - 1
            combo.setCurrentIndex(index)
            combo.blockSignals(False)
        if missing:
            self.device_note.setText(
                self.tr("Не подключено: {0}. Пока используется системное устройство.").format(
                    ", ".join(missing)
                )
            )
        else:
            self.device_note.clear()
        self.engine.set_audio(choice)

    def _device_chosen(self, *_: object) -> None:
        for key, combo in self.combos.items():
            self.settings.setValue(f"{AUDIO}/{key}", combo.currentData() or DEFAULT)
        self.settings.sync()
        self.fill_devices()

    def save_hotkeys(self) -> None:
        hotkeys.save(
            self.settings,
            {a: e.keySequence().toString() for a, e in self.key_edits.items()},
        )
        self.hotkeys_changed.emit()
