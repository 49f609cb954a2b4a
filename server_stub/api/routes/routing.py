"""Routing configuration: rules of incoming numbers, black/white lists, users' forwarding
schemes, and "simulate a call" (the route trace for a hypothetical call).

Choices where the manual is silent: rule priorities are renumbered 1..n on reorder; IVR
targets are refused until IVR scenarios exist (no dangling references); a forwarding contact's
ring time is 5–120 s; a user edits their own scheme, an admin anyone's in the domain.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import ColumnElement, delete, func, select

from server_stub.api import audit
from server_stub.api.crud import Ctx, Resource, ensure_unique, publish
from server_stub.api.deps import ADMIN, USER, Principal, SessionDep, require_domain
from server_stub.api.errors import ApiError, Text, field_error, language, not_found
from server_stub.api.fields import PhoneNumber, Priority
from server_stub.routing import schedule as week
from server_stub.routing.engine import Call, route
from server_stub.store import snapshot
from server_stub.store.models import (
    CallGroup,
    Domain,
    ForwardingContact,
    ListMode,
    Number,
    NumberFilter,
    RoutingRule,
    RuleTarget,
    Schedule,
    User,
)

router = APIRouter()
AdminDep = Annotated[Principal, Depends(require_domain(ADMIN))]
USER_TARGETS = {RuleTarget.USER, RuleTarget.USER_VOICEMAIL, RuleTarget.USER_FAX}
GROUP_TARGETS = {RuleTarget.GROUP, RuleTarget.GROUP_VOICEMAIL, RuleTarget.GROUP_FAX}


def _own(ctx: Ctx, model: type[Any], obj_id: int | None, field_name: str) -> Any:
    """The object ``obj_id`` of the caller's domain, or a 422 naming ``field_name``."""
    obj = ctx.session.get(model, obj_id) if obj_id is not None else None
    if obj is None or obj.domain_id != ctx.domain_id:
        raise field_error(field_name, "объект не найден в домене", "no such object in the domain")
    return obj


def _check_schedule_when(ctx: Ctx, schedule_id: int | None, when: str, field_name: str) -> None:
    if schedule_id is None:
        return
    sched: Schedule = _own(ctx, Schedule, schedule_id, "schedule_id")
    names = {week.WORKING, week.NON_WORKING} | {
        e.get("name") for e in (sched.intervals or {}).get("extra", [])
    }
    if when not in names:
        raise field_error(
            field_name,
            f"в расписании нет интервала «{when}»",
            f"the schedule has no interval '{when}'",
        )


# --- routing rules ------------------------------------------------------------------------


class RuleRead(BaseModel):
    id: int
    number_id: int
    priority: int
    name: str
    active: bool
    schedule_id: int | None
    schedule_when: str
    prefixes: list[str]
    target: RuleTarget
    target_ref: int | None
    target_number: str


