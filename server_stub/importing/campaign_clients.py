"""Checking a campaign's call list (spec 02 §13.4, «Массовое создание клиентов»).

Template columns (the manual lists none; the spec suggests these): Клиент; Телефон 1–3 (at
least one); Примечания (shown on the operator's card when dialling).

Rules:
- Клиент: required, at most 200 characters. Примечания: at most 2000.
- A phone is a real number, stored in E.164 (``+7 495 111-22-33`` → ``+74951112233``), or an
  internal number of the company (2–6 digits, e.g. an extension for a test call).
- «На один номер не позвонят дважды»: a number may appear once in the whole campaign — twice
  in the file, or once in the file and once already in the list, is an error naming the cell.
- Unlike the users import, a file with any error writes nothing: a call list loaded halfway
  would be dialled halfway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from server_stub.importing.common import Outcome, RowProblems, e164, ignored_columns, too_long
from server_stub.importing.messages import NOT_UNIQUE, REQUIRED, Msg
from server_stub.importing.reader import Column, Row, Table

PHONE_KEYS = ("phone1", "phone2", "phone3")
CLIENT_COLUMNS = (
    Column("name", "Клиент", "Client"),
    Column("phone1", "Телефон 1", "Phone 1"),
    Column("phone2", "Телефон 2", "Phone 2"),
    Column("phone3", "Телефон 3", "Phone 3"),
    Column("notes", "Примечания", "Notes"),
)
CLIENT_SAMPLE = ("Николай Петров", "+74951112233", "+79161112233", "", "Постоянный клиент")
_INTERNAL = re.compile(r"^\d{2,6}$")


@dataclass(frozen=True)
class NewClient:
    line: int
    name: str
    numbers: tuple[str, ...]
    notes: str


def normalise_number(raw: str) -> tuple[str | None, Msg | None]:
    """(stored form, None) or (None, why not)."""
    text = raw.strip()
    if _INTERNAL.match(text):
        return text, None
    return e164(raw)


def check_clients(table: Table, existing_numbers: set[str]) -> Outcome[NewClient]:
    out: Outcome[NewClient] = Outcome(rows_total=len(table.rows), warnings=ignored_columns(table))
    bad = RowProblems(table, out.errors)
    parsed: list[tuple[Row, list[tuple[str, str]]]] = []
    for row in table.rows:
        name = " ".join(row.get("name").split())
        if not name:
            bad.add(row, "name", REQUIRED)
        elif len(name) > 200:
            bad.add(row, "name", too_long(200))
        if len(row.get("notes")) > 2000:
            bad.add(row, "notes", too_long(2000))
        numbers: list[tuple[str, str]] = []  # (column key, number)
        for key in PHONE_KEYS:
            raw = row.get(key)
            if not raw:
                continue
            number, problem = normalise_number(raw)
            if problem is not None:
                bad.add(row, key, problem)
            elif number is not None:
                if number in existing_numbers:
                    bad.add(
                        row,
                        key,
                        Msg(
                            f"Номер {number} уже есть в списке обзвона этой кампании",
                            f"The number {number} is already in this campaign's call list",
                        ),
                    )
                elif any(number == n for _, n in numbers):
                    bad.add(row, key, NOT_UNIQUE)
                else:
                    numbers.append((key, number))
        bad.require_one_of(row, PHONE_KEYS)
        parsed.append((row, numbers))
    # The same number on two lines: both cells are named.
    seen: dict[str, list[tuple[Row, str]]] = {}
    for row, numbers in parsed:
        for key, number in numbers:
            seen.setdefault(number, []).append((row, key))
    for cells in seen.values():
        if len(cells) > 1:
            for row, key in cells:
                bad.add(row, key, NOT_UNIQUE)
    for row, numbers in parsed:
        if row.line not in bad.bad_lines:
            name = " ".join(row.get("name").split())
            out.valid.append(
                NewClient(row.line, name, tuple(n for _, n in numbers), row.get("notes").strip())
            )
    out.sort()
    return out
