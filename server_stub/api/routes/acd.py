"""Routes: the operator workstation (status, offers, post-call work), the SIP edge's ACD calls,
real-time statistics, break reasons and operator messages.

Status and state changes are stored as intervals (``operator_intervals``), not as audit rows:
reports are built from them and the audit log would drown in them. Messages and their
acknowledgements are audited (``acd_messages``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from server_stub.acd.dispatcher import Dispatcher, Effects
from server_stub.acd.operator import Status, TransitionError
from server_stub.acd.queue import vip_priority
from server_stub.api import acd_messages, acd_reasons
from server_stub.api.acd_service import (
    AcdDep,
    AcdNow,
    AcdService,
    Action,
    OperatorDep,
    Result,
    domain_of,
    group_row,
    me_view,
    operator_row,
    run_announced,
)
from server_stub.api.deps import DomainSupervisor, Principal, SessionDep
from server_stub.api.errors import ApiError, Text, field_error, not_found
from server_stub.api.routes import acd_edge, acd_spy
from server_stub.api.sip_auth import require_edge
from server_stub.phones import to_e164
from server_stub.store.models import ACD_ALGORITHMS, CallGroup, Domain, User, VipNumber
from server_stub.store.models_acd import AcdCall, BreakReason

router = APIRouter()
operator = APIRouter(prefix="/operator", tags=["operator"])
edge = APIRouter(prefix="/acd", tags=["acd"], dependencies=[Depends(require_edge)])
stats = APIRouter(prefix="/stats", tags=["stats"])


def _me(session: SessionDep, principal: Principal, result: Result) -> dict[str, Any]:
    user = session.get(User, principal.id)
    if user is None:
        raise not_found("user")
    return me_view(session, result, user, user.login)


# --- operator self-service -------------------------------------------------------------------


def _act(
    request: Request,
    session: Session,
    principal: Principal,
    svc: AcdService,
    at: datetime,
    step: Action | None = None,
) -> dict[str, Any]:
    """Every operator action: run it (or just the timers) in the domain's ACD, tell the
    subscribers what changed, and answer with the operator's own view."""
    result = run_announced(request, session, svc, domain_of(principal), at, step)
    return _me(session, principal, result)


@operator.get("/me", operation_id="operator_me")
def get_me(
    request: Request, session: SessionDep, principal: OperatorDep, svc: AcdDep, at: AcdNow
) -> dict[str, Any]:
    return _act(request, session, principal, svc, at)


class StatusIn(BaseModel):
    status: Status
    reason_id: int | None = None


@operator.put("/status", operation_id="operator_set_status")
def set_status(
    body: StatusIn,
    request: Request,
    session: SessionDep,
    principal: OperatorDep,
    svc: AcdDep,
    at: AcdNow,
) -> dict[str, Any]:
    domain_id = domain_of(principal)
    if body.reason_id is not None:
        if body.status != Status.BREAK:
            raise field_error(
                "reason_id",
                "причина указывается только для перерыва",
                "a reason can only be given for a break",
            )
        reason = session.get(BreakReason, body.reason_id)
        if reason is None or reason.domain_id != domain_id:
            raise field_error("reason_id", "нет такой причины перерыва", "no such break reason")
    elif body.status == Status.BREAK:
        has_reasons = session.execute(
            select(BreakReason.id).where(BreakReason.domain_id == domain_id).limit(1)
        ).first()
        if has_reasons is not None:
            raise field_error(
                "reason_id", "выберите причину перерыва", "choose the reason for the break"
            )
    uid = principal.id
    return _act(
        request,
        session,
        principal,
        svc,
        at,
        lambda d, now: d.set_status(uid, body.status, now, body.reason_id),
    )


@operator.post("/post-call/finish", operation_id="operator_finish_post_call")
def finish_post_call(
    request: Request, session: SessionDep, principal: OperatorDep, svc: AcdDep, at: AcdNow
) -> dict[str, Any]:
    uid = principal.id
    return _act(request, session, principal, svc, at, lambda d, now: d.finish_post_call(uid, now))


@operator.post("/post-call/extend", operation_id="operator_extend_post_call")
def extend_post_call(
    request: Request, session: SessionDep, principal: OperatorDep, svc: AcdDep, at: AcdNow
) -> dict[str, Any]:
    uid = principal.id
    return _act(request, session, principal, svc, at, lambda d, now: d.extend_post_call(uid, now))


@operator.post("/offers/{offer_id}/accept", operation_id="operator_accept_offer")
def accept_offer(
    offer_id: int,
    request: Request,
    session: SessionDep,
    principal: OperatorDep,
    svc: AcdDep,
    at: AcdNow,
) -> dict[str, Any]:
    uid = principal.id
    return _act(request, session, principal, svc, at, lambda d, now: d.accept(uid, offer_id, now))


@operator.post("/offers/{offer_id}/reject", operation_id="operator_reject_offer")
def reject_offer(
    offer_id: int,
    request: Request,
    session: SessionDep,
    principal: OperatorDep,
    svc: AcdDep,
    at: AcdNow,
) -> dict[str, Any]:
    uid = principal.id
    return _act(request, session, principal, svc, at, lambda d, now: d.reject(uid, offer_id, now))


# --- the SIP edge ------------------------------------------------------------------------------


