"""What the SIP edge (Kamailio) asks and tells the server, and the call records admins read.

``/api/sip/*`` is for the edge only (shared secret header, see ``sip_auth``); user tokens get
403. The route request takes a domain's snapshot from ``snapshot.cached``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from server_stub.api import sip_decisions
from server_stub.api.billing_hook import session_authorize
from server_stub.api.deps import DomainAdmin, SessionDep
from server_stub.api.errors import ApiError, Text
from server_stub.api.routes import acd_spy
from server_stub.api.sip_auth import require_edge
from server_stub.api.sip_cdr import as_dict, ingest, record_decision
from server_stub.api.sip_decisions import one_writer
from server_stub.phones import BadNumber, to_e164
from server_stub.routing import engine
from server_stub.routing.plan import Decision, Final
from server_stub.store import call_cuts, snapshot
from server_stub.store.models import Contact, ContactPhone, Domain, Number, User
from server_stub.store.models_calls import Cdr

router = APIRouter()
edge = APIRouter(prefix="/sip", tags=["sip"], dependencies=[Depends(require_edge)])


class CredentialsQuery(BaseModel):
    domain: str = Field(max_length=253)
    username: str = Field(max_length=320)


@edge.post("/credentials", operation_id="sip_credentials")
def credentials(body: CredentialsQuery, session: SessionDep) -> dict[str, str]:
    """The digest secret for a SIP login: HA1 for "login", HA1B for "login@domain"."""
    login, at, realm = body.username.partition("@")
    if at and realm != body.domain:
        raise _unknown()
    user = session.execute(
        select(User)
        .join(Domain, Domain.id == User.domain_id)
        .where(Domain.name == body.domain, User.login == login, User.active.is_(True))
    ).scalar_one_or_none()
    if user is None:
        raise _unknown()
    return {"ha1": user.sip_ha1b if at else user.sip_ha1}


def _unknown() -> ApiError:
    return ApiError(404, "unknown_sip_user", Text("Нет такого SIP-абонента", "No such SIP user"))


class RouteRequest(BaseModel):
    domain: str = Field(default="", max_length=253)  # empty for trunk calls: found by number
    caller_login: str = Field(max_length=128)
    called: str = Field(max_length=128)
    call_id: str = Field(max_length=255)
    source: Literal["user", "trunk"] = "user"


def _refusal(code: int, ru: str, en: str) -> Decision:
    return Decision(refused=Final("reject", code, en), trace=((ru, en),))


EVENTS_PER_TRANSACTION = 25


@edge.post("/route", operation_id="sip_route")
def route(body: RouteRequest, session: SessionDep) -> dict[str, Any]:
    """The ring plan for a new call; its CDR starts here (a refusal's is final here).

    Asked for every INVITE, so the domain and its people come from the cached snapshot
    (``snapshot.cached``: rebuilt after any change of routing data); billing's state is read
    fresh for every paid branch. Nothing is written on the way: the CDR row is stored just
    behind the answer (``sip_decisions``)."""
    return _route(body, session)


def _route(body: RouteRequest, session: Session) -> dict[str, Any]:
    """The endpoint's work, also run by the edge's fast path (api/sip_fast.py)."""
    if body.source == "user" and body.called.startswith(acd_spy.PREFIX):
        # The one route that writes (the listen-in session takes the call): the writer lock
        # is taken here so that both paths queue on it.
        with one_writer(session):
            return _plan(body, session)
    return _plan(body, session)


def _plan(body: RouteRequest, session: Session) -> dict[str, Any]:
    if body.source == "trunk":
        return _route_from_trunk(body, session)
    domain_id = snapshot.domain_id(session, body.domain)
    if domain_id is None:
        return _refusal(404, "неизвестный домен", "unknown domain").as_dict("en")
    cfg = snapshot.cached(session, domain_id)
    caller = next((u for u in cfg.users if u.login == body.caller_login), None)
    shown: tuple[str | None, str] = (None, "")
    if caller is None or not caller.active:
        decision = _refusal(403, "звонящий не является пользователем домена", "unknown caller")
        caller_label, group_id = body.caller_login, None
    elif body.called.startswith(acd_spy.PREFIX):
        # A supervisor's phone joining an operator's call (routes/acd_spy.py).
        domain, caller_row = session.get(Domain, domain_id), session.get(User, caller.id)
        assert domain is not None and caller_row is not None
        decision = acd_spy.spy_plan(session, domain, caller_row, body.called, body.call_id)
        session.commit()
        operator = decision.stages[0].branches[0].label if decision.stages else ""
        caller_label, group_id = caller.extension, None
        body = body.model_copy(update={"called": operator or "spy"})
    else:
        call = engine.Call(
            caller=caller.extension, called=body.called, source="user", caller_user_id=caller.id
        )
        now = datetime.now(UTC)
        decision = engine.route(call, cfg, now, authorize=session_authorize(session, now))
        group = cfg.group_by_extension(body.called.strip())
        caller_label, group_id = caller.extension, group.id if group else None
        shown = engine.presented(call, cfg)
    record_decision(
        session,
        body.call_id,
        domain_id,
        caller.id if caller else None,
        caller_label,
        body.called,
        body.source,
        decision,
        group_id,
    )
    return _with_identity(decision, shown)


def _with_identity(decision: Decision, shown: tuple[str | None, str]) -> dict[str, Any]:
    """The plan for the edge, with who the callee sees (``engine.presented``)."""
    out = decision.as_dict("en")
    if decision.accepted:
        out["presented_number"], out["presented_name"] = shown
    return out


def _route_from_trunk(body: RouteRequest, session: Session) -> dict[str, Any]:
    """An incoming call from the carrier: the dialled number names the company (a number
    belongs to one domain on the whole platform), its rules decide the rest."""
    try:
        did = to_e164(body.called)
    except BadNumber:
        did = body.called
    number = session.execute(select(Number).where(Number.e164 == did)).scalar_one_or_none()
    if number is None:
        return _refusal(404, f"номер {did} не обслуживается", f"{did} is not served here").as_dict(
            "en"
        )
    cfg = snapshot.cached(session, number.domain_id)
    now = datetime.now(UTC)
    call = engine.Call(caller=body.caller_login, called=did, source="trunk")
    decision = engine.route(call, cfg, now, authorize=session_authorize(session, now))
    record_decision(
        session,
        body.call_id,
        cfg.id,
        None,
        body.caller_login,
        did,
        "trunk",
        decision,
        decision.group_id or decision.queue_group_id,
    )
    return {**_with_identity(decision, engine.presented(call, cfg)), "domain": cfg.name}


class EventBatch(BaseModel):
    events: list[dict[str, Any]] = Field(max_length=1000)


@edge.post("/events", operation_id="sip_events")
def events(body: EventBatch, session: SessionDep) -> dict[str, int]:
    """Call events from the edge; replays are harmless (stored once per call_id + seq)."""
    return _events(body, session)


def _events(body: EventBatch, session: Session) -> dict[str, int]:
    for event in body.events:
        if not event.get("call_id") or not isinstance(event.get("seq"), int):
            raise ApiError(
                422,
                "bad_event",
                Text("У события нет call_id или seq", "An event lacks call_id or seq"),
            )
    sip_decisions.store(session)  # the calls' routing first: their events complete it
    stored = duplicates = 0
    # A few events per transaction: other writers (the route decisions' rows, a listen-in
    # call's route) wait for the one writer on SQLite, and a long batch would hold them up.
    # Each event is stored once whatever part of a batch a failure leaves for the replay.
    for start in range(0, len(body.events), EVENTS_PER_TRANSACTION):
        with one_writer(session):
            new, again = ingest(session, body.events[start : start + EVENTS_PER_TRANSACTION])
            session.commit()
        stored, duplicates = stored + new, duplicates + again
    return {"stored": stored, "duplicates": duplicates}


@edge.get("/cuts", operation_id="sip_cuts")
def cuts(session: SessionDep) -> dict[str, list[dict[str, str]]]:
    """Calls to end now (the billing tick found their prepaid domain out of money); taken
    from the queue by this request, so the edge asks about once a second and ends each."""
    return {"cuts": [{"call_id": c.call_id, "reason": c.reason} for c in call_cuts.take(session)]}


router.include_router(edge)


@router.get("/cdrs", tags=["cdrs"], operation_id="list_cdrs")
def list_cdrs(
    principal: DomainAdmin,
    session: SessionDep,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    direction: str | None = Query(default=None, max_length=32),
    result: str | None = Query(default=None, max_length=16),
    number: str | None = Query(default=None, max_length=64),
    q: str | None = Query(default=None, max_length=64, description="a number or a name"),
    lang: Literal["ru", "en"] = "ru",
    offset: int = Query(default=0, ge=0),
    limit: int = Query(default=50, ge=1, le=500),
) -> dict[str, Any]:
    """The domain's calls, newest first; filters: period, direction, result, number, and ``q``:
    a number (part of the caller's or called number) or a name (a user's or an address-book
    contact's, matching the calls of their extension, login or phone numbers)."""
    sip_decisions.store(session)  # calls routed in the last moments are in the list too
    query = select(Cdr).where(Cdr.domain_id == principal.domain_id)
    if date_from is not None:
        query = query.where(Cdr.started_at >= _aware(date_from))
    if date_to is not None:
        query = query.where(Cdr.started_at < _aware(date_to))
    if direction:
        query = query.where(Cdr.direction == direction)
    if result:
        query = query.where(Cdr.result == result)
    if number:
        like = f"%{number.strip()}%"
        query = query.where(or_(Cdr.caller.like(like), Cdr.called.like(like)))
    if q and q.strip():
        query = query.where(_number_or_name(session, principal.domain_id or -1, q.strip()))
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(
        query.order_by(Cdr.started_at.desc(), Cdr.id.desc()).offset(offset).limit(limit)
    ).scalars()
    return {
        "items": [as_dict(c, lang) for c in rows],
        "total": total,
        "offset": offset,
        "limit": limit,
    }


def _number_or_name(session: Session, domain_id: int, text: str) -> ColumnElement[bool]:
    like = f"%{text}%"
    matches: list[ColumnElement[bool]] = [Cdr.caller.like(like), Cdr.called.like(like)]
    name = f"%{text.lower()}%"
    domain = session.get(Domain, domain_id)
    users = session.execute(
        select(User.id, User.login, User.extension).where(
            User.domain_id == domain_id, func.lower(User.display_name).like(name)
        )
    ).all()
    if users:
        ids = [u.id for u in users]
        extensions = [u.extension for u in users]
        answered = [f"sip:{u.login}@{domain.name}" for u in users] if domain else []
        matches += [
            Cdr.caller_user_id.in_(ids),
            Cdr.caller.in_(extensions),
            Cdr.called.in_(extensions),
            Cdr.answered_by.in_(answered),
        ]
    phones = session.execute(
        select(ContactPhone.number)
        .join(Contact)
        .where(Contact.domain_id == domain_id, func.lower(Contact.name).like(name))
    ).scalars()
    numbers = list(phones)
    if numbers:
        matches += [Cdr.caller.in_(numbers), Cdr.called.in_(numbers)]
    return or_(*matches)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
