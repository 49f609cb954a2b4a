"""Bulk import of users and company contacts (check, then create) and the user price quote.

Flow (manual §7.3, §12): download a template → fill it in → ``check`` reports every bad row,
the warnings and the price, writing nothing → ``create`` validates the same file again and
creates every valid row, and the groups they name, in one transaction with one audit row per
created object. A file with a file-level error (e.g. over the domain's user limit) is refused
whole by ``create``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, File, Query, Request, Response, UploadFile
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server_stub.api import audit
from server_stub.api.crud import publish
from server_stub.api.deps import DomainAdmin, Principal, SessionDep
from server_stub.api.errors import ApiError, FieldProblem, Text, language, not_found
from server_stub.billing.quote import UserQuote, kopecks_to_roubles, quote_users
from server_stub.importing import store
from server_stub.importing.common import Outcome
from server_stub.importing.contacts import CONTACT_COLUMNS, CONTACT_SAMPLE, check_contacts
from server_stub.importing.messages import FileProblem, Msg
from server_stub.importing.reader import MAX_BYTES, Column, Table, read_table
from server_stub.importing.template import (
    CSV_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    template_csv,
    template_xlsx,
)
from server_stub.importing.users import USER_COLUMNS, USER_SAMPLE, UserImport, check_users
from server_stub.store.models import Domain

router = APIRouter(tags=["import"])

Format = Annotated[Literal["csv", "xlsx"], Query(description="Template file format")]
Upload = Annotated[UploadFile, File(description="The filled-in template: CSV or XLSX")]


class ImportProblem(BaseModel):
    line: int | None  # the spreadsheet row (header = 1); None for the file as a whole
    column: str | None  # "D (Внутренний номер)"
    field: str
    value: str
    message: str


class Quote(BaseModel):
    monthly_delta: str
    connection_fee: str
    today_charge: str


class ImportCheck(BaseModel):
    rows_total: int
    rows_valid: int
    rows_invalid: int
    errors: list[ImportProblem]
    warnings: list[ImportProblem]
    new_groups: list[str]


class UserImportCheck(ImportCheck):
    quote: Quote


class ImportResult(BaseModel):
    created: int
    skipped_invalid: int
    groups_created: list[str]
    errors: list[ImportProblem]
    warnings: list[ImportProblem]


# --- helpers ------------------------------------------------------------------------------


def _today(timezone: str) -> date:
    """Today in the domain's time zone: the billing day the charge falls on."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("Europe/Moscow")
    return datetime.now(zone).date()


def _domain(session: Session, principal: Principal) -> Domain:
    domain = session.get(Domain, principal.domain_id)
    if domain is None:
        raise not_found("domain")
    return domain


def _quote(session: Session, domain: Domain, count: int) -> UserQuote:
    return quote_users(
        users_now=store.count_users(session, domain.id),
        users_new=count,
        users_included=domain.users_included,
        extra_user_monthly=kopecks_to_roubles(domain.extra_user_monthly_kopecks),
        connection_fee=kopecks_to_roubles(domain.user_connection_kopecks),
        today=_today(domain.timezone),
    )


def read_upload(file: UploadFile, columns: tuple[Column, ...]) -> Table:
    # One byte more than allowed is enough to tell that the file is too big.
    data = file.file.read(MAX_BYTES + 1)
    try:
        return read_table(data, columns)
    except FileProblem as exc:
        raise ApiError(
            422,
            "bad_import_file",
            Text(f"Файл не принят: {exc.message.ru}", f"The file was refused: {exc.message.en}"),
            [FieldProblem("file", Text(exc.message.ru, exc.message.en))],
        ) from exc


def import_problems(outcome: Outcome[Any], lang: str) -> dict[str, Any]:
    return {
        "errors": [p.as_dict(lang) for p in outcome.errors],
        "warnings": [p.as_dict(lang) for p in outcome.warnings],
    }


def _refuse(message: Msg) -> ApiError:
    return ApiError(
        422,
        "import_refused",
        Text(f"Импорт отклонён: {message.ru}", f"The import was refused: {message.en}"),
        [FieldProblem("file", Text(message.ru, message.en))],
    )


def _conflict() -> ApiError:
    # Another request took a login, extension or group name between our check and our insert.
    return ApiError(
        409,
        "conflict",
        Text(
            "Данные изменились во время импорта (дубликат): проверьте файл ещё раз",
            "The data changed during the import (a duplicate): check the file again",
        ),
    )


def template_response(
    columns: tuple[Column, ...], sample: tuple[str, ...], name: str, fmt: str
) -> Response:
    if fmt == "csv":
        content, media = template_csv(columns, sample), CSV_MEDIA_TYPE
    else:
        content, media = template_xlsx(columns, sample, name), XLSX_MEDIA_TYPE
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name.lower()}-template.{fmt}"'},
    )


# --- templates ----------------------------------------------------------------------------


@router.get(
    "/import/users/template",
    operation_id="get_user_import_template",
    response_class=Response,
    responses={200: {"content": {CSV_MEDIA_TYPE: {}, XLSX_MEDIA_TYPE: {}}}},
)
def user_template(principal: DomainAdmin, format: Format = "xlsx") -> Response:
    return template_response(USER_COLUMNS, USER_SAMPLE, "Users", format)


