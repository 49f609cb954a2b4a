"""Reading import files: encodings, delimiters, XLSX numbers, header problems and limits."""

from __future__ import annotations

import io
from collections.abc import Sequence

import pytest
from openpyxl import Workbook

from server_stub.importing import reader
from server_stub.importing.messages import FileProblem
from server_stub.importing.reader import column_letter, read_table
from server_stub.importing.users import USER_COLUMNS

HEADER = [c.title for c in USER_COLUMNS]
ROW = ["ivanov.ii", "G7zNo0vHDTDGyVAdQ5Wp", "Иванов Иван", "3020", "Операторы", "", "i@x.ru"]


def csv_bytes(rows: Sequence[Sequence[str]], sep: str = ";", encoding: str = "utf-8") -> bytes:
    return "\r\n".join(sep.join(r) for r in rows).encode(encoding)


def xlsx_bytes(rows: Sequence[Sequence[object]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for r in rows:
        ws.append(list(r))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _problem(data: bytes) -> str:
    with pytest.raises(FileProblem) as exc:
        read_table(data, USER_COLUMNS)
    return exc.value.message.ru + " | " + exc.value.message.en


@pytest.mark.parametrize(
    ("sep", "encoding", "bom"),
    [
        (";", "utf-8", b"\xef\xbb\xbf"),
        (",", "utf-8", b""),
        (";", "cp1251", b""),
        ("\t", "utf-8", b""),
    ],
    ids=["semicolon-utf8-bom", "comma-utf8", "semicolon-cp1251", "tab"],
)
def test_csv_encodings_and_delimiters_give_the_same_cells(
    sep: str, encoding: str, bom: bytes
) -> None:
    table = read_table(bom + csv_bytes([HEADER, ROW], sep, encoding), USER_COLUMNS)
    assert len(table.rows) == 1
    row = table.rows[0]
    assert row.line == 2
    assert row.get("display_name") == "Иванов Иван" and row.get("groups") == "Операторы"


def test_utf16_csv_from_excel_unicode_text() -> None:
    data = ("\t".join(HEADER) + "\r\n" + "\t".join(ROW)).encode("utf-16")  # with a BOM
    assert read_table(data, USER_COLUMNS).rows[0].get("login") == "ivanov.ii"


def test_quoted_csv_cell_keeps_its_comma() -> None:
    row = [*ROW[:4], '"Операторы, Администрация"', *ROW[5:]]
    table = read_table(csv_bytes([HEADER, row], ","), USER_COLUMNS)
    assert table.rows[0].get("groups") == "Операторы, Администрация"


def test_xlsx_numbers_read_as_typed() -> None:
    row: list[object] = [*ROW]
    row[3] = 3020  # Excel stores a typed extension as a number
    row[5] = 4950001122.0
    table = read_table(xlsx_bytes([HEADER, row]), USER_COLUMNS)
    assert table.rows[0].get("extension") == "3020"
    assert table.rows[0].get("caller_id") == "4950001122"


def test_blank_lines_are_skipped_but_counted() -> None:
    table = read_table(csv_bytes([HEADER, ROW, [""], ROW]), USER_COLUMNS)
    assert [r.line for r in table.rows] == [2, 4]


def test_columns_in_another_order_keep_their_own_letters() -> None:
    order = [6, 0, 1, 2, 3, 4, 5]
    table = read_table(
        csv_bytes([[HEADER[i] for i in order], [ROW[i] for i in order]]), USER_COLUMNS
    )
    assert table.where("extension") == "E (Внутренний номер)"
    assert table.rows[0].get("extension") == "3020"


def test_titles_match_loosely_and_unknown_columns_are_reported_not_read() -> None:
    header = ["  логин* ", *HEADER[1:], "Заметки"]
    table = read_table(csv_bytes([header, [*ROW, "что-то"]]), USER_COLUMNS)
    assert table.rows[0].get("login") == "ivanov.ii"
    assert table.ignored == [("H", "Заметки")]


def test_missing_column_is_named() -> None:
    header = [t for t in HEADER if t != "Email"]
    assert "«Email»" in _problem(csv_bytes([header, ROW[:-1]]))


def test_misspelled_column_is_named_with_the_unrecognised_title() -> None:
    header = [*HEADER]
    header[3] = "Внутрений номер"
    text = _problem(csv_bytes([header, ROW]))
    assert "«Внутренний номер»" in text and "«Внутрений номер»" in text


def test_duplicate_column_is_refused() -> None:
    assert "дважды" in _problem(csv_bytes([[*HEADER, "Логин"], ROW]))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "пуст"),
        (b"   \r\n", "пуст"),
        (("\ufeff" + ";".join(HEADER) + "\r\n").encode(), "нет ни одной строки"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "XLS"),
        (b"PK\x03\x04 not really a zip", "XLSX"),
        (b"\x00\x01\x02binary\x00", "CSV или XLSX"),
        (b"\r\n" + ";".join(HEADER).encode(), "Первая строка"),
    ],
    ids=["empty", "blank", "header-only", "old-xls", "bad-zip", "binary", "header-not-first"],
)
def test_unusable_files_are_refused_with_a_reason(data: bytes, expected: str) -> None:
    assert expected in _problem(data)


def test_more_than_ten_thousand_rows_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader, "MAX_ROWS", 3)
    assert read_table(csv_bytes([HEADER, ROW, ROW, ROW]), USER_COLUMNS).rows
    assert "больше 3 строк" in _problem(csv_bytes([HEADER, ROW, ROW, ROW, ROW]))


def test_the_real_row_limit_is_ten_thousand() -> None:
    assert reader.MAX_ROWS == 10_000
    data = csv_bytes([HEADER] + [ROW] * 10_001)
    assert "10000" in _problem(data)


def test_xlsx_that_unpacks_too_large_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    data = xlsx_bytes([HEADER, ROW])
    monkeypatch.setattr(reader, "MAX_UNPACKED_BYTES", 1000)
    assert "распакованном" in _problem(data)


def test_file_over_five_megabytes_is_refused() -> None:
    data = csv_bytes([HEADER, ROW]) + b" " * (5 * 1024 * 1024)
    assert "5 МБ" in _problem(data)


def test_column_letters() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 27, 51, 52)] == ["A", "Z", "AA", "AB", "AZ", "BA"]
    assert all(reader.ord_index(column_letter(i)) == i for i in range(200))
