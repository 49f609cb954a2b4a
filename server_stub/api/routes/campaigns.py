"""Routes: outbound campaigns (spec 02 §13) — the admin's campaigns, statuses and call lists,
and the operator's cards.

How a card flows:
1. The admin creates a campaign (ACD group, start–end, attempts, sequential/parallel, maximum
   talk time, card URL template); «Успешный вызов» and «Нет ответа» are created with it and
   cannot be deleted; custom statuses are added after the first save. The call list is added
   one client at a time or imported (check, then create; a file with any error writes nothing).
2. An operator of the campaign's group enters the «Исходящая кампания» state
   (``POST /operator/campaign/start``): the ACD stores the state interval like any other, and
   the operator gets no inbound ACD offers meanwhile. ``POST /operator/campaign/next`` puts
   the next card on their screen (rules in ``server_stub.acd.campaign``).
3. Dialling. ``POST /operator/campaign/attempts`` records the attempt and answers with the
   numbers to dial now (one for sequential dialling, all for parallel) and the 20 s ringing
   deadline. The operator's softphone dials them as ordinary outgoing calls through the SIP
   edge. The attempt's outcome is not taken on the desktop's word: it is read from the call
   records (CDRs) the edge reports for that operator's calls to those numbers inside the
   attempt's time (answered / no answer / busy / failed), every time the card is shown. The
   desktop may also report what the softphone saw (``.../finish``); that report counts only
   when no call record exists (the call could not be placed at all). Why this design: it needs
   no change to the SIP edge or the softphone engine, and what the history shows is what the
   network did.
4. The operator records a result status (``POST /operator/campaign/result``), optionally with a
   callback time: the card comes back to the same operator at that time. «Нет ответа» with
   attempts left puts the client back in the list.

Progress (total, done, on screens, remaining, called, per result) is in every campaign view and
is announced as ``campaign.progress`` to supervisors and admins after every change. Every change
is audited, except entering and leaving the campaign state: that is the operator's working
state, stored as intervals for the reports like the other ACD states (routes/acd.py).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response, UploadFile
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from server_stub.acd import campaign as cm
from server_stub.acd import operator as opm
from server_stub.acd.dispatcher import Dispatcher, Effects
from server_stub.acd.operator import State
from server_stub.api import audit
from server_stub.api.acd_service import (
    SUPERVISORS,
    AcdDep,
    AcdNow,
    AcdService,
    Action,
    OperatorDep,
    Result,
    domain_of,
    fill_url,
    run_announced,
    transition_error,
)
from server_stub.api.acd_store import dt, ts
from server_stub.api.crud import flush, publish
from server_stub.api.deps import DomainAdmin, DomainSupervisor, Principal, SessionDep
from server_stub.api.errors import ApiError, FieldProblem, Text, field_error, language, not_found
from server_stub.api.eventbus import user_audience
from server_stub.api.routes.imports import (
    Format,
    Upload,
    import_problems,
    read_upload,
    template_response,
)
from server_stub.importing.campaign_clients import (
    CLIENT_COLUMNS,
    CLIENT_SAMPLE,
    NewClient,
    check_clients,
    normalise_number,
)
from server_stub.importing.common import Outcome
from server_stub.importing.template import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE
from server_stub.store.models import ACD_ALGORITHMS, CallGroup, GroupMember, User
from server_stub.store.models_calls import Cdr
from server_stub.store.models_campaigns import (
    Campaign,
    CampaignAgent,
    CampaignAttempt,
    CampaignClient,
    CampaignStatus,
)

router = APIRouter(tags=["campaigns"])
admin = APIRouter(prefix="/campaigns")
operator = APIRouter(prefix="/operator/campaign", tags=["operator"])

_SUPERVISOR_AUDIENCE = SUPERVISORS


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- conversions between rows and the pure model -------------------------------------------


def rules_of(c: Campaign) -> cm.Rules:
    return cm.Rules(
        attempts=c.attempts,
        method=cm.DialMethod(c.method),
        max_minutes=c.max_minutes,
        starts_at=ts(c.starts_at),
        ends_at=ts(c.ends_at),
        active=c.active,
    )


def card_of(row: CampaignClient) -> cm.Card:
    return cm.Card(
        client_id=row.id,
        position=row.position,
        numbers=tuple(row.numbers or ()),
        state=cm.CardState(row.state),
        attempts_used=row.attempts_used,
        extra_attempts=row.extra_attempts,
        assigned_to=row.assigned_user_id,
        callback_at=ts(row.callback_at) if row.callback_at else None,
        callback_user=row.callback_user_id,
        last_attempt_at=ts(row.last_attempt_at) if row.last_attempt_at else None,
        status_kind=cm.StatusKind(row.status_kind) if row.status_kind else None,
    )


def _store_card(row: CampaignClient, card: cm.Card) -> None:
    row.state = card.state.value
    row.attempts_used = card.attempts_used
    row.extra_attempts = card.extra_attempts
    row.assigned_user_id = card.assigned_to
    row.callback_at = dt(card.callback_at) if card.callback_at is not None else None
    row.callback_user_id = card.callback_user
    row.last_attempt_at = dt(card.last_attempt_at) if card.last_attempt_at is not None else None
    row.status_kind = card.status_kind.value if card.status_kind else None


# --- views ---------------------------------------------------------------------------------


def _statuses(session: Session, campaign_id: int) -> list[CampaignStatus]:
    return list(
        session.execute(
            select(CampaignStatus)
            .where(CampaignStatus.campaign_id == campaign_id)
            .order_by(CampaignStatus.position, CampaignStatus.id)
        ).scalars()
    )


def progress_of(session: Session, campaign_id: int) -> cm.Progress:
    rows = session.execute(
        select(CampaignClient).where(CampaignClient.campaign_id == campaign_id)
    ).scalars()
    return cm.progress((card_of(r), r.status_name or None) for r in rows)


def campaign_view(session: Session, c: Campaign, now: datetime) -> dict[str, Any]:
    group = session.get(CallGroup, c.group_id) if c.group_id else None
    return {
        "id": c.id,
        "name": c.name,
        "group_id": c.group_id,
        "group_name": group.name if group else "",
        "attempts": c.attempts,
        "ring_seconds": cm.RING_SECONDS,
        "method": c.method,
        "max_minutes": c.max_minutes,
        "info_url": c.info_url,
        "starts_at": _iso(c.starts_at),
        "ends_at": _iso(c.ends_at),
        "active": c.active,
        "open_now": rules_of(c).open_at(ts(now)),
        "statuses": [
            {"id": s.id, "name": s.name, "kind": s.kind, "fixed": s.kind != "custom"}
            for s in _statuses(session, c.id)
        ],
        "progress": progress_of(session, c.id).as_dict(),
    }


def _client_view(row: CampaignClient) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "numbers": list(row.numbers or ()),
        "notes": row.notes,
        "state": row.state,
        "status": row.status_name or cm.INITIAL_STATUS,
        "status_id": row.status_id,
        "comment": row.comment,
        "attempts_used": row.attempts_used,
        "callback_at": _iso(row.callback_at),
        "result_at": _iso(row.result_at),
    }


def _call_facts(session: Session, user_ids: set[int], since: datetime) -> list[tuple[int, Any]]:
    if not user_ids:
        return []
    cdrs = session.execute(
        select(Cdr).where(
            Cdr.caller_user_id.in_(user_ids),
            Cdr.started_at >= dt(ts(since) - cm.LINK_SLACK_SECONDS),
        )
    ).scalars()
    out = []
    for cdr in cdrs:
        assert cdr.caller_user_id is not None
        fact = cm.CallFact(
            call_id=cdr.call_id,
            called=cdr.called,
            started_at=ts(cdr.started_at),
            result=cdr.result,
            answered_at=ts(cdr.answered_at) if cdr.answered_at else None,
        )
        out.append((cdr.caller_user_id, fact))
    return out


def attempts_view(
    session: Session, c: Campaign, client_id: int, now: datetime
) -> list[dict[str, Any]]:
    """The card's attempt history, each outcome read from the operator's call records."""
    attempts = list(
        session.execute(
            select(CampaignAttempt)
            .where(CampaignAttempt.client_id == client_id)
            .order_by(CampaignAttempt.started_at, CampaignAttempt.id)
        ).scalars()
    )
    if not attempts:
        return []
    facts = _call_facts(
        session, {a.user_id for a in attempts if a.user_id is not None}, attempts[0].started_at
    )
    # A call belongs to the attempt it follows: the next attempt of the same operator (on any
    # card) ends this one's window.
    user_ids = {a.user_id for a in attempts if a.user_id is not None}
    later_starts = list(
        session.execute(
            select(CampaignAttempt.user_id, CampaignAttempt.started_at).where(
                CampaignAttempt.user_id.in_(user_ids),
                CampaignAttempt.started_at >= attempts[0].started_at,
            )
        ).all()
    )
    rules = rules_of(c)
    out = []
    for a in attempts:
        start = ts(a.started_at)
        nexts = [ts(at) for uid, at in later_starts if uid == a.user_id and ts(at) > start]
        view = cm.attempt_outcome(
            a.numbers or [],
            start,
            min(nexts) if nexts else None,
            [f for uid, f in facts if uid == a.user_id],
            cm.Outcome(a.reported_outcome) if a.reported_outcome else None,
            ts(now),
            rules,
        )
        talk_until = (
            cm.talk_deadline(view.answered_at, rules) if view.answered_at is not None else None
        )
        out.append(
            {
                "id": a.id,
                "numbers": list(a.numbers or ()),
                "started_at": _iso(a.started_at),
                "ring_until": _iso(dt(cm.ring_deadline(start))),
                "outcome": view.outcome.value,
                "source": view.source,
                "call_ids": list(view.call_ids),
                "answered_at": _iso(dt(view.answered_at)) if view.answered_at else None,
                "talk_until": _iso(dt(talk_until)) if talk_until is not None else None,
            }
        )
    return out


def info_url(c: Campaign, row: CampaignClient, login: str) -> str:
    """The campaign's URL with ``{campaign}``, ``{client_id}``, ``{operator}``, ``{called}``."""
    values = {
        "campaign": str(c.id),
        "client_id": str(row.id),
        "operator": login,
        "called": (row.numbers or [""])[0],
    }
    return fill_url(c.info_url, values)


