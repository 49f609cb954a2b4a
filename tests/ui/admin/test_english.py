"""The admin panel in English shows no Russian in its own texts (a missing catalogue entry)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import pytest

from desktop.api.client import PultClient
from desktop.qt import QtCore, QtWidgets

CYRILLIC = re.compile("[А-Яа-яЁё]")


@pytest.fixture
def english(qapp: QtWidgets.QApplication) -> Iterator[None]:
    from desktop.common import i18n

    translator = i18n.install(qapp, "en")
    yield
    assert translator is not None
    qapp.removeTranslator(translator)


def test_every_section_speaks_english(
    english: None, api: PultClient, qtbot: Any, loop: asyncio.AbstractEventLoop
) -> None:
    from desktop.admin.workspace import AdminWorkspace

    ws = AdminWorkspace(api)
    qtbot.addWidget(ws)
    titles = [ws.nav.item(i).text() for i in range(ws.nav.count())]
    assert "Users" in titles
    texts = list(titles)
    for widget in ws.findChildren(QtWidgets.QWidget):
        if isinstance(widget, QtWidgets.QAbstractButton | QtWidgets.QGroupBox):
            texts.append(widget.text() if hasattr(widget, "text") else widget.title())
        if isinstance(widget, QtWidgets.QLineEdit):
            texts.append(widget.placeholderText())
        if isinstance(widget, QtWidgets.QComboBox):
            texts += [widget.itemText(i) for i in range(widget.count())]
        if isinstance(widget, QtWidgets.QTableView) and widget.model() is not None:
            model = widget.model()
            horizontal = QtCore.Qt.Orientation.Horizontal
            texts += [str(model.headerData(c, horizontal)) for c in range(model.columnCount())]
    russian = [t for t in texts if CYRILLIC.search(t or "")]
    assert russian == []
