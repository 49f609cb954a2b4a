"""Forms built from field specs: values in and out, the server's field errors under each field.

The server names the field of every validation error (``details[].field``, e.g. ``e164`` or
``intervals.working.2``); :meth:`Form.show_error` puts the message under the widget of that
field (or of its first path segment), and anything no field claims goes to the form's own line.
A snapshot of the loaded values gives the dirty state the section guard asks about.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from desktop.admin.widgets import tasks
from desktop.api.client import ApiError, PultClient, ServerUnreachable
from desktop.common.i18n import tr
from desktop.qt import QtCore, QtWidgets, Signal

ERROR_STYLE = "color: #b00020;"


@dataclass
class Field:
    """``kind``: text, password, multiline, int, bool, choice, ref (choices from an endpoint)."""

    name: str
    label: str
    kind: str = "text"
    choices: list[tuple[Any, str]] = field(default_factory=list)
    ref_path: str = ""
    ref_label: Callable[[dict[str, Any]], str] | None = None
    ref_params: dict[str, Any] = field(default_factory=dict)
    nullable: bool = True  # a ref/choice may be «—» (None)
    default: Any = None
    minimum: int = 0
    maximum: int = 1_000_000
    placeholder: str = ""
    create_only: bool = False  # sent when creating only (a password, a login)
    read_only_after_create: bool = False
    aliases: tuple[str, ...] = ()  # other server field names that mean this widget


class Form(QtWidgets.QWidget):
    """Emits ``edited`` whenever the person changes a value."""

    edited = Signal()

    def __init__(self, fields: list[Field], parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.fields = {f.name: f for f in fields}
        self.widgets: dict[str, QtWidgets.QWidget] = {}
        self.errors: dict[str, QtWidgets.QLabel] = {}
        self._snapshot: dict[str, Any] = {}
        self._loading = False
        self._pending_refs: dict[str, Any] = {}
        self.creating = True
        layout = QtWidgets.QFormLayout(self)
        layout.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for spec in fields:
            widget = self._make(spec)
            widget.setObjectName(f"field-{spec.name}")
            error = QtWidgets.QLabel()
            error.setObjectName(f"error-{spec.name}")
            error.setStyleSheet(ERROR_STYLE)
            error.setWordWrap(True)
            error.hide()
            box = QtWidgets.QWidget()
            column = QtWidgets.QVBoxLayout(box)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(1)
            column.addWidget(widget)
            column.addWidget(error)
            label = "" if spec.kind == "bool" else spec.label
            layout.addRow(label, box)
            self.widgets[spec.name] = widget
            self.errors[spec.name] = error
        self.general_error = QtWidgets.QLabel()
        self.general_error.setObjectName("form-error")
        self.general_error.setStyleSheet(ERROR_STYLE)
        self.general_error.setWordWrap(True)
        self.general_error.hide()
        layout.addRow(self.general_error)

    # --- building ---------------------------------------------------------------------

    def _make(self, spec: Field) -> QtWidgets.QWidget:
        changed = self._changed
        if spec.kind in ("text", "password"):
            edit = QtWidgets.QLineEdit()
            edit.setPlaceholderText(spec.placeholder)
            if spec.kind == "password":
                edit.setEchoMode(QtWidgets.QLineEdit.EchoMode.Password)
            edit.textEdited.connect(changed)
            return edit
        if spec.kind == "multiline":
            text = QtWidgets.QPlainTextEdit()
            text.setPlaceholderText(spec.placeholder)
            text.setFixedHeight(60)
            text.textChanged.connect(changed)
            return text
        if spec.kind == "int":
            spin = QtWidgets.QSpinBox()
            spin.setRange(spec.minimum, spec.maximum)
            spin.valueChanged.connect(changed)
            return spin
        if spec.kind == "bool":
            box = QtWidgets.QCheckBox(spec.label)
            box.toggled.connect(changed)
            return box
        combo = QtWidgets.QComboBox()
        self._fill(combo, spec, spec.choices)
        combo.currentIndexChanged.connect(changed)
        return combo

    def _fill(
        self, combo: QtWidgets.QComboBox, spec: Field, choices: list[tuple[Any, str]]
    ) -> None:
        current = combo.currentData() if combo.count() else None
        combo.blockSignals(True)
        combo.clear()
        if spec.nullable and spec.kind == "ref":
            combo.addItem("—", None)
        for value, text in choices:
            combo.addItem(text, value)
        index = combo.findData(current)
        combo.setCurrentIndex(max(index, 0))
        combo.blockSignals(False)

    async def load_refs(self, client: PultClient) -> None:
        """Fill the combos whose choices live on the server (schedules, groups, numbers...)."""
        for spec in self.fields.values():
            if spec.kind != "ref":
                continue
            page = await client.request(
                "GET", spec.ref_path, params={"limit": 500, **spec.ref_params}
            )
            items = page["items"] if isinstance(page, dict) else page
            label = spec.ref_label or (lambda r: str(r.get("name") or r.get("id")))
            combo = self.widgets[spec.name]
            assert isinstance(combo, QtWidgets.QComboBox)
            wanted = self._pending_refs.get(spec.name, combo.currentData())
            self._loading = True
            self._fill(combo, spec, [(r["id"], label(r)) for r in items])
            self._set(spec, wanted)
            self._loading = False
        self._pending_refs.clear()
        self._snapshot = self.values()

    # --- values -----------------------------------------------------------------------

    def _changed(self, *_: Any) -> None:
        if not self._loading:
            self.edited.emit()

    def _get(self, spec: Field) -> Any:
        w = self.widgets[spec.name]
        if isinstance(w, QtWidgets.QLineEdit):
            return w.text().strip() if spec.kind != "password" else w.text()
        if isinstance(w, QtWidgets.QPlainTextEdit):
            return w.toPlainText()
        if isinstance(w, QtWidgets.QSpinBox):
            return w.value()
        if isinstance(w, QtWidgets.QCheckBox):
            return w.isChecked()
        assert isinstance(w, QtWidgets.QComboBox)
        return w.currentData()

    def _set(self, spec: Field, value: Any) -> None:
        w = self.widgets[spec.name]
        if isinstance(w, QtWidgets.QLineEdit):
            w.setText("" if value is None else str(value))
        elif isinstance(w, QtWidgets.QPlainTextEdit):
            w.setPlainText("" if value is None else str(value))
        elif isinstance(w, QtWidgets.QSpinBox):
            w.setValue(int(value or 0))
        elif isinstance(w, QtWidgets.QCheckBox):
            w.setChecked(bool(value))
        else:
            assert isinstance(w, QtWidgets.QComboBox)
            index = w.findData(value)
            if index < 0 and spec.kind == "ref" and value is not None:
                self._pending_refs[spec.name] = value  # choices not loaded yet
            w.setCurrentIndex(max(index, 0))

    def values(self) -> dict[str, Any]:
        return {name: self._get(spec) for name, spec in self.fields.items()}

    def set_values(self, data: dict[str, Any] | None) -> None:
        """Load an object (None: a new one with the defaults); the result is the clean state."""
        self._loading = True
        self._pending_refs = {}
        self.creating = data is None
        for name, spec in self.fields.items():
            value = spec.default if data is None else data.get(name, spec.default)
            self._set(spec, value)
            w = self.widgets[name]
            if spec.create_only:
                w.setVisible(self.creating)
                self.labelFor(name).setVisible(self.creating)
            if spec.read_only_after_create:
                w.setEnabled(self.creating)
        self._loading = False
        self.clear_errors()
        self._snapshot = self.values()

    def labelFor(self, name: str) -> QtWidgets.QWidget:
        layout = self.layout()
        assert isinstance(layout, QtWidgets.QFormLayout)
        box = self.widgets[name].parentWidget()
        label = layout.labelForField(box) if box is not None else None
        return label if label is not None else QtWidgets.QWidget()

    def changed_values(self) -> dict[str, Any]:
        now = self.values()
        return {k: v for k, v in now.items() if v != self._snapshot.get(k)}

    def is_dirty(self) -> bool:
        return bool(self.changed_values())

    def mark_clean(self) -> None:
        self._snapshot = self.values()

    # --- errors -----------------------------------------------------------------------

    def attach_error(self, name: str, label: QtWidgets.QLabel) -> None:
        """Errors of a server field edited outside this form (a grid, a list) go to ``label``."""
        label.setStyleSheet(ERROR_STYLE)
        label.setWordWrap(True)
        label.hide()
        self.errors[name] = label

    def clear_errors(self) -> None:
        for label in self.errors.values():
            label.clear()
            label.hide()
        self.general_error.clear()
        self.general_error.hide()

    def field_for(self, server_field: str) -> str | None:
        parts = server_field.split(".")
        for i in range(len(parts), 0, -1):
            name = ".".join(parts[:i])
            if name in self.fields or name in self.errors:
                return name
            for spec in self.fields.values():
                if name in spec.aliases:
                    return spec.name
        return None

    def show_error(self, exc: BaseException) -> None:
        """Put each of the server's field messages under its field; the rest on the form line."""
        self.clear_errors()
        general: list[str] = []
        if isinstance(exc, ApiError):
            for detail in exc.details:
                name = self.field_for(detail.field)
                if name is None:
                    general.append(
                        f"{detail.field}: {detail.message}" if detail.field else detail.message
                    )
                    continue
                label = self.errors[name]
                label.setText((label.text() + "\n" if label.text() else "") + detail.message)
                label.show()
            if not exc.details:
                general.append(describe(exc))
        else:
            general.append(describe(exc))
        if general:
            self.general_error.setText("\n".join(general))
            self.general_error.show()

    def error_text(self, name: str) -> str:
        label = self.errors[name]
        return label.text() if label.isVisible() or label.text() else ""


def describe(exc: BaseException) -> str:
    """What the person reads for a failed request."""
    if isinstance(exc, ApiError):
        return exc.message or tr("Сервер ответил ошибкой {0}").format(exc.status)
    if isinstance(exc, ServerUnreachable):
        return tr("Сервер {0} недоступен. Проверьте адрес и подключение к сети.").format(exc.url)
    return str(exc) or type(exc).__name__


def run_form(form: Form, coro: Any, on_ok: Callable[[Any], None]) -> None:
    """Run a request for a form: the result to ``on_ok``, an error under the fields."""

    async def go() -> None:
        try:
            result = await coro
        except (ApiError, ServerUnreachable) as exc:
            form.show_error(exc)
            return
        on_ok(result)

    tasks.start(go(), form.show_error)


__all__ = ["Field", "Form", "QtCore", "describe", "run_form"]