def card_view(
    session: Session, c: Campaign, row: CampaignClient, login: str, now: datetime
) -> dict[str, Any]:
    rules = rules_of(c)
    card = card_of(row)
    return {
        **_client_view(row),
        "attempts_left": card.attempts_left(rules),
        "info_url": info_url(c, row, login),
        "attempts": attempts_view(session, c, row.id, now),
    }


def _publish_progress(request: Request, session: Session, c: Campaign, uid: int | None) -> None:
    data = {"campaign_id": c.id, "name": c.name, **progress_of(session, c.id).as_dict()}
    audience: tuple[str, ...] = tuple(_SUPERVISOR_AUDIENCE)
    if uid is not None:
        audience += (user_audience(uid),)
    publish(request, "campaign.progress", c.domain_id, data, audience)


def _publish_campaign(request: Request, event: str, domain_id: int, campaign_id: int) -> None:
    publish(request, f"campaign.{event}", domain_id, {"id": campaign_id}, _SUPERVISOR_AUDIENCE)


# --- admin: campaigns --------------------------------------------------------------------------


def _audit_client(
    session: Session,
    principal: Principal,
    row: CampaignClient,
    before: dict[str, Any] | None = None,
) -> None:
    """A client created (no ``before``) or changed, as the audit log shows it."""
    action = "create" if before is None else "update"
    after = audit.snapshot(row)
    audit.record(session, principal, action, "campaign_client", row.id, row.name, before, after)


