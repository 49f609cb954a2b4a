"""Direction classes of dialled numbers and the outgoing restriction levels.

Decisions where the manual is silent:
- "Local" means the same area code (first three digits of the national number) as the
  domain's default outgoing number; other Russian fixed numbers are long-distance.
- Mobile numbers are their own class and are allowed under "no international and
  long-distance" (subscribers think of a mobile as "a phone", not "another city").
- Toll-free 8-800 numbers are allowed at every level except "internal only".
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberType

from server_stub.phones import ru_number_type
from server_stub.routing.config import Restriction


class Direction(StrEnum):
    INTERNAL = "internal"
    INTER_DOMAIN = "inter_domain"
    LOCAL = "local"
    LONG_DISTANCE = "long_distance"
    MOBILE = "mobile"
    INTERNATIONAL = "international"
    TOLL_FREE = "toll_free"


PAID = frozenset(
    {Direction.LOCAL, Direction.LONG_DISTANCE, Direction.MOBILE, Direction.INTERNATIONAL}
)

_DENIED: dict[Restriction, frozenset[Direction]] = {
    Restriction.NONE: frozenset(),
    Restriction.NO_INTERNATIONAL: frozenset({Direction.INTERNATIONAL}),
    Restriction.NO_INTERNATIONAL_LONG_DISTANCE: frozenset(
        {Direction.INTERNATIONAL, Direction.LONG_DISTANCE}
    ),
    Restriction.INTERNAL_ONLY: frozenset(PAID | {Direction.TOLL_FREE}),
}

RESTRICTION_TEXT: dict[Restriction, tuple[str, str]] = {
    Restriction.NO_INTERNATIONAL: ("международные вызовы запрещены", "international calls barred"),
    Restriction.NO_INTERNATIONAL_LONG_DISTANCE: (
        "международные и междугородные вызовы запрещены",
        "international and long-distance calls barred",
    ),
    Restriction.INTERNAL_ONLY: (
        "разрешены только внутренние вызовы",
        "only internal calls are allowed",
    ),
}


def national(e164: str) -> str:
    """'+74951112233' -> '4951112233' (what the manual's caller prefixes are matched against)."""
    if e164.startswith("+7"):
        return e164[2:]
    return e164.lstrip("+")


def classify(e164: str, home_area: str | None = None) -> Direction:
    if e164.startswith("+7"):
        kind = ru_number_type(e164[2:])
        if kind == "toll_free":
            return Direction.TOLL_FREE
        if kind == "mobile":
            return Direction.MOBILE
        if kind is not None:
            return (
                Direction.LOCAL
                if home_area and e164[2:].startswith(home_area)
                else (Direction.LONG_DISTANCE)
            )
    return _classify_slow(e164, home_area)


@lru_cache(maxsize=4096)
def _classify_slow(e164: str, home_area: str | None) -> Direction:
    parsed = phonenumbers.parse(e164, None)
    if phonenumbers.region_code_for_number(parsed) != "RU":
        return Direction.INTERNATIONAL
    kind = phonenumbers.number_type(parsed)
    if kind == PhoneNumberType.TOLL_FREE:
        return Direction.TOLL_FREE
    if kind == PhoneNumberType.MOBILE:
        return Direction.MOBILE
    if home_area and national(e164).startswith(home_area):
        return Direction.LOCAL
    return Direction.LONG_DISTANCE


def denied(restriction: Restriction, direction: Direction) -> bool:
    return direction in _DENIED.get(restriction, frozenset())
