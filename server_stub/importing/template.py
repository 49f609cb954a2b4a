"""Import templates: the header row and one sample row, as CSV or XLSX.

The CSV is UTF-8 with a BOM and ';' between columns, which is what Excel with Russian regional
settings opens correctly by double-click. In the XLSX every column is formatted as text, so
Excel keeps leading zeros and does not turn phone numbers into 4.95E+09.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from server_stub.importing.reader import Column, column_letter

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def template_csv(columns: Sequence[Column], sample: Sequence[str]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([c.title for c in columns])
    writer.writerow(sample)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def template_xlsx(columns: Sequence[Column], sample: Sequence[str], sheet: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    ws = workbook.active
    assert ws is not None
    ws.title = sheet
    ws.append([c.title for c in columns])
    ws.append(list(sample))
    for index, column in enumerate(columns):
        letter = column_letter(index)
        ws[f"{letter}1"].font = Font(bold=True)
        width = max(len(column.title), *(len(v) for v in sample[index : index + 1]), 10)
        ws.column_dimensions[letter].width = width + 2
        ws.column_dimensions[letter].number_format = "@"  # new cells typed into the column
        ws[f"{letter}2"].number_format = "@"
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
