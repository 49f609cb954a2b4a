"""The domain's telephone numbers and the week schedules that numbers route by.

Numbers: every user may read them (the outgoing-number dropdowns), only the admin changes them.
A number belongs to exactly one domain on the whole platform, so a duplicate is refused
without saying which domain holds it.

Deleting a number clears every reference to it: a user whose outgoing number it was goes back
to the domain default, and the domain default becomes «Не указан». The database would do the
same (``ON DELETE SET NULL``); doing it here as well records each cleared reference in the
action history.
"""

from __future__ import annotations

from typing import Any

import phonenumbers
from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from server_stub.api import audit
from server_stub.api.crud import Ctx, Resource, ensure_unique
from server_stub.api.deps import ADMIN, USER
from server_stub.api.errors import conflict, field_error
from server_stub.api.fields import PhoneNumber
from server_stub.routing.schedule import ScheduleProblem, validate
from server_stub.store.models import Number, NumberKind, Schedule, User

# --- numbers ------------------------------------------------------------------------------


class NumberRead(BaseModel):
    id: int
    e164: str
    kind: NumberKind
    name: str
    schedule_id: int | None
    list_mode: str  # none | black | white (set with PUT /api/numbers/{id}/list-mode)


class NumberCreate(BaseModel):
    e164: PhoneNumber
    kind: NumberKind | None = Field(
        default=None, description="Derived from the number when omitted (8-800 → toll_free)."
    )
    name: str = Field(default="", max_length=120)
    schedule_id: int | None = None


class NumberUpdate(BaseModel):
    e164: PhoneNumber | None = None
    kind: NumberKind | None = None
    name: str | None = Field(default=None, max_length=120)
    schedule_id: int | None = None


def _is_toll_free(e164: str) -> bool:
    parsed = phonenumbers.parse(e164)
    return phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.TOLL_FREE


def _natural_kind(e164: str) -> NumberKind:
    parsed = phonenumbers.parse(e164)
    kind = phonenumbers.number_type(parsed)
    if kind == phonenumbers.PhoneNumberType.TOLL_FREE:
        return NumberKind.TOLL_FREE
    if kind == phonenumbers.PhoneNumberType.MOBILE:
        return NumberKind.MOBILE
    return NumberKind.LANDLINE


def _used_as_outgoing(ctx: Ctx, number_id: int) -> bool:
    if ctx.domain.default_outgoing_number_id == number_id:
        return True
    stmt = select(User.id).where(
        User.domain_id == ctx.domain_id, User.outgoing_number_id == number_id
    )
    return ctx.session.execute(stmt.limit(1)).first() is not None


def _apply_number(ctx: Ctx, obj: Number, data: dict[str, Any], creating: bool) -> None:
    e164 = data.get("e164") or obj.e164
    if data.get("e164") is not None:
        # Global: a number is connected to one domain only. Which one is nobody else's business.
        clash = select(Number.id).where(Number.e164 == e164)
        if obj.id is not None:
            clash = clash.where(Number.id != obj.id)
        if ctx.session.execute(clash.limit(1)).first() is not None:
            raise conflict(
                "e164",
                "Этот номер уже подключён и недоступен",
                "This number is already connected and is not available",
            )
    kind = data.get("kind") or (None if creating else obj.kind)
    if kind is None or (
        "kind" not in data and (kind == NumberKind.TOLL_FREE) != _is_toll_free(e164)
    ):
        # Not given (or a new number of another class given without its kind): follow the number.
        kind = _natural_kind(e164)
    # The kind drives the "an 8-800 number is never a caller ID" rule, so it must match.
    if (kind == NumberKind.TOLL_FREE) != _is_toll_free(e164):
        raise field_error(
            "kind",
            "Тип не соответствует номеру: номера 8-800 (и только они) — бесплатные",
            "The kind does not match the number: 8-800 numbers (and only they) are toll-free",
        )
    if kind == NumberKind.TOLL_FREE and obj.id is not None and _used_as_outgoing(ctx, obj.id):
        raise field_error(
            "kind" if "kind" in data else "e164",
            "Номер используется для исходящих вызовов; номер 8-800 для этого не годится",
            "The number is used for outgoing calls; an 8-800 number cannot be",
        )
    if "schedule_id" in data and data["schedule_id"] is not None:
        found = ctx.session.execute(
            select(Schedule.id).where(
                Schedule.id == data["schedule_id"], Schedule.domain_id == ctx.domain_id
            )
        ).first()
        if found is None:
            raise field_error("schedule_id", "Расписание не найдено", "No such schedule")
    obj.e164, obj.kind = e164, kind
    if data.get("name") is not None:
        obj.name = data["name"].strip()
    if "schedule_id" in data:
        obj.schedule_id = data["schedule_id"]