def _get_campaign(session: Session, principal: Principal, campaign_id: int) -> Campaign:
    c = session.get(Campaign, campaign_id)
    if c is None or c.domain_id != principal.domain_id:
        raise not_found("campaign")
    return c


class CampaignIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    group_id: int
    attempts: int = Field(default=3, ge=1, le=20)
    method: cm.DialMethod = cm.DialMethod.SEQUENTIAL
    max_minutes: int = Field(default=0, ge=0, le=600)
    info_url: str = Field(default="", max_length=2000)
    starts_at: datetime
    ends_at: datetime
    active: bool = False

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        return " ".join(value.split())


class CampaignPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    group_id: int | None = None
    attempts: int | None = Field(default=None, ge=1, le=20)
    method: cm.DialMethod | None = None
    max_minutes: int | None = Field(default=None, ge=0, le=600)
    info_url: str | None = Field(default=None, max_length=2000)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    active: bool | None = None


def _check_group(session: Session, domain_id: int, group_id: int) -> None:
    group = session.get(CallGroup, group_id)
    if group is None or group.domain_id != domain_id:
        raise field_error("group_id", "нет такой группы", "no such group")
    if group.algorithm not in ACD_ALGORITHMS:
        raise field_error(
            "group_id",
            "кампанию обзванивают операторы ACD-группы: выберите ACD-группу",
            "a campaign is worked by the operators of an ACD group: choose an ACD group",
        )


def _check_url(url: str) -> None:
    if url and not url.lower().startswith(("http://", "https://")):
        raise field_error(
            "info_url", "ссылка должна начинаться с http:// или https://", "use http:// or https://"
        )


def _check_name(session: Session, domain_id: int, name: str, exclude: int | None) -> None:
    query = select(Campaign.id).where(
        Campaign.domain_id == domain_id, func.lower(Campaign.name) == name.lower()
    )
    if exclude is not None:
        query = query.where(Campaign.id != exclude)
    if session.execute(query).first() is not None:
        raise field_error(
            "name", "кампания с таким названием уже есть", "a campaign with this name exists", 409
        )


def _required_name(raw: str, ru: str, en: str) -> str:
    """The name with its spaces folded; only spaces is no name."""
    name = " ".join(raw.split())
    if not name:
        raise field_error("name", ru, en)
    return name


def _check_period(starts: datetime, ends: datetime) -> None:
    if ends <= starts:
        raise field_error(
            "ends_at", "окончание должно быть позже начала", "the end must be after the start"
        )


@admin.get("", operation_id="list_campaigns")
def list_campaigns(session: SessionDep, principal: DomainSupervisor, at: AcdNow) -> dict[str, Any]:
    rows = session.execute(
        select(Campaign)
        .where(Campaign.domain_id == domain_of(principal))
        .order_by(Campaign.name, Campaign.id)
    ).scalars()
    return {"items": [campaign_view(session, c, at) for c in rows]}


@admin.post("", status_code=201, operation_id="create_campaign")
def create_campaign(
    body: CampaignIn, request: Request, session: SessionDep, principal: DomainAdmin, at: AcdNow
) -> dict[str, Any]:
    domain_id = domain_of(principal)
    _check_group(session, domain_id, body.group_id)
    _check_url(body.info_url)
    starts, ends = _aware(body.starts_at), _aware(body.ends_at)
    _check_period(starts, ends)
    _check_name(session, domain_id, body.name, None)
    c = Campaign(
        domain_id=domain_id,
        name=body.name,
        group_id=body.group_id,
        attempts=body.attempts,
        method=body.method.value,
        max_minutes=body.max_minutes,
        info_url=body.info_url,
        starts_at=starts,
        ends_at=ends,
        active=body.active,
    )
    session.add(c)
    flush(session)
    for position, (kind, name) in enumerate(cm.FIXED_STATUSES):
        session.add(
            CampaignStatus(
                domain_id=domain_id, campaign_id=c.id, name=name, kind=kind, position=position
            )
        )
    flush(session)
    audit.record(session, principal, "create", "campaign", c.id, c.name, None, audit.snapshot(c))
    session.commit()
    _publish_campaign(request, "created", domain_id, c.id)
    return campaign_view(session, c, at)


@admin.get("/{campaign_id}", operation_id="get_campaign")
def get_campaign(
    campaign_id: int, session: SessionDep, principal: DomainSupervisor, at: AcdNow
) -> dict[str, Any]:
    return campaign_view(session, _get_campaign(session, principal, campaign_id), at)


