"""Reusable pydantic field types with bilingual validation messages."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from server_stub.api.errors import bilingual_value_error
from server_stub.phones import BadNumber, to_e164


def _e164(value: str) -> str:
    try:
        return to_e164(value)
    except BadNumber as exc:
        raise bilingual_value_error(exc.ru, exc.en) from None


def _extension(value: str) -> str:
    if not value.isdigit() or not 2 <= len(value) <= 5:
        raise bilingual_value_error("Внутренний номер: от 2 до 5 цифр", "Extension: 2 to 5 digits")
    return value


PhoneNumber = Annotated[str, Field(min_length=1, max_length=32), AfterValidator(_e164)]
Extension = Annotated[str, Field(min_length=1, max_length=5), AfterValidator(_extension)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Priority = Annotated[int, Field(ge=1, le=999)]