def _release_number(ctx: Ctx, obj: Number) -> None:
    """Clear the references to a number being deleted, each with its own history row."""
    users = ctx.session.execute(
        select(User).where(User.domain_id == ctx.domain_id, User.outgoing_number_id == obj.id)
    ).scalars()
    for user in users:
        before = audit.snapshot(user)
        user.outgoing_number_id = None
        audit.record(
            ctx.session, ctx.principal, "update", "user", user.id, user.login, before,
            audit.snapshot(user),
        )  # fmt: skip
    domain = ctx.domain
    if domain.default_outgoing_number_id == obj.id:
        before = audit.snapshot(domain)
        domain.default_outgoing_number_id = None
        audit.record(
            ctx.session, ctx.principal, "update", "domain", domain.id, domain.name, before,
            audit.snapshot(domain),
        )  # fmt: skip
    ctx.session.flush()


numbers: Resource[Number] = Resource(
    path="/numbers",
    tag="numbers",
    model=Number,
    object_type="number",
    read=NumberRead,
    create=NumberCreate,
    update=NumberUpdate,
    read_roles=(USER,),
    write_roles=(ADMIN,),
    apply=_apply_number,
    name_of=lambda o: o.e164,
    search_columns=("e164", "name"),
    before_delete=_release_number,
    order_by="e164",
)

# --- schedules ----------------------------------------------------------------------------


class ScheduleRead(BaseModel):
    id: int
    name: str
    is_company: bool
    intervals: dict[str, Any]


class ScheduleCreate(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    is_company: bool = False
    intervals: dict[str, Any] = Field(
        default_factory=dict,
        description='{"working": [[0, "09:00", "18:00"]], "extra": [{"name": ..., '
        '"intervals": [...]}]}; weekday 0 = Monday; at most 3 extras.',
    )


class ScheduleUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    is_company: bool | None = None
    intervals: dict[str, Any] | None = None


def _apply_schedule(ctx: Ctx, obj: Schedule, data: dict[str, Any], creating: bool) -> None:
    data = {k: v for k, v in data.items() if v is not None}
    if "name" in data:
        data["name"] = data["name"].strip()
        if not data["name"]:
            raise field_error("name", "Название обязательно", "A name is required")
        ensure_unique(ctx, Schedule, "name", data["name"], "name", exclude_id=obj.id)
    if data.get("is_company"):
        others = select(Schedule.id).where(
            Schedule.domain_id == ctx.domain_id, Schedule.is_company.is_(True)
        )
        if obj.id is not None:
            others = others.where(Schedule.id != obj.id)
        if ctx.session.execute(others.limit(1)).first() is not None:
            raise conflict(
                "is_company",
                "Расписание компании уже задано; у домена оно одно",
                "The company schedule is already set; a domain has only one",
            )
    if "intervals" in data or creating:
        try:
            data["intervals"] = validate(data.get("intervals", {}))
        except ScheduleProblem as exc:
            path = f"intervals.{exc.path}" if exc.path else "intervals"
            raise field_error(path, exc.ru, exc.en) from None
    for key, value in data.items():
        setattr(obj, key, value)


def _release_schedule(ctx: Ctx, obj: Schedule) -> None:
    """Numbers routed by a deleted schedule fall back to «Круглосуточно» (no schedule)."""
    for number in ctx.session.execute(
        select(Number).where(Number.domain_id == ctx.domain_id, Number.schedule_id == obj.id)
    ).scalars():
        number.schedule_id = None
    ctx.session.flush()


schedules: Resource[Schedule] = Resource(
    path="/schedules",
    tag="numbers",
    model=Schedule,
    object_type="schedule",
    read=ScheduleRead,
    create=ScheduleCreate,
    update=ScheduleUpdate,
    read_roles=(ADMIN,),
    write_roles=(ADMIN,),
    apply=_apply_schedule,
    search_columns=("name",),
    before_delete=_release_schedule,
    order_by="name",
)

router = APIRouter()
router.include_router(numbers.router())
router.include_router(schedules.router())