@admin.patch("/{campaign_id}", operation_id="update_campaign")
def update_campaign(
    campaign_id: int,
    body: CampaignPatch,
    request: Request,
    session: SessionDep,
    principal: DomainAdmin,
    at: AcdNow,
) -> dict[str, Any]:
    c = _get_campaign(session, principal, campaign_id)
    before = audit.snapshot(c)
    data = body.model_dump(exclude_unset=True)
    for key in ("name", "group_id", "attempts", "method", "max_minutes", "starts_at", "ends_at"):
        if key in data and data[key] is None:
            raise field_error(key, "значение обязательно", "a value is required")
    if "group_id" in data:
        _check_group(session, c.domain_id, data["group_id"])
    if "info_url" in data:
        _check_url(data["info_url"] or "")
    if "name" in data:
        data["name"] = " ".join(data["name"].split())
        _check_name(session, c.domain_id, data["name"], c.id)
    for key in ("starts_at", "ends_at"):
        if key in data:
            data[key] = _aware(data[key])
    if "method" in data:
        data["method"] = cm.DialMethod(data["method"]).value
    if "active" in data and data["active"] is None:
        del data["active"]
    if "info_url" in data and data["info_url"] is None:
        data["info_url"] = ""
    _check_period(data.get("starts_at", c.starts_at), data.get("ends_at", c.ends_at))
    for key, value in data.items():
        setattr(c, key, value)
    flush(session)
    audit.record(session, principal, "update", "campaign", c.id, c.name, before, audit.snapshot(c))
    session.commit()
    _publish_campaign(request, "updated", c.domain_id, c.id)
    return campaign_view(session, c, at)


def _end_campaign_state(uids: list[int]) -> Action:
    """Operators whose campaign went away leave the «Исходящая кампания» state."""

    def act(d: Dispatcher, now: float) -> Effects:
        eff = Effects()
        for uid in uids:
            op = d.operator(uid)
            if op.state == State.CAMPAIGN:
                step = opm.end_campaign(op, now)
                d.put_operator(step.operator)
                eff.changes.extend((uid, ch) for ch in step.changes)
                eff.operators.add(uid)
        return eff

    return act


@admin.delete("/{campaign_id}", status_code=204, operation_id="delete_campaign")
def delete_campaign(
    campaign_id: int,
    request: Request,
    session: SessionDep,
    principal: DomainAdmin,
    svc: AcdDep,
    at: AcdNow,
) -> Response:
    c = _get_campaign(session, principal, campaign_id)
    domain_id = c.domain_id
    agents = list(
        session.execute(
            select(CampaignAgent.user_id).where(CampaignAgent.campaign_id == c.id)
        ).scalars()
    )
    audit.record(session, principal, "delete", "campaign", c.id, c.name, audit.snapshot(c), None)
    session.delete(c)
    flush(session)
    run_announced(request, session, svc, domain_id, at, _end_campaign_state(agents))  # commits
    _publish_campaign(request, "deleted", domain_id, campaign_id)
    return Response(status_code=204)


# --- admin: statuses ---------------------------------------------------------------------------


class StatusIn(BaseModel):
    name: str = Field(min_length=1, max_length=120)


@admin.post("/{campaign_id}/statuses", status_code=201, operation_id="create_campaign_status")
def create_status(
    campaign_id: int,
    body: StatusIn,
    request: Request,
    session: SessionDep,
    principal: DomainAdmin,
    at: AcdNow,
) -> dict[str, Any]:
    c = _get_campaign(session, principal, campaign_id)
    name = _required_name(body.name, "введите название статуса", "enter the status name")
    if any(s.name.casefold() == name.casefold() for s in _statuses(session, c.id)):
        raise field_error("name", "такой статус уже есть", "this status already exists", 409)
    position = max((s.position for s in _statuses(session, c.id)), default=0) + 1
    status = CampaignStatus(
        domain_id=c.domain_id, campaign_id=c.id, name=name, kind="custom", position=position
    )
    session.add(status)
    flush(session)
    after = audit.snapshot(status)
    audit.record(session, principal, "create", "campaign_status", status.id, name, None, after)
    session.commit()
    _publish_campaign(request, "updated", c.domain_id, c.id)
    return campaign_view(session, c, at)


@admin.delete(
    "/{campaign_id}/statuses/{status_id}", status_code=204, operation_id="delete_campaign_status"
)
def delete_status(
    campaign_id: int,
    status_id: int,
    request: Request,
    session: SessionDep,
    principal: DomainAdmin,
) -> Response:
    c = _get_campaign(session, principal, campaign_id)
    status = session.get(CampaignStatus, status_id)
    if status is None or status.campaign_id != c.id:
        raise not_found("status")
    if status.kind != "custom":
        raise ApiError(
            409,
            "fixed_status",
            Text(
                f"Статус «{status.name}» нельзя удалить",
                f"The status '{status.name}' cannot be deleted",
            ),
        )
    before = audit.snapshot(status)
    audit.record(session, principal, "delete", "campaign_status", status.id, status.name, before)
    session.delete(status)
    session.commit()
    _publish_campaign(request, "updated", c.domain_id, c.id)
    return Response(status_code=204)


# --- admin: the call list ----------------------------------------------------------------------