@router.get(
    "/import/contacts/template",
    operation_id="get_contact_import_template",
    response_class=Response,
    responses={200: {"content": {CSV_MEDIA_TYPE: {}, XLSX_MEDIA_TYPE: {}}}},
)
def contact_template(principal: DomainAdmin, format: Format = "xlsx") -> Response:
    return template_response(CONTACT_COLUMNS, CONTACT_SAMPLE, "Contacts", format)


# --- users --------------------------------------------------------------------------------


def _check_users(session: Session, domain: Domain, file: UploadFile) -> UserImport:
    table = read_upload(file, USER_COLUMNS)
    return check_users(table, store.user_context(session, domain))


@router.post(
    "/import/users/check", response_model=UserImportCheck, operation_id="check_user_import"
)
def check_user_import(
    request: Request, session: SessionDep, principal: DomainAdmin, file: Upload
) -> UserImportCheck:
    domain = _domain(session, principal)
    outcome = _check_users(session, domain, file)
    quote = _quote(session, domain, outcome.rows_valid)
    return UserImportCheck(
        rows_total=outcome.rows_total,
        rows_valid=outcome.rows_valid,
        rows_invalid=outcome.rows_invalid,
        new_groups=[g.name for g in outcome.new_groups or []],
        quote=Quote(**quote.as_strings()),
        **import_problems(outcome, language(request)),
    )


@router.post("/import/users/create", response_model=ImportResult, operation_id="create_user_import")
def create_user_import(
    request: Request, session: SessionDep, principal: DomainAdmin, file: Upload
) -> ImportResult:
    domain = _domain(session, principal)
    outcome = _check_users(session, domain, file)
    if outcome.blocking is not None:
        raise _refuse(outcome.blocking)
    try:
        users, groups, memberships = store.create_users(session, domain, outcome)
    except IntegrityError as exc:
        session.rollback()
        raise _conflict() from exc
    # Object types and events as /api/groups and /api/users name them.
    for group in groups:
        after = audit.snapshot(group)
        audit.record(session, principal, "create", "group", group.id, group.name, None, after)
    for user in users:
        after = {**audit.snapshot(user), "group_ids": memberships[user.id]}
        audit.record(session, principal, "create", "user", user.id, user.login, None, after)
    session.commit()
    new_ids = {g.id for g in groups}
    joined = sorted({gid for ids in memberships.values() for gid in ids} - new_ids)
    for group in groups:
        publish(request, "group.created", domain.id, {"id": group.id})
    for user in users:
        publish(request, "user.created", domain.id, {"id": user.id})
    for group_id in joined:
        publish(request, "group.updated", domain.id, {"id": group_id})
    return ImportResult(
        created=len(users),
        skipped_invalid=outcome.rows_invalid,
        groups_created=[g.name for g in groups],
        **import_problems(outcome, language(request)),
    )


# --- contacts -----------------------------------------------------------------------------


@router.post(
    "/import/contacts/check", response_model=ImportCheck, operation_id="check_contact_import"
)
def check_contact_import(
    request: Request, session: SessionDep, principal: DomainAdmin, file: Upload
) -> ImportCheck:
    domain = _domain(session, principal)
    table = read_upload(file, CONTACT_COLUMNS)
    outcome = check_contacts(table, store.contact_context(session, domain))
    return ImportCheck(
        rows_total=outcome.rows_total,
        rows_valid=outcome.rows_valid,
        rows_invalid=outcome.rows_invalid,
        new_groups=list(outcome.new_groups or []),
        **import_problems(outcome, language(request)),
    )


@router.post(
    "/import/contacts/create", response_model=ImportResult, operation_id="create_contact_import"
)
def create_contact_import(
    request: Request, session: SessionDep, principal: DomainAdmin, file: Upload
) -> ImportResult:
    domain = _domain(session, principal)
    table = read_upload(file, CONTACT_COLUMNS)
    outcome = check_contacts(table, store.contact_context(session, domain))
    try:
        contacts, groups = store.create_contacts(session, domain.id, outcome)
    except IntegrityError as exc:
        session.rollback()
        raise _conflict() from exc
    for group in groups:
        after = audit.snapshot(group)
        audit.record(
            session, principal, "create", "contact_group", group.id, group.name, None, after
        )
    for contact in contacts:
        after = {
            **audit.snapshot(contact),
            "phones": [{"kind": p.kind.value, "number": p.number} for p in contact.phones],
        }
        audit.record(session, principal, "create", "contact", contact.id, contact.name, None, after)
    session.commit()
    for group in groups:
        publish(request, "contact_group.created", domain.id, {"id": group.id})
    for contact in contacts:
        publish(request, "contact.created", domain.id, {"id": contact.id})
    return ImportResult(
        created=len(contacts),
        skipped_invalid=outcome.rows_invalid,
        groups_created=[g.name for g in groups],
        **import_problems(outcome, language(request)),
    )


# --- quote --------------------------------------------------------------------------------


@router.get("/quotes/users", response_model=Quote, operation_id="quote_users")
def quote_new_users(
    session: SessionDep,
    principal: DomainAdmin,
    count: Annotated[int, Query(ge=1, le=10_000, description="How many users to add")] = 1,
) -> Quote:
    """The price shown in the «Новый пользователь» dialog before the user is created."""
    domain = _domain(session, principal)
    return Quote(**_quote(session, domain, count).as_strings())