def _prefixes(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    cleaned = [p.strip() for p in value if p.strip()]
    for p in cleaned:
        if not p.isdigit() or len(p) > 10:
            raise ValueError("prefixes are digits only, up to 10")
    return cleaned


class RuleCreate(BaseModel):
    number_id: int
    priority: int | None = Field(default=None, ge=1, le=999)
    name: str = Field(default="", max_length=120)
    active: bool = True
    schedule_id: int | None = None
    schedule_when: str = Field(default=week.WORKING, max_length=60)
    prefixes: list[str] = Field(default_factory=list, max_length=50)
    target: RuleTarget
    target_ref: int | None = None
    target_number: str = Field(default="", max_length=32)

    _v = field_validator("prefixes")(_prefixes)


class RuleUpdate(BaseModel):
    priority: int | None = Field(default=None, ge=1, le=999)
    name: str | None = Field(default=None, max_length=120)
    active: bool | None = None
    schedule_id: int | None = None
    schedule_when: str | None = Field(default=None, max_length=60)
    prefixes: list[str] | None = Field(default=None, max_length=50)
    target: RuleTarget | None = None
    target_ref: int | None = None
    target_number: str | None = Field(default=None, max_length=32)

    _v = field_validator("prefixes")(_prefixes)


def _apply_rule(ctx: Ctx, obj: RoutingRule, data: dict[str, Any], creating: bool) -> None:
    if creating:
        _own(ctx, Number, data["number_id"], "number_id")
        if data.get("priority") is None:
            last = ctx.session.execute(
                select(func.max(RoutingRule.priority)).where(
                    RoutingRule.number_id == data["number_id"]
                )
            ).scalar()
            data["priority"] = (last or 0) + 1
    else:
        data.pop("number_id", None)
    for key, value in data.items():
        if value is not None or key in ("schedule_id", "target_ref"):
            setattr(obj, key, value)
    _check_schedule_when(ctx, obj.schedule_id, obj.schedule_when, "schedule_when")
    target = RuleTarget(obj.target)
    if target in USER_TARGETS:
        _own(ctx, User, obj.target_ref, "target_ref")
    elif target in GROUP_TARGETS:
        _own(ctx, CallGroup, obj.target_ref, "target_ref")
    elif target == RuleTarget.IVR:
        raise field_error(
            "target", "IVR-сценарии пока не поддерживаются", "IVR scenarios are not available yet"
        )
    elif target == RuleTarget.EXTERNAL:
        from server_stub.phones import BadNumber, to_e164

        try:
            obj.target_number = to_e164(obj.target_number or "")
        except BadNumber as exc:
            raise field_error("target_number", exc.ru, exc.en) from None
    elif target == RuleTarget.PRIVATE_ROUTE and not (obj.target_number or "").isdigit():
        raise field_error("target_number", "только цифры", "digits only")
    if target not in USER_TARGETS | GROUP_TARGETS:
        obj.target_ref = None


rules: Resource[RoutingRule] = Resource(
    path="/routing-rules",
    tag="routing",
    model=RoutingRule,
    object_type="routing_rule",
    read=RuleRead,
    create=RuleCreate,
    update=RuleUpdate,
    read_roles=(ADMIN,),
    apply=_apply_rule,
    name_of=lambda r: r.name or f"#{r.priority}",
    order_by="priority",
    filters={"number_id": "number_id"},
)
router.include_router(rules.router())


def _number(session: Any, principal: Principal, number_id: int) -> Number:
    number = session.get(Number, number_id)
    if number is None or number.domain_id != principal.domain_id:
        raise not_found("number")
    return number  # type: ignore[no-any-return]


class RuleOrder(BaseModel):
    rule_ids: list[int] = Field(min_length=1, max_length=500)


@router.put(
    "/numbers/{number_id}/rules/order",
    response_model=list[RuleRead],
    tags=["routing"],
    operation_id="reorder_routing_rules",
)
def reorder_rules(
    number_id: int, body: RuleOrder, request: Request, session: SessionDep, principal: AdminDep
) -> list[RuleRead]:
    """Priorities become 1..n in the given order; the list must name every rule once."""
    number = _number(session, principal, number_id)
    current = list(
        session.execute(select(RoutingRule).where(RoutingRule.number_id == number.id)).scalars()
    )
    if sorted(body.rule_ids) != sorted(r.id for r in current):
        raise field_error(
            "rule_ids",
            "нужно перечислить все правила номера ровно по одному разу",
            "list every rule of the number exactly once",
        )
    by_id = {r.id: r for r in current}
    before = {str(r.id): r.priority for r in current}
    for position, rule_id in enumerate(body.rule_ids, start=1):
        by_id[rule_id].priority = position
    audit.record(
        session,
        principal,
        "update",
        "routing_rules",
        number.id,
        number.e164,
        {"priorities": before},
        {"priorities": {str(r.id): r.priority for r in current}},
    )
    session.commit()
    publish(request, "routing_rule.updated", principal.domain_id, {"number_id": number.id})
    return [RuleRead.model_validate(by_id[i], from_attributes=True) for i in body.rule_ids]


class RuleCopy(BaseModel):
    to_number_id: int


@router.post(
    "/numbers/{number_id}/rules/copy",
    response_model=list[RuleRead],
    tags=["routing"],
    operation_id="copy_routing_rules",
)
def copy_rules(
    number_id: int, body: RuleCopy, request: Request, session: SessionDep, principal: AdminDep
) -> list[RuleRead]:
    """Copy every rule to another number; that number's own rules are deleted (the manual)."""
    source = _number(session, principal, number_id)
    target = session.get(Number, body.to_number_id)
    if target is None or target.domain_id != principal.domain_id:
        raise field_error("to_number_id", "номер не найден в домене", "no such number")
    if target.id == source.id:
        raise field_error("to_number_id", "это тот же номер", "that is the same number")
    old = [
        audit.snapshot(r)
        for r in session.execute(
            select(RoutingRule).where(RoutingRule.number_id == target.id)
        ).scalars()
    ]
    session.execute(delete(RoutingRule).where(RoutingRule.number_id == target.id))
    copies = []
    for r in session.execute(
        select(RoutingRule).where(RoutingRule.number_id == source.id).order_by(RoutingRule.priority)
    ).scalars():
        copy = RoutingRule(
            domain_id=r.domain_id,
            number_id=target.id,
            priority=r.priority,
            name=r.name,
            active=r.active,
            schedule_id=r.schedule_id,
            schedule_when=r.schedule_when,
            prefixes=list(r.prefixes or []),
            target=r.target,
            target_ref=r.target_ref,
            target_number=r.target_number,
        )
        session.add(copy)
        copies.append(copy)
    session.flush()
    audit.record(
        session,
        principal,
        "update",
        "routing_rules",
        target.id,
        target.e164,
        {"rules": old},
        {"rules": [audit.snapshot(c) for c in copies], "copied_from": source.e164},
    )
    session.commit()
    publish(request, "routing_rule.updated", principal.domain_id, {"number_id": target.id})
    return [RuleRead.model_validate(c, from_attributes=True) for c in copies]


# --- black / white lists ------------------------------------------------------------------


class FilterRead(BaseModel):
    id: int
    number_id: int
    e164: str
    comment: str


class FilterCreate(BaseModel):
    number_id: int
    e164: PhoneNumber
    comment: str = Field(default="", max_length=200)


class FilterUpdate(BaseModel):
    e164: PhoneNumber | None = None
    comment: str | None = Field(default=None, max_length=200)


def _apply_filter(ctx: Ctx, obj: NumberFilter, data: dict[str, Any], creating: bool) -> None:
    number_id = data.pop("number_id", None) if creating else obj.number_id
    if creating:
        _own(ctx, Number, number_id, "number_id")
        obj.number_id = number_id  # type: ignore[assignment]
    data = {k: v for k, v in data.items() if v is not None}
    if "e164" in data:
        ensure_unique(
            ctx,
            NumberFilter,
            "e164",
            data["e164"],
            "e164",
            obj.id,
            extra=[NumberFilter.number_id == number_id],
        )
    for key, value in data.items():
        setattr(obj, key, value)


filters: Resource[NumberFilter] = Resource(
    path="/number-filters",
    tag="routing",
    model=NumberFilter,
    object_type="number_filter",
    read=FilterRead,
    create=FilterCreate,
    update=FilterUpdate,
    read_roles=(ADMIN,),
    apply=_apply_filter,
    name_of=lambda f: f.e164,
    search_columns=("e164", "comment"),
    filters={"number_id": "number_id"},
)
router.include_router(filters.router())


class ListModeBody(BaseModel):
    mode: ListMode


class ListModeRead(BaseModel):
    number_id: int
    mode: ListMode
    entries: int
    warning: str | None = None


@router.put(
    "/numbers/{number_id}/list-mode",
    response_model=ListModeRead,
    tags=["routing"],
    operation_id="set_number_list_mode",
)
def set_list_mode(
    number_id: int, body: ListModeBody, request: Request, session: SessionDep, principal: AdminDep
) -> ListModeRead:
    """Black list or white list, never both; a white list with no entries blocks every call."""
    number = _number(session, principal, number_id)
    before = audit.snapshot(number)
    number.list_mode = body.mode.value
    count = session.execute(
        select(func.count()).select_from(NumberFilter).where(NumberFilter.number_id == number.id)
    ).scalar_one()
    audit.record(
        session,
        principal,
        "update",
        "number",
        number.id,
        number.e164,
        before,
        audit.snapshot(number),
    )
    session.commit()
    publish(request, "number.updated", principal.domain_id, {"id": number.id})
    warning = None
    if body.mode == ListMode.WHITE and count == 0:
        warning = Text(
            "Белый список пуст: все входящие вызовы на номер будут отклонены",
            "The white list is empty: every incoming call to this number will be refused",
        ).pick(language(request))
    return ListModeRead(number_id=number.id, mode=body.mode, entries=count, warning=warning)


# --- forwarding scheme --------------------------------------------------------------------


class ContactRead(BaseModel):
    id: int
    user_id: int
    is_sip: bool
    number: str
    priority: int
    ring_seconds: int
    schedule_id: int | None
    schedule_when: str
    enabled: bool


class ContactCreate(BaseModel):
    user_id: int
    number: PhoneNumber
    priority: Priority = 10
    ring_seconds: int = Field(default=40, ge=5, le=120)
    schedule_id: int | None = None
    schedule_when: str = Field(default=week.WORKING, max_length=60)
    enabled: bool = True


class ContactUpdate(BaseModel):
    number: PhoneNumber | None = None
    priority: Priority | None = None
    ring_seconds: int | None = Field(default=None, ge=5, le=120)
    schedule_id: int | None = None
    schedule_when: str | None = Field(default=None, max_length=60)
    enabled: bool | None = None


def _may_edit_user(ctx: Ctx, user_id: int) -> User:
    """An admin edits anyone's scheme; a user only their own — a colleague's is "not found",
    as a scheme the caller may not touch must not even be confirmed to exist."""
    if not ctx.principal.has(ADMIN) and user_id != ctx.principal.user_id:
        raise not_found("user")
    user: User = _own(ctx, User, user_id, "user_id")
    return user


def _apply_contact(ctx: Ctx, obj: ForwardingContact, data: dict[str, Any], creating: bool) -> None:
    if creating:
        _may_edit_user(ctx, data["user_id"])
    else:
        data.pop("user_id", None)
        if obj.is_sip and data.get("number") is not None:
            raise field_error(
                "number",
                "номер основного SIP-контакта не меняется",
                "the built-in SIP contact's number cannot change",
            )
    for key, value in data.items():
        if value is not None or key == "schedule_id":
            setattr(obj, key, value)
    _check_schedule_when(ctx, obj.schedule_id, obj.schedule_when, "schedule_when")


def _contact_scope(ctx: Ctx) -> list[ColumnElement[bool]]:
    if ctx.principal.has(ADMIN):
        return []
    return [ForwardingContact.user_id == (ctx.principal.user_id or -1)]


def _refuse_sip_delete(ctx: Ctx, obj: ForwardingContact) -> None:
    if obj.is_sip:
        raise ApiError(
            409,
            "builtin_contact",
            Text(
                "Основной SIP-контакт нельзя удалить, его можно выключить",
                "The built-in SIP contact cannot be deleted; switch it off instead",
            ),
        )


contacts: Resource[ForwardingContact] = Resource(
    path="/forwarding-contacts",
    tag="routing",
    model=ForwardingContact,
    object_type="forwarding_contact",
    read=ContactRead,
    create=ContactCreate,
    update=ContactUpdate,
    read_roles=(USER,),
    write_roles=(USER,),
    apply=_apply_contact,
    name_of=lambda c: "SIP" if c.is_sip else c.number,
    scope=_contact_scope,
    before_delete=_refuse_sip_delete,
    order_by="priority",
    filters={"user_id": "user_id"},
)
router.include_router(contacts.router())


class SipContactBody(BaseModel):
    priority: Priority = 10
    ring_seconds: int = Field(default=40, ge=5, le=120)
    schedule_id: int | None = None
    schedule_when: str = Field(default=week.WORKING, max_length=60)
    enabled: bool = True


@router.put(
    "/users/{user_id}/forwarding/sip",
    response_model=ContactRead,
    tags=["routing"],
    operation_id="set_builtin_sip_contact",
)
def set_sip_contact(
    user_id: int,
    body: SipContactBody,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require_domain(USER))],
) -> ContactRead:
    """Edit the built-in SIP contact (it exists for every user; stored on first edit)."""
    domain = session.get(Domain, principal.domain_id)
    assert domain is not None
    ctx = Ctx(session, principal, domain, request)
    user = session.get(User, user_id)
    if user is None or user.domain_id != domain.id:
        raise not_found("user")
    _may_edit_user(ctx, user_id)
    _check_schedule_when(ctx, body.schedule_id, body.schedule_when, "schedule_when")
    row = session.execute(
        select(ForwardingContact).where(
            ForwardingContact.user_id == user_id, ForwardingContact.is_sip.is_(True)
        )
    ).scalar_one_or_none()
    before = audit.snapshot(row) if row else None
    if row is None:
        row = ForwardingContact(domain_id=domain.id, user_id=user_id, is_sip=True, number="")
        session.add(row)
    for key, value in body.model_dump().items():
        setattr(row, key, value)
    session.flush()
    audit.record(
        session,
        principal,
        "update" if before else "create",
        "forwarding_contact",
        row.id,
        f"SIP {user.login}",
        before,
        audit.snapshot(row),
    )
    session.commit()
    publish(request, "forwarding_contact.updated", domain.id, {"id": row.id, "user_id": user_id})
    return ContactRead.model_validate(row, from_attributes=True)


# --- simulate -----------------------------------------------------------------------------


class SimulateBody(BaseModel):
    caller: str = Field(min_length=1, max_length=64, description="extension or phone number")
    called: str = Field(min_length=1, max_length=64, description="dialled digits or our number")
    source: Literal["user", "trunk"] = "user"
    at: datetime | None = Field(default=None, description="the moment; now when omitted")


@router.post("/routing/simulate", tags=["routing"], operation_id="simulate_call")
def simulate(
    body: SimulateBody, request: Request, session: SessionDep, principal: AdminDep
) -> dict[str, Any]:
    """What would happen to this call: the ring plan and the route trace. Changes nothing."""
    at = body.at or datetime.now(UTC)
    if at.tzinfo is None:
        raise field_error("at", "укажите часовой пояс", "include a time-zone offset")
    cfg = snapshot.build(session, principal.domain_id or -1)
    decision = route(Call(caller=body.caller, called=body.called, source=body.source), cfg, at)
    return decision.as_dict(language(request))
