"""The routing engine's input: a plain, immutable snapshot of one domain's configuration.

The store builds it (``server_stub.store.snapshot``); tests build it by hand. Nothing here
knows about SQLAlchemy or HTTP, so a decision is a pure function of (call, snapshot, time).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from server_stub.routing import schedule as week


class Restriction(StrEnum):
    INHERIT = "inherit"
    NONE = "none"
    NO_INTERNATIONAL = "no_international"
    NO_INTERNATIONAL_LONG_DISTANCE = "no_international_long_distance"
    INTERNAL_ONLY = "internal_only"


class Algorithm(StrEnum):
    NOT_SET = "not_set"
    RING_ALL = "ring_all"
    SERIAL = "serial"
    ADD_NEXT = "add_next"
    RANDOM = "random"
    LONGEST_IDLE = "longest_idle"
    LEAST_BUSY = "least_busy"


ACD = frozenset({Algorithm.RANDOM, Algorithm.LONGEST_IDLE, Algorithm.LEAST_BUSY})


class TargetKind(StrEnum):
    USER = "user"
    USER_VOICEMAIL = "user_voicemail"
    USER_FAX = "user_fax"
    GROUP = "group"
    GROUP_VOICEMAIL = "group_voicemail"
    GROUP_FAX = "group_fax"
    IVR = "ivr"
    EXTERNAL = "external"
    PRIVATE_ROUTE = "private_route"
    HANGUP = "hangup"


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    ref: int | None = None  # user / group / IVR id
    number: str = ""  # external or private-route number


def _compile(intervals: dict[str, Any] | None) -> week.Compiled | None:
    return week.Compiled(intervals) if intervals is not None else None


@dataclass(frozen=True)
class Condition:
    """Schedule and caller-prefix conditions of a rule; both present means AND.

    ``schedule`` is a week grid (see ``routing.schedule``) and ``when`` names the interval
    that must be active: "working", "non_working" or the name of an extra interval.
    ``prefixes`` match the caller's national number (+7 495… → "495…"); several are OR.
    """

    schedule: dict[str, Any] | None = None
    when: str = "working"
    prefixes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "compiled", _compile(self.schedule))


@dataclass(frozen=True)
class Rule:
    priority: int
    target: Target
    condition: Condition = field(default_factory=Condition)
    active: bool = True
    name: str = ""


class ListMode(StrEnum):
    NONE = "none"
    BLACK = "black"
    WHITE = "white"


@dataclass(frozen=True)
class NumberCfg:
    e164: str
    kind: str = "landline"  # landline | toll_free | mobile
    rules: tuple[Rule, ...] = ()
    list_mode: ListMode = ListMode.NONE
    listed: frozenset[str] = frozenset()  # E.164 numbers of the black or white list


@dataclass(frozen=True)
class ForwardRule:
    """One contact of a user's forwarding scheme; the built-in SIP contact has ``sip=True``."""

    priority: int = 10
    ring_seconds: int = 40
    number: str = ""  # E.164 for external contacts; empty for the built-in SIP contact
    sip: bool = False
    schedule: dict[str, Any] | None = None  # None: every day, around the clock
    when: str = "working"
    enabled: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "compiled", _compile(self.schedule))


@dataclass(frozen=True)
class UserCfg:
    id: int
    login: str
    extension: str
    display_name: str = ""
    restriction: Restriction = Restriction.INHERIT
    outgoing_number: str | None = None  # E.164 caller ID; None uses the domain default
    voicemail: bool = False
    forwarding: tuple[ForwardRule, ...] = (ForwardRule(sip=True),)
    is_operator: bool = False
    active: bool = True
    pickup_group: int | None = None


@dataclass(frozen=True)
class Member:
    user_id: int
    priority: int = 10


@dataclass(frozen=True)
class GroupCfg:
    id: int
    name: str
    extension: str
    algorithm: Algorithm = Algorithm.NOT_SET
    members: tuple[Member, ...] = ()
    voicemail: bool = False
    step_seconds: int = 15
    total_wait_seconds: int = 60
    answer_seconds: int = 20


@dataclass(frozen=True)
class DomainCfg:
    id: int
    name: str
    timezone: str = "Europe/Moscow"
    routing_number: str | None = None
    default_restriction: Restriction = Restriction.NONE
    default_outgoing_number: str | None = None
    pickup_code: str = "*8"
    users: tuple[UserCfg, ...] = ()
    groups: tuple[GroupCfg, ...] = ()
    numbers: tuple[NumberCfg, ...] = ()
    # *NN speed dials: personal ones per user id, then the company book.
    personal_speed_dials: dict[int, dict[str, str]] = field(default_factory=dict)
    company_speed_dials: dict[str, str] = field(default_factory=dict)
    toll_free_numbers: frozenset[str] = frozenset()
    # Other domains of the same pool: routing number -> domain name (inter-domain dialling).
    pool_routing: dict[str, str] = field(default_factory=dict)
    blocked_reason: str | None = None  # set when the domain is blocked (billing hook)

    def __post_init__(self) -> None:
        # Lookup tables: a snapshot is built once and asked thousands of times.
        object.__setattr__(self, "_by_ext", {u.extension: u for u in self.users})
        object.__setattr__(self, "_by_id", {u.id: u for u in self.users})
        object.__setattr__(self, "_groups_by_ext", {g.extension: g for g in self.groups})
        object.__setattr__(self, "_groups_by_id", {g.id: g for g in self.groups})
        object.__setattr__(self, "_numbers", {n.e164: n for n in self.numbers})

    def user_by_extension(self, ext: str) -> UserCfg | None:
        return self._by_ext.get(ext)  # type: ignore[attr-defined,no-any-return]

    def user(self, user_id: int) -> UserCfg | None:
        return self._by_id.get(user_id)  # type: ignore[attr-defined,no-any-return]

    def group_by_extension(self, ext: str) -> GroupCfg | None:
        return self._groups_by_ext.get(ext)  # type: ignore[attr-defined,no-any-return]

    def group(self, group_id: int) -> GroupCfg | None:
        return self._groups_by_id.get(group_id)  # type: ignore[attr-defined,no-any-return]

    def number(self, e164: str) -> NumberCfg | None:
        return self._numbers.get(e164)  # type: ignore[attr-defined,no-any-return]
