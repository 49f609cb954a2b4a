"""Checking a bulk import into the company address book (spec 03 §7.3).

Rules:
- Имя: required, at most 200 characters.
- Группа: optional (empty = «Контакты вне групп»); a company group that does not exist is
  created; names match case-insensitively.
- Быстрый набор: 1–5 digits, unique in the company book and in the file; empty → the lowest
  free number from 10, skipping every number the file names. (Dialled as ``*NN``, so it does
  not share the extension space.)
- Phones: at least one of the five columns. Рабочий / Мобильный / Домашний / Другой телефон are
  normalised to E.164 and must be real numbers (``+7495112233`` is one digit short and
  ``+78992223344`` is an unallocated range: both refused). IP-телефон holds what an IP phone
  answers on: digits (an extension, or a pool routing number plus extension, 2–16 digits) or a
  SIP address ``user@host`` up to 32 characters (``sip:`` dropped, host lower-cased) — the same
  rule as ``server_stub.api.addressbook.normalise_phone``, repeated here because that module
  needs FastAPI and this package must not.
- A speed dial equal to the domain's pickup code without its '*' (``*8`` → ``8``) is refused and
  never auto-assigned: ``*8`` would pick up a call instead of dialling the contact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from server_stub.importing.common import (
    Allocator,
    Outcome,
    RowProblems,
    e164,
    ignored_columns,
    too_long,
)
from server_stub.importing.messages import REQUIRED, Msg
from server_stub.importing.reader import Column, Row, Table

# (column key, PhoneKind value): the kinds are ``server_stub.store.models.PhoneKind`` values.
PHONE_COLUMNS = (
    ("ip_phone", "ip"),
    ("work_phone", "work"),
    ("mobile_phone", "mobile"),
    ("home_phone", "home"),
    ("other_phone", "other"),
)
CONTACT_COLUMNS = (
    Column("name", "Имя", "Name"),
    Column("group", "Группа", "Group"),
    Column("speed_dial", "Быстрый набор", "Speed dial"),
    Column("ip_phone", "IP-телефон", "IP phone"),
    Column("work_phone", "Рабочий телефон", "Work phone"),
    Column("mobile_phone", "Мобильный телефон", "Mobile phone"),
    Column("home_phone", "Домашний телефон", "Home phone"),
    Column("other_phone", "Другой телефон", "Other phone"),
)
CONTACT_SAMPLE = (
    "Петров Пётр",
    "Бухгалтерия",
    "15",
    "",
    "+74951112233",
    "+79991112233",
    "",
    "",
)
SPEED_DIAL_START = 10
SPEED_DIAL_RE = re.compile(r"^[0-9]{1,5}$")
_IP_DIGITS = re.compile(r"^\d{2,16}$")
_SIP_ADDRESS = re.compile(
    r"^[A-Za-z0-9._+~-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.)*[A-Za-z0-9-]{1,63}(?::\d{1,5})?$"
)


@dataclass
class ContactContext:
    groups: dict[str, str]  # casefolded company group name -> name as stored
    speed_dials: set[str]  # used in the company book
    pickup_code: str = "*8"


@dataclass(frozen=True)
class NewContact:
    line: int
    name: str
    group: str | None
    speed_dial: str
    phones: tuple[tuple[str, str], ...]  # (PhoneKind value, number)


@dataclass
class ContactImport(Outcome[NewContact]):
    new_groups: list[str] | None = None


def _phone(kind: str, raw: str) -> tuple[str | None, Msg | None]:
    if kind == "ip":
        text = raw[4:] if raw.lower().startswith("sip:") else raw
        if _IP_DIGITS.match(text):
            return text, None
        if _SIP_ADDRESS.match(text) and len(text) <= 32:
            user, _, host = text.partition("@")
            return f"{user}@{host.lower()}", None
        return None, Msg(
            f"Неверный IP-телефон «{raw}»: внутренний номер (2–16 цифр) или SIP-адрес "
            "вида user@host до 32 символов",
            f"Bad IP phone '{raw}': an extension (2-16 digits) or a SIP address user@host, "
            "up to 32 characters",
        )
    return e164(raw)


def _parse(row: Row, ctx: ContactContext, bad: RowProblems) -> tuple[tuple[str, str], ...]:
    name = row.get("name")
    if not name:
        bad.add(row, "name", REQUIRED)
    elif len(name) > 200:
        bad.add(row, "name", too_long(200))
    group = " ".join(row.get("group").split())
    if len(group) > 120:
        bad.add(row, "group", too_long(120))
    speed = row.get("speed_dial")
    if speed and not SPEED_DIAL_RE.match(speed):
        bad.add(
            row,
            "speed_dial",
            Msg("Быстрый набор: от 1 до 5 цифр", "Speed dial: 1 to 5 digits"),
        )
    elif speed and "*" + speed == ctx.pickup_code:
        bad.add(
            row,
            "speed_dial",
            Msg(
                f"*{speed} — код перехвата вызова домена",
                f"*{speed} is the domain's call pickup code",
            ),
        )
    elif speed in ctx.speed_dials:
        bad.add(
            row,
            "speed_dial",
            Msg(
                f"Номер быстрого набора {speed} уже используется в адресной книге компании",
                f"The speed dial {speed} is already used in the company address book",
            ),
        )
    phones: list[tuple[str, str]] = []
    for key, kind in PHONE_COLUMNS:
        raw = row.get(key)
        if not raw:
            continue
        number, problem = _phone(kind, raw)
        if problem is not None:
            bad.add(row, key, problem)
        elif number is not None:
            phones.append((kind, number))
    bad.require_one_of(row, (key for key, _ in PHONE_COLUMNS))
    return tuple(phones)


def check_contacts(table: Table, ctx: ContactContext) -> ContactImport:
    out = ContactImport(rows_total=len(table.rows), warnings=ignored_columns(table))
    bad = RowProblems(table, out.errors)
    parsed = [(row, _parse(row, ctx, bad)) for row in table.rows]
    bad.flag_duplicates("speed_dial", ((row, row.get("speed_dial")) for row, _ in parsed))

    named = {r.get("speed_dial") for r, _ in parsed if SPEED_DIAL_RE.match(r.get("speed_dial"))}
    reserved = {ctx.pickup_code.removeprefix("*")}
    dials = Allocator(ctx.speed_dials | named | reserved, SPEED_DIAL_START)
    group_names = dict(ctx.groups)
    out.new_groups = []
    for row, phones in parsed:
        if row.line in bad.bad_lines:
            continue
        speed = row.get("speed_dial") or dials.take()
        if speed is None:
            bad.add(row, "speed_dial", Msg("Нет свободных номеров", "No free speed dial is left"))
            continue
        group = " ".join(row.get("group").split()) or None
        if group is not None:
            if group.casefold() not in group_names:
                group_names[group.casefold()] = group
                out.new_groups.append(group)
            group = group_names[group.casefold()]
        out.valid.append(NewContact(row.line, row.get("name"), group, speed, phones))
    out.sort()
    return out
