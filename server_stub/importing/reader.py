"""Reading an uploaded CSV or XLSX file into rows keyed by column, with spreadsheet line numbers.

What the reader accepts, and why:
- XLSX (recognised by content, not by name): the first sheet, read with openpyxl in read-only
  mode so a large file is streamed. Numbers typed into cells come back without a trailing
  ".0" (Excel stores 3020 and 4950001122 as numbers).
- CSV: UTF-8 with or without a BOM, UTF-16 with a BOM (Excel's "Unicode text"), otherwise
  Windows-1251 (what Russian Excel writes by default). The delimiter is sniffed from the header
  line: ';' (Russian Excel), ',' or a tab.
- Old binary XLS is refused with a hint to save as XLSX or CSV: reading it needs another library.
- Header titles match the template case-insensitively, ignoring extra spaces, a trailing '*'
  and ё/е; the English titles are accepted too. Columns may come in any order; a column the
  template does not know is ignored (and reported as a warning by the caller).
- Blank lines are skipped but still counted, so ``line`` is the row number a spreadsheet shows.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from server_stub.importing.messages import FileProblem, Msg

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000
# Physical rows read before giving up, so that a sheet of a million blank rows cannot stall us.
MAX_PHYSICAL_ROWS = MAX_ROWS * 5
MAX_COLUMNS = 64
# Unpacked size of an XLSX: ten thousand honest rows unpack to a few megabytes; a "zip bomb"
# would unpack to gigabytes inside openpyxl (shared strings are read whole).
MAX_UNPACKED_BYTES = 100 * 1024 * 1024

_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True)
class Column:
    key: str  # machine name used in the API ("extension")
    title: str  # the Russian header of the template ("Внутренний номер")
    title_en: str


@dataclass(frozen=True)
class Row:
    line: int
    cells: dict[str, str]

    def get(self, key: str) -> str:
        return self.cells.get(key, "")


@dataclass
class Table:
    columns: tuple[Column, ...]
    letters: dict[str, str]  # column key -> letter in this file
    rows: list[Row] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (letter, title)

    def where(self, key: str) -> str:
        """'D (Внутренний номер)': where a person finds the cell in their spreadsheet."""
        title = next(c.title for c in self.columns if c.key == key)
        return f"{self.letters[key]} ({title})"


def column_letter(index: int) -> str:
    """0 -> 'A', 25 -> 'Z', 26 -> 'AA' (spreadsheet column names)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def read_table(data: bytes, columns: Sequence[Column]) -> Table:
    """Parse ``data`` (CSV or XLSX) against the expected ``columns``; FileProblem if unusable."""
    if len(data) > MAX_BYTES:
        raise FileProblem(
            Msg(
                f"Файл больше {MAX_BYTES // (1024 * 1024)} МБ",
                f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB",
            )
        )
    if not data.strip():
        raise FileProblem(Msg("Файл пуст", "The file is empty"))
    if data.startswith(_XLS_MAGIC):
        raise FileProblem(
            Msg(
                "Формат XLS (Excel 97–2003) не поддерживается: сохраните файл как XLSX или CSV",
                "The XLS (Excel 97–2003) format is not supported: save the file as XLSX or CSV",
            )
        )
    raw = _xlsx_rows(data) if data.startswith(_XLSX_MAGIC) else _csv_rows(data)
    return _to_table(raw, tuple(columns))


# --- CSV ----------------------------------------------------------------------------------


def _not_a_table() -> FileProblem:
    return FileProblem(
        Msg(
            "Файл не является таблицей CSV или XLSX",
            "The file is neither a CSV nor an XLSX spreadsheet",
        )
    )


def _decode(data: bytes) -> str:
    try:
        if data.startswith(codecs.BOM_UTF8):
            return data[len(codecs.BOM_UTF8) :].decode("utf-8")
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return data.decode("utf-16")
    except UnicodeDecodeError as exc:
        raise _not_a_table() from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1251")
    except UnicodeDecodeError as exc:
        raise _not_a_table() from exc