@admin.get("/{campaign_id}/clients", operation_id="list_campaign_clients")
def list_clients(
    campaign_id: int,
    session: SessionDep,
    principal: DomainSupervisor,
    search: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[str, Query(max_length=120)] = "",
) -> dict[str, Any]:
    """«В списке N клиентов. Обзвонили M» and the rows; filters by text and by status name."""
    c = _get_campaign(session, principal, campaign_id)
    query = select(CampaignClient).where(CampaignClient.campaign_id == c.id)
    if search.strip():
        like = f"%{search.strip()}%"
        query = query.where(or_(CampaignClient.name.ilike(like), CampaignClient.notes.ilike(like)))
    rows = list(
        session.execute(query.order_by(CampaignClient.position, CampaignClient.id)).scalars()
    )
    if search.strip():
        digits = cm.number_key(search)
        if digits:
            extra = session.execute(
                select(CampaignClient).where(CampaignClient.campaign_id == c.id)
            ).scalars()
            ids = {r.id for r in rows}
            rows += [
                r
                for r in extra
                if r.id not in ids and any(digits in cm.number_key(n) for n in r.numbers or ())
            ]
            rows.sort(key=lambda r: (r.position, r.id))
    if status:
        rows = [r for r in rows if (r.status_name or cm.INITIAL_STATUS) == status]
    progress = progress_of(session, c.id)
    return {
        "total": progress.total,
        "called": progress.called,
        "items": [_client_view(r) for r in rows],
    }


class ClientIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    numbers: list[str] = Field(min_length=1, max_length=10)
    notes: str = Field(default="", max_length=2000)


def _used_numbers(session: Session, campaign_id: int) -> set[str]:
    rows = session.execute(
        select(CampaignClient.numbers).where(CampaignClient.campaign_id == campaign_id)
    ).scalars()
    return {n for numbers in rows for n in (numbers or ())}


def _next_position(session: Session, campaign_id: int) -> int:
    top = session.execute(
        select(func.max(CampaignClient.position)).where(CampaignClient.campaign_id == campaign_id)
    ).scalar_one_or_none()
    return (top or 0) + 1


@admin.post("/{campaign_id}/clients", status_code=201, operation_id="create_campaign_client")
def create_client(
    campaign_id: int,
    body: ClientIn,
    request: Request,
    session: SessionDep,
    principal: DomainAdmin,
) -> dict[str, Any]:
    c = _get_campaign(session, principal, campaign_id)
    name = _required_name(body.name, "введите имя клиента", "enter the client's name")
    used = _used_numbers(session, c.id)
    numbers: list[str] = []
    for index, raw in enumerate(body.numbers):
        number, problem = normalise_number(raw)
        where = f"numbers[{index}]"
        if problem is not None or number is None:
            assert problem is not None
            raise field_error(where, problem.ru, problem.en)
        if number in used or number in numbers:
            raise field_error(
                where,
                f"номер {number} уже есть в списке обзвона",
                f"the number {number} is already in the call list",
                409,
            )
        numbers.append(number)
    row = CampaignClient(
        domain_id=c.domain_id,
        campaign_id=c.id,
        position=_next_position(session, c.id),
        name=name,
        numbers=numbers,
        notes=body.notes.strip(),
    )
    session.add(row)
    flush(session)
    _audit_client(session, principal, row)
    session.commit()
    _publish_progress(request, session, c, None)
    return _client_view(row)


@admin.delete("/{campaign_id}/clients", operation_id="clear_campaign_clients")
def clear_clients(
    campaign_id: int, request: Request, session: SessionDep, principal: DomainAdmin
) -> dict[str, Any]:
    """«Очистить список»: every client (and their attempts) goes."""
    c = _get_campaign(session, principal, campaign_id)
    count = session.execute(
        select(func.count()).select_from(CampaignClient).where(CampaignClient.campaign_id == c.id)
    ).scalar_one()
    session.execute(delete(CampaignAttempt).where(CampaignAttempt.campaign_id == c.id))
    session.execute(delete(CampaignClient).where(CampaignClient.campaign_id == c.id))
    audit.record(
        session,
        principal,
        "delete",
        "campaign_call_list",
        c.id,
        c.name,
        {"clients": count},
        {"clients": 0},
    )
    session.commit()
    _publish_progress(request, session, c, None)
    return {"deleted": count}


@admin.get(
    "/{campaign_id}/clients/export",
    operation_id="export_campaign_clients",
    response_class=Response,
    responses={200: {"content": {CSV_MEDIA_TYPE: {}}}},
)
def export_clients(
    campaign_id: int, request: Request, session: SessionDep, principal: DomainSupervisor
) -> Response:
    """«Скачать список»: the results report, one line per client (CSV for Excel)."""
    c = _get_campaign(session, principal, campaign_id)
    en = language(request) == "en"
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        ["Client", "Status", "Numbers", "Notes", "Attempts", "Comment", "Result at"]
        if en
        else [
            "Клиент",
            "Статус",
            "Номера",
            "Примечания",
            "Попыток",
            "Комментарий",
            "Время результата",
        ]
    )
    rows = session.execute(
        select(CampaignClient)
        .where(CampaignClient.campaign_id == c.id)
        .order_by(CampaignClient.position, CampaignClient.id)
    ).scalars()
    for r in rows:
        writer.writerow(
            [
                r.name,
                r.status_name or cm.INITIAL_STATUS,
                " ".join(r.numbers or ()),
                r.notes,
                r.attempts_used,
                r.comment,
                _iso(r.result_at) or "",
            ]
        )
    return Response(
        ("\ufeff" + buffer.getvalue()).encode("utf-8"),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="campaign-{c.id}.csv"'},
    )


