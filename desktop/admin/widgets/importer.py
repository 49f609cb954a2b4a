"""Bulk import: pick a CSV/XLSX file, the server checks it (writes nothing) and quotes the price,
the person sees each bad row's line, column and message, then confirms and the valid rows are
created in one transaction."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from desktop.admin.widgets import dialogs, tasks
from desktop.admin.widgets.form import ERROR_STYLE, describe
from desktop.api.client import ApiError, PultClient, ServerUnreachable
from desktop.qt import QtWidgets, Signal


class ImportPanel(QtWidgets.QGroupBox):
    """``kind`` is "users" or "contacts"; ``imported`` fires after rows were created."""

    imported = Signal()

    def __init__(self, client: PultClient, kind: str, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.client = client
        self.kind = kind
        self.path: Path | None = None
        self.check: dict[str, Any] | None = None
        self.setObjectName(f"import-{kind}")
        self.setTitle(self.tr("Импорт из файла (CSV или XLSX)"))
        self.file_label = QtWidgets.QLabel(self.tr("Файл не выбран"))
        self.file_label.setObjectName("import-file")
        choose = QtWidgets.QPushButton(self.tr("Выбрать файл…"))
        choose.setObjectName("import-choose")
        choose.clicked.connect(self.choose)
        self.template_button = QtWidgets.QPushButton(self.tr("Скачать шаблон…"))
        self.template_button.setObjectName("import-template")
        self.template_button.clicked.connect(self.save_template)
        self.summary = QtWidgets.QLabel()
        self.summary.setObjectName("import-summary")
        self.summary.setWordWrap(True)
        self.problems = QtWidgets.QTableWidget(0, 4)
        self.problems.setObjectName("import-problems")
        self.problems.setHorizontalHeaderLabels(
            [self.tr("Строка"), self.tr("Колонка"), self.tr("Значение"), self.tr("Ошибка")]
        )
        self.problems.horizontalHeader().setStretchLastSection(True)
        self.problems.verticalHeader().setVisible(False)
        self.problems.setMaximumHeight(160)
        self.problems.hide()
        self.create_button = QtWidgets.QPushButton()
        self.create_button.setObjectName("import-create")
        self.create_button.clicked.connect(self.create_rows)
        self.create_button.hide()
        row = QtWidgets.QHBoxLayout()
        row.addWidget(choose)
        row.addWidget(self.file_label, 1)
        row.addWidget(self.template_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.summary)
        layout.addWidget(self.problems)
        layout.addWidget(self.create_button)

    def choose(self) -> None:
        path = dialogs.choose_file(self, self.tr("Файл для импорта"), "CSV, XLSX (*.csv *.xlsx)")
        if path:
            self.load(Path(path))

    def load(self, path: Path) -> None:
        self.path = path
        self.file_label.setText(path.name)
        tasks.start(self._check(), self._failed)

    def _files(self) -> dict[str, Any]:
        assert self.path is not None
        return {"file": (self.path.name, self.path.read_bytes())}

    async def _check(self) -> None:
        self.check = None
        self.create_button.hide()
        try:
            check = await self.client.request(
                "POST", f"/api/import/{self.kind}/check", files=self._files()
            )
        except (ApiError, ServerUnreachable) as exc:
            self._failed(exc)
            return
        self.check = check
        text = self.tr("Строк: {0}, без ошибок: {1}, с ошибками: {2}.").format(
            check["rows_total"], check["rows_valid"], check["rows_invalid"]
        )
        if check.get("new_groups"):
            text += " " + self.tr("Будут созданы группы: {0}.").format(
                ", ".join(check["new_groups"])
            )
        quote = check.get("quote")
        if quote:
            text += " " + self.tr(
                "Стоимость: +{0} ₽ в месяц, подключение {1} ₽, сегодня спишется {2} ₽."
            ).format(quote["monthly_delta"], quote["connection_fee"], quote["today_charge"])
        self.summary.setStyleSheet("")
        self.summary.setText(text)
        self._show_problems(list(check.get("errors", [])) + list(check.get("warnings", [])))
        if check["rows_valid"]:
            self.create_button.setText(self.tr("Создать строк: {0}").format(check["rows_valid"]))
            self.create_button.show()

    def _show_problems(self, problems: list[dict[str, Any]]) -> None:
        self.problems.setRowCount(len(problems))
        for i, p in enumerate(problems):
            values = [
                p.get("line"),
                p.get("column") or p.get("field"),
                p.get("value"),
                p["message"],
            ]
            for j, value in enumerate(values):
                self.problems.setItem(
                    i, j, QtWidgets.QTableWidgetItem("" if value is None else str(value))
                )
        self.problems.setVisible(bool(problems))

    def create_rows(self) -> None:
        if self.check is None or self.path is None:
            return
        question = self.tr("Создать {0} записей из файла «{1}»?").format(
            self.check["rows_valid"], self.path.name
        )
        if self.check.get("rows_invalid"):
            question += " " + self.tr("Строки с ошибками ({0}) будут пропущены.").format(
                self.check["rows_invalid"]
            )
        if dialogs.confirm(self, question):
            tasks.start(self._create(), self._failed)

    async def _create(self) -> None:
        try:
            result = await self.client.request(
                "POST", f"/api/import/{self.kind}/create", files=self._files()
            )
        except (ApiError, ServerUnreachable) as exc:
            self._failed(exc)
            return
        self.create_button.hide()
        self.check = None
        self.summary.setStyleSheet("")
        self.summary.setText(
            self.tr("Создано: {0}, пропущено с ошибками: {1}.").format(
                result["created"], result["skipped_invalid"]
            )
        )
        self.imported.emit()

    def save_template(self) -> None:
        path = dialogs.choose_file(self, self.tr("Шаблон"), "XLSX (*.xlsx)", save=True)
        if path:
            tasks.start(self._template(Path(path)), self._failed)

    async def _template(self, path: Path) -> None:
        # The client decodes JSON; a file comes through the underlying httpx client.
        http = self.client._http
        assert self.client.session is not None
        response = await http.get(
            f"/api/import/{self.kind}/template",
            params={"format": "xlsx"},
            headers={"Authorization": f"Bearer {self.client.session.access_token}"},
        )
        response.raise_for_status()
        await asyncio.to_thread(path.write_bytes, response.content)
        self.summary.setText(self.tr("Шаблон сохранён: {0}").format(path))

    def _failed(self, exc: BaseException) -> None:
        self.summary.setStyleSheet(ERROR_STYLE)
        self.summary.setText(describe(exc))