def sniff_delimiter(header_line: str) -> str:
    # Template titles contain none of these, so the most frequent one separates the columns.
    counts = {d: header_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ";"


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    text = _decode(data)
    if "\x00" in text:
        raise _not_a_table()
    first_line = next((ln for ln in text.splitlines() if ln.strip()), "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(first_line))
    try:
        for record in reader:
            yield [cell.strip() for cell in record]
    except csv.Error as exc:
        raise FileProblem(
            Msg(
                f"Файл CSV повреждён (строка {reader.line_num}): {exc}",
                f"The CSV file is malformed (line {reader.line_num}): {exc}",
            )
        ) from exc


# --- XLSX ---------------------------------------------------------------------------------


def cell_text(value: Any) -> str:
    """A cell value as the text a person typed (3020.0 -> '3020')."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).strip()


def _xlsx_rows(data: bytes) -> Iterator[list[str]]:
    import openpyxl  # imported here: only XLSX uploads and templates need it

    damaged = FileProblem(
        Msg(
            "Файл XLSX повреждён или не является таблицей Excel",
            "The XLSX file is damaged or is not an Excel spreadsheet",
        )
    )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise damaged from exc
    if unpacked > MAX_UNPACKED_BYTES:
        raise FileProblem(
            Msg(
                "Файл XLSX слишком велик в распакованном виде",
                "The XLSX file is too large once unpacked",
            )
        )
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # any failure to open an uploaded file is the file's fault
        raise damaged from exc
    try:
        if not workbook.worksheets:
            raise damaged
        sheet = workbook.worksheets[0]
        rows: Iterable[tuple[Any, ...]] = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)
        try:
            for values in rows:
                yield [cell_text(v) for v in values]
        except FileProblem:
            raise
        except Exception as exc:
            raise damaged from exc
    finally:
        workbook.close()


# --- header and rows ----------------------------------------------------------------------


def _norm(title: str) -> str:
    return " ".join(title.replace("*", " ").replace("ё", "е").replace("Ё", "Е").casefold().split())


def _quoted(titles: Iterable[str]) -> str:
    return ", ".join(f"«{t}»" for t in titles)


def _header(values: list[str], columns: tuple[Column, ...]) -> Table:
    by_title: dict[str, Column] = {}
    for col in columns:
        for name in (col.title, col.title_en, col.key):
            by_title[_norm(name)] = col
    letters: dict[str, str] = {}
    ignored: list[tuple[str, str]] = []
    for index, title in enumerate(values):
        if not title:
            continue
        letter = column_letter(index)
        found = by_title.get(_norm(title))
        if found is None:
            ignored.append((letter, title))
            continue
        col = found
        if col.key in letters:
            raise FileProblem(
                Msg(
                    f"Столбец «{col.title}» встречается дважды (столбцы {letters[col.key]} "
                    f"и {letter})",
                    f"The column '{col.title_en}' appears twice (columns {letters[col.key]} "
                    f"and {letter})",
                )
            )
        letters[col.key] = letter
    missing = [c for c in columns if c.key not in letters]
    if missing:
        unknown = [t for _, t in ignored]
        ru = f"В заголовке файла (строка 1) нет столбцов: {_quoted(c.title for c in missing)}."
        en = f"The header (line 1) lacks the columns: {_quoted(c.title_en for c in missing)}."
        if unknown:
            ru += f" Нераспознанные заголовки: {_quoted(unknown)}."
            en += f" Unrecognised titles: {_quoted(unknown)}."
        ru += " Скачайте шаблон и сверьте заголовки."
        en += " Download the template and compare the titles."
        raise FileProblem(Msg(ru, en))
    return Table(columns=columns, letters=letters, ignored=ignored)


def _to_table(raw: Iterator[list[str]], columns: tuple[Column, ...]) -> Table:
    header = next(raw, None)
    if header is None or not any(header):
        raise FileProblem(
            Msg(
                "Первая строка файла должна содержать заголовки столбцов шаблона",
                "The first line of the file must hold the template's column titles",
            )
        )
    table = _header(header, columns)
    index_of = {key: ord_index(letter) for key, letter in table.letters.items()}
    too_many = FileProblem(
        Msg(
            f"В файле больше {MAX_ROWS} строк: разделите его на несколько файлов",
            f"The file has more than {MAX_ROWS} rows: split it into several files",
        )
    )
    for line, values in enumerate(raw, start=2):
        if line > MAX_PHYSICAL_ROWS:
            raise too_many
        cells = {key: values[i] if i < len(values) else "" for key, i in index_of.items()}
        if not any(cells.values()):
            continue  # a blank line (or notes only in a column we ignore)
        table.rows.append(Row(line, cells))
        if len(table.rows) > MAX_ROWS:
            raise too_many
    if not table.rows:
        raise FileProblem(
            Msg(
                "В файле нет ни одной строки с данными (только заголовок)",
                "The file has no data rows (only the header)",
            )
        )
    return table


def ord_index(letter: str) -> int:
    """'A' -> 0, 'AA' -> 26 (inverse of column_letter)."""
    index = 0
    for ch in letter:
        index = index * 26 + (ord(ch) - ord("A") + 1)
    return index - 1
