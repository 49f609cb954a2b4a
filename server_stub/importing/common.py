"""What the imports share: the outcome, number allocation, duplicates, phone numbers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from server_stub.importing.messages import NOT_UNIQUE, Msg, Problem
from server_stub.importing.reader import Row, Table, ord_index
from server_stub.phones import BadNumber, to_e164

T = TypeVar("T")


@dataclass
class Outcome(Generic[T]):
    """The result of checking a file: rows ready to create, and every problem found."""

    rows_total: int
    valid: list[T] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    # Set when the whole file must be refused on create (e.g. the domain's user limit).
    blocking: Msg | None = None

    @property
    def rows_valid(self) -> int:
        return len(self.valid)

    @property
    def rows_invalid(self) -> int:
        return self.rows_total - len(self.valid)

    def sort(self) -> None:
        def key(p: Problem) -> tuple[int, int]:
            letter = (p.column or "").split(" ")[0].rstrip(",")
            return (p.line or 0, ord_index(letter) if letter.isalpha() else -1)

        self.errors.sort(key=key)
        self.warnings.sort(key=key)


class RowProblems:
    """Collects cell errors of a table and remembers which lines are bad."""

    def __init__(self, table: Table, errors: list[Problem]) -> None:
        self.table = table
        self.errors = errors
        self.bad_lines: set[int] = set()

    def add(self, row: Row, key: str, message: Msg) -> None:
        self.add_at(row, self.table.where(key), key, row.get(key), message)

    def add_at(self, row: Row, column: str, field: str, value: str, message: Msg) -> None:
        self.errors.append(Problem(row.line, column, field, value, message))
        self.bad_lines.add(row.line)

    def require_one_of(self, row: Row, keys: Iterable[str]) -> None:
        """A row with none of the phone columns ``keys`` filled names them all."""
        keys = list(keys)
        if any(row.get(key) for key in keys):
            return
        letters = ", ".join(self.table.letters[key] for key in keys)
        self.add_at(
            row,
            f"{letters} (Телефоны)",
            "phones",
            "",
            Msg("Укажите хотя бы один номер телефона", "Give at least one phone number"),
        )

    def flag_duplicates(self, key: str, values: Iterable[tuple[Row, str]]) -> None:
        """Every row whose value occurs more than once gets «Значение в списке не уникально»."""
        by_value: dict[str, list[Row]] = defaultdict(list)
        for row, value in values:
            if value:
                by_value[value].append(row)
        for rows in by_value.values():
            if len(rows) > 1:
                for row in rows:
                    self.add(row, key, NOT_UNIQUE)


class Allocator:
    """The lowest free number from ``start`` (as ``provision.next_free_extension`` chooses),
    kept in memory so that ten thousand rows need one query, not ten thousand."""

    def __init__(self, used: set[str], start: int, stop: int = 99999) -> None:
        self.used = set(used)
        self.candidate = start
        self.stop = stop

    def take(self) -> str | None:
        while str(self.candidate) in self.used:
            self.candidate += 1
        if self.candidate > self.stop:
            return None
        value = str(self.candidate)
        self.used.add(value)
        return value


def ignored_columns(table: Table) -> list[Problem]:
    return [
        Problem(
            1,
            f"{letter} ({title})",
            "file",
            title,
            Msg(
                "Столбца нет в шаблоне: его значения не загружаются",
                "The template has no such column: its values are not imported",
            ),
        )
        for letter, title in table.ignored
    ]


def split_names(cell: str) -> list[str]:
    """'Операторы, Администрация' -> both names; repeated names (any case) are kept once."""
    names: list[str] = []
    seen: set[str] = set()
    for part in cell.split(","):
        name = " ".join(part.split())
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            names.append(name)
    return names


def too_long(limit: int) -> Msg:
    return Msg(f"Не более {limit} символов", f"At most {limit} characters")


def e164(raw: str) -> tuple[str | None, Msg | None]:
    """A real phone number in E.164: (stored form, None) or (None, why not)."""
    try:
        return to_e164(raw), None
    except BadNumber as exc:
        return None, Msg(
            f"Неверный номер телефона «{raw}»: {exc.ru}", f"Bad phone number '{raw}': {exc.en}"
        )