# --- admin: import -----------------------------------------------------------------------------


@router.get(
    "/import/campaign-clients/template",
    operation_id="get_campaign_client_template",
    response_class=Response,
    responses={200: {"content": {CSV_MEDIA_TYPE: {}, XLSX_MEDIA_TYPE: {}}}},
)
def client_template(principal: DomainAdmin, format: Format = "xlsx") -> Response:
    return template_response(CLIENT_COLUMNS, CLIENT_SAMPLE, "Clients", format)


def _check_file(session: Session, c: Campaign, file: UploadFile) -> Outcome[NewClient]:
    return check_clients(read_upload(file, CLIENT_COLUMNS), _used_numbers(session, c.id))


def _import_report(outcome: Outcome[NewClient], lang: str) -> dict[str, Any]:
    return {
        "rows_total": outcome.rows_total,
        "rows_valid": outcome.rows_valid,
        "rows_invalid": outcome.rows_invalid,
        **import_problems(outcome, lang),
    }


@admin.post("/{campaign_id}/import/check", operation_id="check_campaign_client_import")
def check_import(
    campaign_id: int,
    request: Request,
    session: SessionDep,
    principal: DomainAdmin,
    file: Upload,
) -> dict[str, Any]:
    c = _get_campaign(session, principal, campaign_id)
    return _import_report(_check_file(session, c, file), language(request))


@admin.post("/{campaign_id}/import/create", operation_id="create_campaign_client_import")
def create_import(
    campaign_id: int,
    request: Request,
    session: SessionDep,
    principal: DomainAdmin,
    file: Upload,
) -> dict[str, Any]:
    """All or nothing: a file with any error is refused whole and names every bad cell."""
    c = _get_campaign(session, principal, campaign_id)
    outcome = _check_file(session, c, file)
    lang = language(request)
    if outcome.errors:
        problems = [
            FieldProblem(
                "file",
                Text(
                    f"Строка {p.line}, столбец {p.column}: {p.message.ru}",
                    f"Line {p.line}, column {p.column}: {p.message.en}",
                ),
            )
            for p in outcome.errors
        ]
        raise ApiError(
            422,
            "import_has_errors",
            Text(
                f"Список не загружен: ошибок в файле — {len(outcome.errors)}; исправьте их и "
                "загрузите файл снова",
                f"The list was not loaded: the file has {len(outcome.errors)} error(s); fix "
                "them and upload the file again",
            ),
            problems,
        )
    position = _next_position(session, c.id)
    rows = []
    for offset, new in enumerate(outcome.valid):
        row = CampaignClient(
            domain_id=c.domain_id,
            campaign_id=c.id,
            position=position + offset,
            name=new.name,
            numbers=list(new.numbers),
            notes=new.notes,
        )
        session.add(row)
        rows.append(row)
    flush(session)
    for row in rows:
        _audit_client(session, principal, row)
    session.commit()
    _publish_progress(request, session, c, None)
    return {"created": len(rows), **_import_report(outcome, lang)}


# --- the operator ------------------------------------------------------------------------------


def _start_campaign_state(uid: int) -> Action:
    def act(d: Dispatcher, now: float) -> Effects:
        op = d.operator(uid)
        if op.state == State.CAMPAIGN:
            return Effects()
        step = opm.start_campaign(op, now)
        d.put_operator(step.operator)
        return Effects(changes=[(uid, ch) for ch in step.changes], operators={uid})

    return act


def _groups_of(session: Session, uid: int) -> set[int]:
    return set(
        session.execute(select(GroupMember.group_id).where(GroupMember.user_id == uid)).scalars()
    )


def _agent(session: Session, uid: int) -> tuple[CampaignAgent | None, Campaign | None]:
    """The operator's campaign agent row and the campaign it names."""
    agent = session.get(CampaignAgent, uid)
    return agent, session.get(Campaign, agent.campaign_id) if agent else None


def _release_card(session: Session, c: Campaign | None, uid: int) -> None:
    """The card on the operator's screen goes back to its own list."""
    mine = _my_card(session, c, uid) if c else None
    if mine is not None:
        _store_card(mine, cm.release(card_of(mine)))


def _in_campaign_state(result: Result, uid: int) -> bool:
    return result.dispatcher.operator(uid).state == State.CAMPAIGN


def _my_card(session: Session, c: Campaign, uid: int) -> CampaignClient | None:
    return session.execute(
        select(CampaignClient).where(
            CampaignClient.campaign_id == c.id,
            CampaignClient.state == cm.CardState.ASSIGNED.value,
            CampaignClient.assigned_user_id == uid,
        )
    ).scalar_one_or_none()


def _available(session: Session, uid: int, domain_id: int, now: datetime) -> list[dict[str, Any]]:
    groups = _groups_of(session, uid)
    if not groups:
        return []
    rows = session.execute(
        select(Campaign)
        .where(Campaign.domain_id == domain_id, Campaign.group_id.in_(groups))
        .order_by(Campaign.name, Campaign.id)
    ).scalars()
    return [
        {
            "id": c.id,
            "name": c.name,
            "open_now": rules_of(c).open_at(ts(now)),
            "starts_at": _iso(c.starts_at),
            "ends_at": _iso(c.ends_at),
            "progress": progress_of(session, c.id).as_dict(),
        }
        for c in rows
        if c.active
    ]


