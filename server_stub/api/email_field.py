"""An optional e-mail field: empty means "not set", anything else must be a valid address.

(Candidate for ``server_stub.api.fields``; kept here so as not to edit a shared module.)
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, validate_email
from pydantic_core import PydanticCustomError

from server_stub.api.errors import bilingual_value_error


def _email_or_empty(value: str) -> str:
    value = value.strip()
    if not value:
        return ""
    try:
        return validate_email(value)[1]
    except PydanticCustomError:
        raise bilingual_value_error(
            "Неверный адрес электронной почты", "Not a valid e-mail address"
        ) from None


EmailOrEmpty = Annotated[str, Field(max_length=254), AfterValidator(_email_or_empty)]
