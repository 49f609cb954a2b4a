"""Phone numbers: normalisation to E.164 with ``phonenumbers`` (Russia is the default region)."""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "RU"


class BadNumber(ValueError):
    def __init__(self, raw: str, ru: str, en: str) -> None:
        super().__init__(en)
        self.raw, self.ru, self.en = raw, ru, en


def to_e164(raw: str, region: str = DEFAULT_REGION) -> str:
    """'8 (495) 111-22-33', '+7 495 1112233', '74951112233' -> '+74951112233'.

    Raises BadNumber (with a Russian and an English reason) for anything that is not a valid,
    allocated number: a user expects "+7 899 222-33-44" (no such range) to be refused.
    """
    text = raw.strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits:
        raise BadNumber(raw, "Номер не содержит цифр", "The number has no digits")
    if not text.startswith("+") and len(digits) == 11 and digits[0] in "78" and region == "RU":
        text = "+7" + digits[1:]
    elif not text.startswith("+") and len(digits) > 10:
        text = "+" + digits
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise BadNumber(raw, "Неверный формат номера", "The number is not well-formed") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise BadNumber(
            raw,
            "Такого номера не существует (неверная длина или диапазон)",
            "No such number (wrong length or numbering range)",
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