def _operator_view(
    session: Session, principal: Principal, result: Result, now: datetime
) -> dict[str, Any]:
    uid = principal.id
    user = session.get(User, uid)
    login = user.login if user else ""
    _, c = _agent(session, uid)
    row = _my_card(session, c, uid) if c else None
    return {
        "in_campaign": c is not None and _in_campaign_state(result, uid),
        "state": result.dispatcher.operator(uid).state.value,
        "campaign": campaign_view(session, c, now) if c else None,
        "card": card_view(session, c, row, login, now) if c and row else None,
        "available": _available(session, uid, domain_of(principal), now),
    }


def _progress_and_view(
    request: Request,
    session: Session,
    principal: Principal,
    result: Result,
    at: datetime,
    c: Campaign | None,
) -> dict[str, Any]:
    """After an operator's step: the campaign's progress to its watchers, their view in reply."""
    if c is not None:
        _publish_progress(request, session, c, principal.id)
    return _operator_view(session, principal, result, at)


def _tick(
    request: Request, session: Session, principal: Principal, svc: AcdService, at: datetime
) -> Result:
    return run_announced(request, session, svc, domain_of(principal), at)


def _working(
    session: Session, principal: Principal, result: Result
) -> tuple[Campaign, CampaignAgent]:
    agent, c = _agent(session, principal.id)
    if agent is None or c is None or not _in_campaign_state(result, principal.id):
        raise ApiError(
            409,
            "not_in_campaign",
            Text(
                "Вы не работаете в кампании: выберите кампанию и начните работу",
                "You are not working in a campaign: choose one and start",
            ),
        )
    return c, agent


@operator.get("", operation_id="operator_campaign")
def my_campaign(
    request: Request, session: SessionDep, principal: OperatorDep, svc: AcdDep, at: AcdNow
) -> dict[str, Any]:
    """The operator's campaign, card on screen (with attempts) and the campaigns to join."""
    result = _tick(request, session, principal, svc, at)
    return _operator_view(session, principal, result, at)


class StartIn(BaseModel):
    campaign_id: int


@operator.post("/start", operation_id="operator_campaign_start")
def start(
    body: StartIn,
    request: Request,
    session: SessionDep,
    principal: OperatorDep,
    svc: AcdDep,
    at: AcdNow,
) -> dict[str, Any]:
    """Enter the «Исходящая кампания» state for a campaign of one's group."""
    uid, domain_id = principal.id, domain_of(principal)
    c = session.get(Campaign, body.campaign_id)
    if c is None or c.domain_id != domain_id:
        raise field_error("campaign_id", "нет такой кампании", "no such campaign")
    if c.group_id is None or c.group_id not in _groups_of(session, uid):
        raise field_error(
            "campaign_id",
            "кампанию обзванивают операторы другой группы",
            "the campaign is worked by another group's operators",
            403,
        )
    if not rules_of(c).open_at(ts(at)):
        raise field_error(
            "campaign_id",
            "кампания не активна или вне периода обзвона",
            "the campaign is not active or outside its dialling period",
            409,
        )
    agent, old = _agent(session, uid)
    if agent is not None and agent.campaign_id != c.id:
        _release_card(session, old, uid)  # switching campaigns
        agent.campaign_id, agent.since = c.id, at
    elif agent is None:
        session.add(CampaignAgent(user_id=uid, domain_id=domain_id, campaign_id=c.id, since=at))
    flush(session)
    # Commits the agent row with the interval.
    result = run_announced(request, session, svc, domain_id, at, _start_campaign_state(uid))
    return _progress_and_view(request, session, principal, result, at, c)


@operator.post("/stop", operation_id="operator_campaign_stop")
def stop(
    request: Request, session: SessionDep, principal: OperatorDep, svc: AcdDep, at: AcdNow
) -> dict[str, Any]:
    """Leave the campaign state; a card on screen goes back to the list unharmed."""
    uid, domain_id = principal.id, domain_of(principal)
    agent, c = _agent(session, uid)
    _release_card(session, c, uid)
    if agent is not None:
        session.delete(agent)
    flush(session)
    result = run_announced(request, session, svc, domain_id, at, _end_campaign_state([uid]))
    return _progress_and_view(request, session, principal, result, at, c)


@operator.post("/next", operation_id="operator_campaign_next")
def next_card(
    request: Request, session: SessionDep, principal: OperatorDep, svc: AcdDep, at: AcdNow
) -> dict[str, Any]:
    """Put the next card on the operator's screen (their own card in work comes first)."""
    result = _tick(request, session, principal, svc, at)
    c, _ = _working(session, principal, result)
    uid = principal.id
    rows = list(
        session.execute(
            select(CampaignClient).where(
                CampaignClient.campaign_id == c.id,
                CampaignClient.state != cm.CardState.DONE.value,
            )
        ).scalars()
    )
    # A card left on the screen of an operator who is no longer in this campaign's state
    # (went offline, switched campaigns) goes back to the list.
    working = {
        a.user_id
        for a in session.execute(
            select(CampaignAgent).where(CampaignAgent.campaign_id == c.id)
        ).scalars()
        if result.dispatcher.operator(a.user_id).state == State.CAMPAIGN
    }
    for row in rows:
        if row.state == cm.CardState.ASSIGNED.value and row.assigned_user_id not in working:
            _store_card(row, cm.release(card_of(row)))
    chosen = cm.next_card([card_of(r) for r in rows], uid, rules_of(c), ts(at))
    if chosen is not None:
        row = next(r for r in rows if r.id == chosen.client_id)
        if row.state != cm.CardState.ASSIGNED.value:
            before = audit.snapshot(row)
            _store_card(row, cm.take(chosen, uid))
            flush(session)
            _audit_client(session, principal, row, before)
    session.commit()
    view = _progress_and_view(request, session, principal, result, at, c)
    if view["card"] is None:
        view["message"] = Text(
            "Карточек для обзвона сейчас нет", "There are no cards to call now"
        ).pick(language(request))
    return view


