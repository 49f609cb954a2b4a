"""Bilingual messages and the row problems an import reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Msg:
    """One message a person reads, in both languages (the API picks one per request)."""

    ru: str
    en: str

    def pick(self, lang: str) -> str:
        return self.en if lang == "en" else self.ru


@dataclass(frozen=True)
class Problem:
    """An error or warning about one cell (or, with ``line`` None, about the whole file)."""

    line: int | None
    column: str | None  # "D (Внутренний номер)": the letter as the file has it, and its title
    field: str  # the machine name of the column, e.g. "extension"
    value: str
    message: Msg

    def as_dict(self, lang: str) -> dict[str, Any]:
        return {
            "line": self.line,
            "column": self.column,
            "field": self.field,
            "value": self.value,
            "message": self.message.pick(lang),
        }


class FileProblem(ValueError):
    """The file as a whole cannot be read (wrong type, empty, bad header, too big)."""

    def __init__(self, message: Msg) -> None:
        super().__init__(message.en)
        self.message = message


REQUIRED = Msg("Обязательное поле не заполнено", "This value is required")
NOT_UNIQUE = Msg("Значение в списке не уникально", "The value is not unique in the list")