class EnqueueIn(BaseModel):
    domain: str = Field(max_length=253)
    group_id: int
    call_id: str = Field(min_length=1, max_length=255)
    caller: str = Field(default="", max_length=128)
    # The SIP edge asks to refuse the call when no operator of the group is online («В сети»):
    # a caller must not wait in a queue nobody serves.
    require_online: bool = False


def _no_operators_online() -> TransitionError:
    return TransitionError(
        "acd_no_operators_online",
        "В ACD-группе нет операторов в сети: вызов завершён",
        "No operator of the ACD group is online: the call is ended",
    )


def _e164_or_raw(caller: str) -> str:
    try:
        return to_e164(caller)
    except Exception:
        return caller  # an extension or an unparseable number is never a VIP


@edge.post("/calls", operation_id="acd_enqueue_call")
def enqueue_call(
    body: EnqueueIn, request: Request, session: SessionDep, svc: AcdDep, at: AcdNow
) -> dict[str, Any]:
    """A routed call joins its ACD group's queue. The caller hears ringback while waiting
    (queue music comes with the media workers); no operators → 409 with the cause to end it."""
    domain = session.execute(select(Domain).where(Domain.name == body.domain)).scalar_one_or_none()
    group = session.get(CallGroup, body.group_id)
    if domain is None or group is None or group.domain_id != domain.id:
        raise not_found("group")
    if group.algorithm not in ACD_ALGORITHMS:
        raise field_error("group_id", "группа не является ACD-группой", "not an ACD group")
    caller = _e164_or_raw(body.caller)
    vips = dict(
        session.execute(
            select(VipNumber.e164, VipNumber.priority).where(
                VipNumber.domain_id == domain.id, VipNumber.e164 == caller
            )
        ).all()
    )
    vip = vip_priority(caller, vips)

    def enqueue(d: Dispatcher, now: float) -> Effects:
        if body.require_online and d.online_operators(group.id) == 0:
            raise _no_operators_online()
        return d.enqueue(group.id, body.call_id, caller, now, vip)

    result = run_announced(request, session, svc, domain.id, at, enqueue)
    d = result.dispatcher
    offer = d.offers.get(body.call_id)
    return {
        "queued": True,
        "call_id": body.call_id,
        "vip_priority": vip,
        "position": d.position(body.call_id),
        "offered_to": offer.user_id if offer else None,
        "expected_wait_seconds": d.expected_wait(body.call_id),
        "media": "ringback",
    }


def _call_domain(session: SessionDep, call_id: str) -> int:
    row = session.execute(select(AcdCall).where(AcdCall.call_id == call_id)).scalar_one_or_none()
    if row is None:
        raise ApiError(
            404, "unknown_call", Text("Такого вызова нет в очередях", "No such call in the queues")
        )
    return row.domain_id


class AnsweredIn(BaseModel):
    user_id: int | None = None


@edge.post("/calls/{call_id}/answered", operation_id="acd_call_answered")
def call_answered(
    call_id: str,
    body: AnsweredIn,
    request: Request,
    session: SessionDep,
    svc: AcdDep,
    at: AcdNow,
) -> dict[str, Any]:
    domain_id = _call_domain(session, call_id)
    result = run_announced(
        request, session, svc, domain_id, at, lambda d, now: d.answered(call_id, now, body.user_id)
    )
    talk = result.dispatcher.talks.get(call_id)
    return {"call_id": call_id, "user_id": talk.user_id if talk else None}


@edge.post("/calls/{call_id}/ended", operation_id="acd_call_ended")
def call_ended(
    call_id: str, request: Request, session: SessionDep, svc: AcdDep, at: AcdNow
) -> dict[str, Any]:
    domain_id = _call_domain(session, call_id)
    run_announced(request, session, svc, domain_id, at, lambda d, now: d.ended(call_id, now))
    return {"call_id": call_id, "ended": True}


# --- real-time statistics ---------------------------------------------------------------------


@stats.get("/operators", operation_id="stats_operators")
def stats_operators(
    request: Request, session: SessionDep, principal: DomainSupervisor, svc: AcdDep, at: AcdNow
) -> dict[str, Any]:
    domain_id = domain_of(principal)
    result = run_announced(request, session, svc, domain_id, at)
    users = session.execute(
        select(User)
        .where(User.domain_id == domain_id, User.is_operator.is_(True), User.active.is_(True))
        .order_by(User.display_name, User.id)
    ).scalars()
    d = result.dispatcher
    return {"items": [operator_row(d.operator(u.id), u, result.now) for u in users]}


@stats.get("/groups", operation_id="stats_groups")
def stats_groups(
    request: Request, session: SessionDep, principal: DomainSupervisor, svc: AcdDep, at: AcdNow
) -> dict[str, Any]:
    domain_id = domain_of(principal)
    result = run_announced(request, session, svc, domain_id, at)
    order = sorted(result.groups.values(), key=lambda g: (g.name, g.id))
    d = result.dispatcher
    return {"items": [group_row(d, g.id, result.groups, result.now) for g in order]}


router.include_router(operator)
router.include_router(edge)
router.include_router(acd_edge.router)
router.include_router(stats)
router.include_router(acd_reasons.router)
router.include_router(acd_messages.router)
router.include_router(acd_spy.router)
