"""Checking a bulk user import (manual §7.3, spec 01 §9.3) against the domain's current state.

Rules (the shared ones come from ``server_stub.api.security``):
- Логин: required, ``login_problem``; unique in the file and in the domain.
- Пароль: required, ``password_problem`` (≥ 8 characters of three of four kinds).
- Отображаемое имя: required, at most 200 characters.
- Внутренний номер: 2–5 digits, unique in the file and in the domain (users and call groups share
  the space); empty → the lowest free number from 100, skipping every number the file names.
- Названия групп: required, comma-separated; a group that does not exist is created (with the
  next free extension) — only groups that a *valid* row needs.
- АОН для исходящих вызовов: optional; a number that is malformed, not the domain's or toll-free
  is a *warning*: the user is created with the domain default (manual L1707).
- Email: optional; the same permissive check as the single-user form (``api.directory``):
  corporate ``.local`` addresses are real, and a typo shows up as a bounce.
- The users already in the domain plus the valid rows must not exceed ``Domain.max_users``:
  a file-level error, and create refuses the whole file.
Duplicates in the file flag every row involved with «Значение в списке не уникально».
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from server_stub.api.security import EXTENSION_RE, login_problem, password_problem
from server_stub.importing.common import (
    Allocator,
    Outcome,
    RowProblems,
    ignored_columns,
    split_names,
    too_long,
)
from server_stub.importing.messages import REQUIRED, Msg, Problem
from server_stub.importing.reader import Column, Row, Table
from server_stub.phones import BadNumber, to_e164

USER_COLUMNS = (
    Column("login", "Логин", "Login"),
    Column("password", "Пароль", "Password"),
    Column("display_name", "Отображаемое имя", "Display name"),
    Column("extension", "Внутренний номер", "Extension"),
    Column("groups", "Названия групп", "Group names"),
    Column("caller_id", "АОН для исходящих вызовов", "Outgoing caller ID"),
    Column("email", "Email", "Email"),
)
USER_SAMPLE = (
    "ivanov.ii",
    "G7zNo0vHDTDGyVAdQ5Wp",
    "Иванов Иван Иванович",
    "3020",
    "Операторы",
    "",
    "ivanov@company.name",
)
EXTENSION_START = 100
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class DomainNumber:
    id: int
    usable_as_caller_id: bool  # toll-free (8-800) numbers never are


@dataclass
class UserContext:
    """What validation needs to know about the domain (loaded once per file)."""

    logins: set[str]
    extensions: set[str]  # users and call groups
    groups: dict[str, str]  # casefolded call-group name -> name as stored
    numbers: dict[str, DomainNumber]  # E.164 -> the domain's number
    users_now: int
    max_users: int


@dataclass(frozen=True)
class NewUser:
    line: int
    login: str
    password: str
    display_name: str
    extension: str
    groups: tuple[str, ...]  # call-group names as they will be stored
    outgoing_number_id: int | None
    email: str


@dataclass(frozen=True)
class NewGroup:
    name: str
    extension: str


@dataclass
class UserImport(Outcome[NewUser]):
    new_groups: list[NewGroup] | None = None


@dataclass
class _Parsed:
    row: Row
    groups: list[str]
    email: str
    number_id: int | None


def _cell_checks(row: Row, ctx: UserContext, bad: RowProblems, warnings: list[Problem]) -> _Parsed:
    login = row.get("login")
    if not login:
        bad.add(row, "login", REQUIRED)
    elif (problem := login_problem(login)) is not None:
        bad.add(row, "login", Msg(*problem))
    elif login in ctx.logins:
        bad.add(
            row,
            "login",
            Msg(
                f"Логин «{login}» уже используется в домене",
                f"The login '{login}' is already in use in the domain",
            ),
        )

    password = row.get("password")
    if not password:
        bad.add(row, "password", REQUIRED)
    elif (problem := password_problem(password)) is not None:
        bad.add(row, "password", Msg(*problem))

    name = _clean(row.get("display_name"))
    if not name:
        bad.add(row, "display_name", REQUIRED)
    elif len(name) > 200:
        bad.add(row, "display_name", too_long(200))

    extension = row.get("extension")
    if extension and not EXTENSION_RE.match(extension):
        bad.add(
            row, "extension", Msg("Внутренний номер: от 2 до 5 цифр", "Extension: 2 to 5 digits")
        )
    elif extension in ctx.extensions:
        bad.add(
            row,
            "extension",
            Msg(
                f"Внутренний номер {extension} уже занят (пользователем или группой)",
                f"The extension {extension} is already taken (by a user or a group)",
            ),
        )

    groups = split_names(row.get("groups"))
    if not groups:
        bad.add(
            row,
            "groups",
            Msg(
                "Укажите хотя бы одну группу (несколько — через запятую)",
                "Name at least one group (several separated by commas)",
            ),
        )
    elif any(len(g) > 120 for g in groups):
        bad.add(row, "groups", too_long(120))

    email = row.get("email")
    if email and (len(email) > 254 or not _EMAIL_RE.match(email)):
        bad.add(
            row,
            "email",
            Msg("Неверный адрес электронной почты", "This is not a valid e-mail address"),
        )
    return _Parsed(row, groups, email, _caller_id(row, ctx, bad, warnings))


def _caller_id(row: Row, ctx: UserContext, bad: RowProblems, warnings: list[Problem]) -> int | None:
    raw = row.get("caller_id")
    if not raw:
        return None
    tail = "пользователь будет создан с настройками по умолчанию"
    tail_en = "the user will be created with the default settings"
    try:
        e164 = to_e164(raw)
    except BadNumber as exc:
        msg = Msg(f"Неверный номер АОН ({exc.ru}): {tail}", f"Bad caller ID ({exc.en}): {tail_en}")
    else:
        number = ctx.numbers.get(e164)
        if number is not None and number.usable_as_caller_id:
            return number.id
        if number is None:
            msg = Msg(
                f"Номер {e164} не принадлежит домену: {tail}",
                f"The number {e164} does not belong to the domain: {tail_en}",
            )
        else:
            msg = Msg(
                f"Номер {e164} (8-800) нельзя использовать как АОН: {tail}",
                f"The toll-free number {e164} cannot be a caller ID: {tail_en}",
            )
    warnings.append(Problem(row.line, bad.table.where("caller_id"), "caller_id", raw, msg))
    return None


def check_users(table: Table, ctx: UserContext) -> UserImport:
    out = UserImport(rows_total=len(table.rows), warnings=ignored_columns(table))
    bad = RowProblems(table, out.errors)
    parsed = [_cell_checks(row, ctx, bad, out.warnings) for row in table.rows]
    bad.flag_duplicates("login", ((p.row, p.row.get("login")) for p in parsed))
    bad.flag_duplicates("extension", ((p.row, p.row.get("extension")) for p in parsed))

    # Numbers the file names explicitly are never handed out automatically, even those of
    # bad rows: once fixed and imported again they must still be free.
    named = {p.row.get("extension") for p in parsed if EXTENSION_RE.match(p.row.get("extension"))}
    numbers = Allocator(ctx.extensions | named, EXTENSION_START)
    group_names = dict(ctx.groups)
    new_groups: list[str] = []
    for p in parsed:
        if p.row.line in bad.bad_lines:
            continue
        extension = p.row.get("extension") or numbers.take()
        if extension is None:
            bad.add(p.row, "extension", _no_free_extension())
            continue
        names = []
        for name in p.groups:
            if name.casefold() not in group_names:
                group_names[name.casefold()] = name
                new_groups.append(name)
            names.append(group_names[name.casefold()])
        row = p.row
        out.valid.append(
            NewUser(
                line=row.line,
                login=row.get("login"),
                password=row.get("password"),
                display_name=_clean(row.get("display_name")),
                extension=extension,
                groups=tuple(names),
                outgoing_number_id=p.number_id,
                email=p.email,
            )
        )

    out.new_groups = []
    for name in new_groups:
        extension = numbers.take()
        if extension is None:
            out.errors.append(Problem(None, None, "groups", name, _no_free_extension()))
            out.blocking = _no_free_extension()
            break
        out.new_groups.append(NewGroup(name, extension))

    room = ctx.max_users - ctx.users_now
    if len(out.valid) > room:
        limit = Msg(
            f"Превышено максимальное число пользователей домена: готово к созданию "
            f"{len(out.valid)}, можно добавить не более {max(room, 0)}",
            f"The domain's user limit would be exceeded: {len(out.valid)} ready to create, "
            f"at most {max(room, 0)} can be added",
        )
        out.errors.append(Problem(None, None, "file", str(len(out.valid)), limit))
        out.blocking = limit
    out.sort()
    return out


def _clean(text: str) -> str:
    return " ".join(text.split())


def _no_free_extension() -> Msg:
    return Msg("Нет свободных внутренних номеров", "No free extension is left")