@operator.post("/attempts", status_code=201, operation_id="operator_campaign_attempt")
def start_attempt(
    request: Request, session: SessionDep, principal: OperatorDep, svc: AcdDep, at: AcdNow
) -> dict[str, Any]:
    """Record an attempt on the card on screen and answer with the numbers to dial now."""
    result = _tick(request, session, principal, svc, at)
    c, _ = _working(session, principal, result)
    uid = principal.id
    row = _my_card(session, c, uid)
    if row is None:
        raise ApiError(
            409,
            "no_card",
            Text("Возьмите карточку клиента", "Take a client card first"),
        )
    before = audit.snapshot(row)
    try:
        card, numbers = cm.start_attempt(card_of(row), uid, rules_of(c), ts(at))
    except cm.CampaignError as exc:
        raise transition_error(exc) from exc
    _store_card(row, card)
    attempt = CampaignAttempt(
        domain_id=c.domain_id,
        campaign_id=c.id,
        client_id=row.id,
        user_id=uid,
        numbers=list(numbers),
        started_at=at,
    )
    session.add(attempt)
    flush(session)
    _audit_client(session, principal, row, before)
    audit.record(
        session,
        principal,
        "create",
        "campaign_attempt",
        attempt.id,
        row.name,
        None,
        audit.snapshot(attempt),
    )
    session.commit()
    view = _progress_and_view(request, session, principal, result, at, c)
    view["attempt"] = {
        "id": attempt.id,
        "numbers": list(numbers),
        "method": c.method,
        "ring_seconds": cm.RING_SECONDS,
        "ring_until": _iso(dt(cm.ring_deadline(ts(at)))),
        "max_minutes": c.max_minutes,
    }
    return view


class FinishIn(BaseModel):
    outcome: Literal["answered", "no_answer", "busy", "failed"]


@operator.post("/attempts/{attempt_id}/finish", operation_id="operator_campaign_attempt_finish")
def finish_attempt(
    attempt_id: int,
    body: FinishIn,
    request: Request,
    session: SessionDep,
    principal: OperatorDep,
    svc: AcdDep,
    at: AcdNow,
) -> dict[str, Any]:
    """What the softphone saw; counts only when the edge has no call record of the attempt."""
    result = _tick(request, session, principal, svc, at)
    attempt = session.get(CampaignAttempt, attempt_id)
    if (
        attempt is None
        or attempt.domain_id != principal.domain_id
        or attempt.user_id != principal.id
    ):
        raise not_found("attempt")
    if attempt.reported_outcome is not None:
        raise ApiError(
            409,
            "attempt_finished",
            Text("Эта попытка уже завершена", "This attempt is already finished"),
        )
    before = audit.snapshot(attempt)
    attempt.reported_outcome = body.outcome
    attempt.reported_at = at
    flush(session)
    audit.record(
        session,
        principal,
        "update",
        "campaign_attempt",
        attempt.id,
        "",
        before,
        audit.snapshot(attempt),
    )
    session.commit()
    return _operator_view(session, principal, result, at)


class ResultIn(BaseModel):
    status_id: int
    callback_at: datetime | None = None
    comment: str = Field(default="", max_length=2000)


@operator.post("/result", operation_id="operator_campaign_result")
def record_result(
    body: ResultIn,
    request: Request,
    session: SessionDep,
    principal: OperatorDep,
    svc: AcdDep,
    at: AcdNow,
) -> dict[str, Any]:
    """The result status of the card on screen; with ``callback_at`` it comes back to me then."""
    result = _tick(request, session, principal, svc, at)
    uid = principal.id
    _, c = _agent(session, uid)
    row = _my_card(session, c, uid) if c else None
    if c is None or row is None:
        raise ApiError(
            409, "no_card", Text("У вас нет карточки клиента", "You have no client card")
        )
    status = session.get(CampaignStatus, body.status_id)
    if status is None or status.campaign_id != c.id:
        raise field_error("status_id", "нет такого статуса", "no such status")
    callback = ts(_aware(body.callback_at)) if body.callback_at is not None else None
    before = audit.snapshot(row)
    try:
        card = cm.record_result(
            card_of(row), uid, cm.StatusKind(status.kind), rules_of(c), ts(at), callback
        )
    except cm.CampaignError as exc:
        field = "callback_at" if exc.code.startswith("callback") else "status_id"
        raise ApiError(
            409 if field == "status_id" else 422,
            exc.code,
            Text(exc.ru, exc.en),
            [FieldProblem(field, Text(exc.ru, exc.en))],
        ) from exc
    _store_card(row, card)
    row.status_id, row.status_name = status.id, status.name
    row.comment = body.comment.strip()
    row.result_at, row.result_user_id = at, uid
    flush(session)
    _audit_client(session, principal, row, before)
    session.commit()
    return _progress_and_view(request, session, principal, result, at, c)


router.include_router(admin)
router.include_router(operator)
