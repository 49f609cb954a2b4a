"""Questions to the person. Tests replace :data:`answer` to click a button without a modal loop."""

from __future__ import annotations

from collections.abc import Callable

from desktop.common.i18n import tr
from desktop.qt import QtWidgets

# None: really ask. True/False: the answer a test gives (modal dialogs cannot run offscreen).
answer: bool | None = None
# What was asked, newest last; tests read it to check the question named the right thing.
asked: list[str] = []


def confirm(parent: QtWidgets.QWidget | None, text: str, *, title: str = "") -> bool:
    asked.append(text)
    if answer is not None:
        return answer
    box = QtWidgets.QMessageBox(parent)
    box.setIcon(QtWidgets.QMessageBox.Icon.Question)
    box.setWindowTitle(title or tr("Подтверждение"))
    box.setText(text)
    yes = box.addButton(tr("Да"), QtWidgets.QMessageBox.ButtonRole.AcceptRole)
    box.addButton(tr("Отмена"), QtWidgets.QMessageBox.ButtonRole.RejectRole)
    box.exec()
    return box.clickedButton() is yes


def confirm_discard(parent: QtWidgets.QWidget | None) -> bool:
    return confirm(parent, tr("Есть несохранённые изменения. Отменить их?"))


def choose_file(
    parent: QtWidgets.QWidget | None, title: str, filters: str, *, save: bool = False
) -> str:
    """A file path, or "" when cancelled; tests set :data:`next_file` instead."""
    global next_file
    if next_file is not None:
        path, next_file = next_file, None
        return path
    chooser: Callable[..., tuple[str, str]] = (
        QtWidgets.QFileDialog.getSaveFileName if save else QtWidgets.QFileDialog.getOpenFileName
    )
    path, _ = chooser(parent, title, "", filters)
    return path


next_file: str | None = None
