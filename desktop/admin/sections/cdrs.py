"""Call history: filters (today / 7 / 30 / 45 days or a period, type, result, number), the route
trace of the chosen call, export to XLSX or CSV with progress. The table pages lazily, so a
history of 100,000 calls opens as fast as an empty one."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from desktop.admin.widgets import dialogs, tasks
from desktop.admin.widgets.paged import Column, PagedModel, Row
from desktop.admin.widgets.section import Section, make_table
from desktop.api.client import PultClient
from desktop.common.i18n import tr
from desktop.qt import QtCore, QtWidgets

EXPORT_PAGE = 500


def directions() -> list[tuple[str, str]]:
    return [
        ("", tr("Все типы")),
        ("incoming", tr("Входящие")),
        ("internal", tr("Внутренние")),
        ("inter_domain", tr("Между доменами")),
        ("local", tr("Местные")),
        ("long_distance", tr("Междугородные")),
        ("mobile", tr("На мобильные")),
        ("international", tr("Международные")),
        ("toll_free", tr("8-800")),
    ]


def results() -> list[tuple[str, str]]:
    return [
        ("", tr("Все")),
        ("answered", tr("Отвечен")),
        ("missed", tr("Пропущен")),
        ("busy", tr("Занято")),
        ("refused", tr("Отклонён")),
        ("failed", tr("Ошибка")),
        ("in_progress", tr("Идёт")),
    ]


def local_time(value: Any) -> str:
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone().strftime("%d.%m.%Y %H:%M:%S")


def duration(row: Row) -> str:
    seconds = int(row.get("duration_seconds") or 0)
    return f"{seconds // 60}:{seconds % 60:02d}"


def cdr_columns() -> list[Column]:
    dir_names = dict(directions())
    res_names = dict(results())
    return [
        Column("started_at", tr("Начало"), lambda r: local_time(r["started_at"])),
        Column(
            "direction", tr("Тип"), lambda r: str(dir_names.get(r["direction"], r["direction"]))
        ),
        Column("caller", tr("Кто звонил")),
        Column("called", tr("Куда")),
        Column("answered_by", tr("Ответил")),
        Column("duration_seconds", tr("Длительность"), duration),
        Column("result", tr("Результат"), lambda r: str(res_names.get(r["result"], r["result"]))),
    ]


def write_csv(path: Path, columns: list[Column], rows: list[Row]) -> None:
    # UTF-8 with BOM and ';': what a Russian Excel opens correctly by double-click.
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow([c.title for c in columns])
        writer.writerows([c.text(r) for c in columns] for r in rows)


def write_xlsx(path: Path, columns: list[Column], rows: list[Row]) -> None:
    from openpyxl import Workbook  # only exports need it

    book = Workbook(write_only=True)
    sheet = book.create_sheet(tr("Звонки"))
    sheet.append([c.title for c in columns])
    for r in rows:
        sheet.append([c.text(r) for c in columns])
    book.save(path)


class CallHistorySection(Section):
    key = "cdrs"

    def __init__(self, client: PultClient, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(client, parent)
        self.model = PagedModel(client, "/api/cdrs", cdr_columns(), page_size=200)
        self.model.failed.connect(self.show_failure)
        self.model.progress.connect(self._progress)
        self.table = make_table(self.model, "calls")
        self.table.selectionModel().currentRowChanged.connect(self._chosen)
        self.preset = QtWidgets.QComboBox()
        self.preset.setObjectName("preset")
        for days, text in (
            (0, self.tr("Сегодня")),
            (7, self.tr("7 дней")),
            (30, self.tr("30 дней")),
            (45, self.tr("45 дней")),
            (-1, self.tr("Период")),
        ):
            self.preset.addItem(text, days)
        self.preset.setCurrentIndex(1)
        self.date_from = QtWidgets.QDateEdit(QtCore.QDate.currentDate().addDays(-7))
        self.date_to = QtWidgets.QDateEdit(QtCore.QDate.currentDate())
        for edit, name in ((self.date_from, "date-from"), (self.date_to, "date-to")):
            edit.setObjectName(name)
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("dd.MM.yyyy")
            edit.setEnabled(False)
        self.direction = QtWidgets.QComboBox()
        self.direction.setObjectName("direction")
        for value, text in directions():
            self.direction.addItem(text, value)
        self.result = QtWidgets.QComboBox()
        self.result.setObjectName("result")
        for value, text in results():
            self.result.addItem(text, value)
        self.number = QtWidgets.QLineEdit()
        self.number.setObjectName("number")
        self.number.setPlaceholderText(self.tr("Номер или имя"))
        self.number.setClearButtonEnabled(True)
        apply = QtWidgets.QPushButton(self.tr("Показать"))
        apply.setObjectName("apply")
        apply.clicked.connect(self.apply_filters)
        self.number.returnPressed.connect(self.apply_filters)
        self.preset.currentIndexChanged.connect(self._preset_changed)
        self.counter = QtWidgets.QLabel()
        self.counter.setObjectName("counter")
        export_csv = QtWidgets.QPushButton(self.tr("Экспорт CSV…"))
        export_csv.setObjectName("export-csv")
        export_csv.clicked.connect(lambda: self.export("csv"))
        export_xlsx = QtWidgets.QPushButton(self.tr("Экспорт XLSX…"))
        export_xlsx.setObjectName("export-xlsx")
        export_xlsx.clicked.connect(lambda: self.export("xlsx"))
        self.trace = QtWidgets.QPlainTextEdit()
        self.trace.setObjectName("call-trace")
        self.trace.setReadOnly(True)
        self.trace.setMaximumHeight(140)
        self.trace.setPlaceholderText(self.tr("Выберите вызов, чтобы увидеть его маршрут"))

        filters = QtWidgets.QHBoxLayout()
        for w in (self.preset, self.date_from, self.date_to, self.direction, self.result):
            filters.addWidget(w)
        filters.addWidget(self.number, 1)
        filters.addWidget(apply)
        bottom = QtWidgets.QHBoxLayout()
        bottom.addWidget(self.counter, 1)
        bottom.addWidget(export_csv)
        bottom.addWidget(export_xlsx)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        layout.addWidget(QtWidgets.QLabel(self.tr("Маршрут вызова")))
        layout.addWidget(self.trace)
        layout.addWidget(self.status)
        self.model.params = self.params()

    def title(self) -> str:
        return self.tr("История звонков")

    def first_show(self) -> None:
        self.apply_filters()

    def _preset_changed(self, _index: int) -> None:
        custom = self.preset.currentData() == -1
        self.date_from.setEnabled(custom)
        self.date_to.setEnabled(custom)
        if not custom:
            self.apply_filters()

    def period(self) -> tuple[datetime, datetime]:
        days = self.preset.currentData()
        today = QtCore.QDate.currentDate()
        if days == -1:
            first, last = self.date_from.date(), self.date_to.date()
        else:
            first, last = today.addDays(-days), today
        start = datetime(first.year(), first.month(), first.day()).astimezone()
        end = datetime(last.year(), last.month(), last.day()).astimezone() + timedelta(days=1)
        return start.astimezone(UTC), end.astimezone(UTC)

    def params(self) -> dict[str, Any]:
        start, end = self.period()
        return {
            "date_from": start.isoformat(),
            "date_to": end.isoformat(),
            "direction": self.direction.currentData(),
            "result": self.result.currentData(),
            "q": self.number.text().strip(),  # a number or a name
            "lang": "en" if tr("Сегодня") == "Today" else "ru",
        }

    def apply_filters(self) -> None:
        self.trace.clear()
        self.model.set_params(**self.params())

    def _progress(self, loaded: int, total: int) -> None:
        self.counter.setText(self.tr("Загружено {0} из {1}").format(loaded, total))

    def _chosen(self, current: QtCore.QModelIndex, _previous: QtCore.QModelIndex) -> None:
        if not current.isValid():
            return
        row = self.model.row(current.row())
        lines = [f"{row['call_id']}  SIP {row.get('sip_code') or ''} {row.get('cause') or ''}"]
        lines += [f"• {line}" for line in row.get("trace", [])]
        self.trace.setPlainText("\n".join(lines))

    # --- export -------------------------------------------------------------------------

    def export(self, fmt: str) -> None:
        filters = "CSV (*.csv)" if fmt == "csv" else "Excel (*.xlsx)"
        path = dialogs.choose_file(self, self.tr("Экспорт истории звонков"), filters, save=True)
        if not path:
            return
        if not path.endswith("." + fmt):
            path += "." + fmt
        self.run(self._export(Path(path), fmt))

    async def _export(self, path: Path, fmt: str) -> None:
        """Pages through the same filters as the table, with a progress dialog that cancels."""
        params = dict(self.model.params)
        progress = QtWidgets.QProgressDialog(
            self.tr("Выгрузка звонков…"), self.tr("Отмена"), 0, 0, self
        )
        progress.setObjectName("export-progress")
        progress.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(300)
        rows: list[Row] = []
        total: int | None = None
        try:
            while total is None or len(rows) < total:
                page = await self.client.request(
                    "GET", "/api/cdrs", params={**params, "offset": len(rows), "limit": EXPORT_PAGE}
                )
                total = int(page["total"])
                progress.setMaximum(max(total, 1))
                if not page["items"]:
                    break
                rows.extend(page["items"])
                progress.setValue(len(rows))
                if progress.wasCanceled():
                    self.show_status(self.tr("Экспорт отменён"))
                    return
            columns = cdr_columns()
            writer = write_csv if fmt == "csv" else write_xlsx
            writer(path, columns, rows)
        finally:
            progress.close()
            progress.deleteLater()
        self.last_export = path
        self.show_status(self.tr("Выгружено звонков: {0} в файл {1}").format(len(rows), path))

    last_export: Path | None = None


__all__ = ["CallHistorySection", "tasks"]
