"""Supervisor listen-in, whisper and barge-in on an operator's call (issue 6).

The server authorises, the operator's softphone mixes. A supervisor (or the domain's admin)
starts a session for an operator of their own domain who is in a call; the answer names a
one-time ``target`` the supervisor's softphone dials. The SIP edge asks ``/api/sip/route``
about that number, and the server answers with one branch to the operator's phone carrying
``X-Pult-Spy: <mode>;session=<id>`` (the edge strips that header from every client's INVITE,
so only the server can set it). The operator's phone answers such a call silently and wires
its conference bridge for the mode:

- listen: the supervisor hears the customer and the operator; nobody hears the supervisor;
- whisper: as listen, and the operator hears the supervisor (the customer does not);
- barge: everyone hears everyone.

A mode change is a PATCH here (audited); the supervisor's phone then sends the new mode
inside the call (a SIP MESSAGE of type application/x-pult-spy: pjsua answers an unknown INFO
with 500 and lets the application no say), and the edge relays it only if this server
confirms that the session's current mode is exactly that (``POST /api/sip/spy/mode``).
Start, every mode change and the end are in the audit.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from server_stub.api import audit
from server_stub.api.acd_service import SUPERVISORS
from server_stub.api.crud import publish
from server_stub.api.deps import DomainSupervisor, Principal, SessionDep
from server_stub.api.errors import ApiError, Text, not_found
from server_stub.api.sip_auth import require_edge
from server_stub.routing.plan import Branch, BranchKind, Decision, Final, Stage
from server_stub.store.models import Domain, User
from server_stub.store.models_calls import Cdr
from server_stub.store.models_spy import SpySession

router = APIRouter()
people = APIRouter(prefix="/acd/spy", tags=["acd-spy"])
edge = APIRouter(prefix="/sip/spy", tags=["sip"], dependencies=[Depends(require_edge)])

#: What the supervisor's phone dials: ``spy-<token>`` in its own domain.
PREFIX = "spy-"
HEADER = "X-Pult-Spy"
RING_SECONDS = 15  # the operator's phone answers at once; this only bounds a lost INVITE
Mode = Literal["listen", "whisper", "barge"]
MODE_TEXT = {
    "listen": ("прослушивание", "listen-in"),
    "whisper": ("подсказка оператору", "whisper"),
    "barge": ("вмешательство в разговор", "barge-in"),
}


class SpyIn(BaseModel):
    operator_id: int
    mode: Mode = "listen"


class ModeIn(BaseModel):
    mode: Mode


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _view(row: SpySession, target: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.id,
        "operator_id": row.operator_id,
        "supervisor_id": row.supervisor_id,
        "mode": row.mode,
        "call_id": row.call_id,
        "connected": row.spy_call_id is not None,
        "started_at": row.started_at.isoformat(),
        "ended_at": row.ended_at.isoformat() if row.ended_at else None,
    }
    if target is not None:
        out["target"] = target
    return out


def _supervisor(session: Session, principal: Principal) -> User:
    """The caller as a person with a softphone in this domain (a pool admin has none)."""
    user = session.get(User, principal.user_id) if principal.user_id is not None else None
    if user is None or user.domain_id != principal.domain_id:
        raise ApiError(
            403,
            "no_softphone",
            Text(
                "Прослушивание доступно только сотруднику домена с программным телефоном",
                "Listening in needs an employee of the domain with a softphone",
            ),
        )
    return user


def operator_call(session: Session, domain: Domain, operator: User) -> Cdr | None:
    """The operator's call now: answered, not over, made or taken by them (not a spy call)."""
    spy_calls = select(SpySession.spy_call_id).where(SpySession.spy_call_id.is_not(None))
    return session.execute(
        select(Cdr)
        .where(
            Cdr.domain_id == domain.id,
            Cdr.answered_at.is_not(None),
            Cdr.ended_at.is_(None),
            (Cdr.answered_by == f"sip:{operator.login}@{domain.name}")
            | (Cdr.caller_user_id == operator.id),
            Cdr.call_id.not_in(spy_calls),
        )
        .order_by(Cdr.answered_at.desc(), Cdr.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def close_finished(session: Session, domain_id: int | None) -> list[SpySession]:
    """End the sessions whose calls are over: the operator's call ended (nothing left to
    listen to) or the supervisor hung up without pressing «Закончить». The edge reports call
    ends to the CDRs, so they are read from there; the end is audited as the system's."""
    rows = list(
        session.execute(
            select(SpySession).where(
                SpySession.domain_id == domain_id, SpySession.ended_at.is_(None)
            )
        ).scalars()
    )
    ids = {r.call_id for r in rows} | {r.spy_call_id for r in rows if r.spy_call_id}
    if not ids:
        return []
    ended = dict(
        session.execute(
            select(Cdr.call_id, Cdr.ended_at).where(Cdr.call_id.in_(ids), Cdr.ended_at.is_not(None))
        ).all()
    )
    closed = []
    for row in rows:
        over = ended.get(row.call_id) or (ended.get(row.spy_call_id) if row.spy_call_id else None)
        if over is None:
            continue
        before = audit.snapshot(row)
        row.ended_at = over
        audit.record(
            session,
            None,
            "end",
            "spy_session",
            row.id,
            _name(session, row),
            *audit.diff(before, audit.snapshot(row)),
            domain_id=row.domain_id,
            actor_login="system",
        )
        closed.append(row)
    if closed:
        session.flush()
    return closed


def _live(session: Session, principal: Principal, spy_id: int) -> SpySession:
    row = session.get(SpySession, spy_id)
    if row is None or row.domain_id != principal.domain_id:
        raise not_found("spy_session")
    if close_finished(session, principal.domain_id):
        session.commit()
    if row.ended_at is not None:
        raise ApiError(
            409,
            "spy_ended",
            Text("Сеанс прослушивания уже завершён", "The listen-in session is over"),
        )
    return row


def _name(session: Session, row: SpySession) -> str:
    op = session.get(User, row.operator_id)
    return op.login if op else str(row.operator_id)


@people.post("", status_code=201, operation_id="start_spy")
def start_spy(
    body: SpyIn, request: Request, session: SessionDep, principal: DomainSupervisor
) -> dict[str, Any]:
    domain = session.get(Domain, principal.domain_id)
    assert domain is not None
    operator = session.get(User, body.operator_id)
    if operator is None or operator.domain_id != domain.id or not operator.is_operator:
        raise not_found("operator")
    supervisor = _supervisor(session, principal)
    if supervisor.id == operator.id:
        raise ApiError(
            409,
            "spy_self",
            Text("Нельзя прослушивать самого себя", "You cannot listen to yourself"),
        )
    call = operator_call(session, domain, operator)
    if call is None:
        raise ApiError(
            409,
            "operator_not_in_call",
            Text(
                f"Оператор {operator.display_name or operator.login} сейчас не разговаривает",
                f"Operator {operator.display_name or operator.login} is not in a call now",
            ),
        )
    token = secrets.token_hex(16)
    row = SpySession(
        domain_id=domain.id,
        supervisor_id=supervisor.id,
        operator_id=operator.id,
        mode=body.mode,
        token_hash=_digest(token),
        call_id=call.call_id,
        started_at=_now(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        principal,
        "start",
        "spy_session",
        row.id,
        operator.login,
        None,
        audit.snapshot(row),
    )
    session.commit()
    publish(request, "spy.started", domain.id, _view(row), SUPERVISORS)
    # user@domain: the softphone dials it as typed (a bare "spy-…" is not a number).
    return _view(row, f"{PREFIX}{token}@{domain.name}")


@people.get("", operation_id="list_spy")
def list_spy(session: SessionDep, principal: DomainSupervisor) -> dict[str, Any]:
    """The domain's sessions that are not over, oldest first."""
    if close_finished(session, principal.domain_id):
        session.commit()
    rows = session.execute(
        select(SpySession)
        .where(SpySession.domain_id == principal.domain_id, SpySession.ended_at.is_(None))
        .order_by(SpySession.started_at, SpySession.id)
    ).scalars()
    items = [_view(r) for r in rows]
    return {"items": items, "total": len(items)}


@people.patch("/{spy_id}", operation_id="change_spy_mode")
def change_mode(
    spy_id: int, body: ModeIn, request: Request, session: SessionDep, principal: DomainSupervisor
) -> dict[str, Any]:
    row = _live(session, principal, spy_id)
    before = audit.snapshot(row)
    row.mode = body.mode
    session.flush()
    audit.record(
        session,
        principal,
        "change_mode",
        "spy_session",
        row.id,
        _name(session, row),
        *audit.diff(before, audit.snapshot(row)),
    )
    session.commit()
    publish(request, "spy.changed", row.domain_id, _view(row), SUPERVISORS)
    return _view(row)


@people.delete("/{spy_id}", status_code=204, response_class=Response, operation_id="end_spy")
def end_spy(
    spy_id: int, request: Request, session: SessionDep, principal: DomainSupervisor
) -> Response:
    """Ends the permission; the supervisor's phone hangs up its call (the edge lets no mode
    change through for an ended session). Ending one that ended with its call is no error:
    the supervisor's «Закончить» comes after the fact."""
    try:
        row = _live(session, principal, spy_id)
    except ApiError as exc:
        if exc.code == "spy_ended":
            return Response(status_code=204)
        raise
    before = audit.snapshot(row)
    row.ended_at = _now()
    session.flush()
    audit.record(
        session,
        principal,
        "end",
        "spy_session",
        row.id,
        _name(session, row),
        *audit.diff(before, audit.snapshot(row)),
    )
    session.commit()
    publish(request, "spy.ended", row.domain_id, {"id": row.id}, SUPERVISORS)
    return Response(status_code=204)


# --- the SIP edge -----------------------------------------------------------------------------


def _refused(ru: str, en: str) -> Decision:
    return Decision(refused=Final("reject", 403, "Forbidden: " + en), trace=((ru, en),))


def spy_plan(session: Session, domain: Domain, caller: User, called: str, call_id: str) -> Decision:
    """The ring plan for ``spy-<token>`` dialled by ``caller``: the operator's phone, with the
    header that makes it answer silently. The token opens one call; the caller must be the
    supervisor who started the session, and the session must still be on."""
    token = called[len(PREFIX) :]
    row = session.execute(
        select(SpySession).where(SpySession.token_hash == _digest(token))
    ).scalar_one_or_none()
    if row is None or row.domain_id != domain.id or row.supervisor_id != caller.id:
        return _refused("нет такого сеанса прослушивания", "no such listen-in session")
    if row.ended_at is not None:
        return _refused("сеанс прослушивания завершён", "the listen-in session is over")
    if row.spy_call_id is not None and row.spy_call_id != call_id:
        return _refused("этот сеанс уже подключён", "this listen-in session is already connected")
    operator = session.get(User, row.operator_id)
    if operator is None or not operator.active:
        return _refused("оператор недоступен", "the operator is not available")
    row.spy_call_id = call_id
    ru, en = MODE_TEXT[row.mode]
    branch = Branch(
        kind=BranchKind.SIP_USER,
        uri=f"sip:{operator.login}@{domain.name}",
        ring_seconds=RING_SECONDS,
        user_id=operator.id,
        label=operator.extension,
        headers=((HEADER, f"{row.mode};session={row.id}"),),
    )
    return Decision(
        stages=(Stage(branches=(branch,), timeout_seconds=RING_SECONDS, label="spy"),),
        on_no_answer=Final("reject", 480, "Operator not available"),
        direction="internal",
        trace=((f"{ru}: оператор {operator.extension}", f"{en}: operator {operator.extension}"),),
    )


class ModeCheck(BaseModel):
    call_id: str = Field(min_length=1, max_length=255)
    mode: str = Field(max_length=32)


@edge.post("/mode", operation_id="sip_spy_mode")
def check_mode(body: ModeCheck, session: SessionDep) -> dict[str, Any]:
    """May the supervisor's phone switch its call ``call_id`` to ``mode``? Only when the
    audited API set exactly that mode on a session still on (else 403: the INFO is refused)."""
    row = session.execute(
        select(SpySession).where(SpySession.spy_call_id == body.call_id)
    ).scalar_one_or_none()
    if row is None or row.ended_at is not None or row.mode != body.mode.strip():
        raise ApiError(
            403,
            "spy_mode_refused",
            Text(
                "Режим прослушивания не разрешён сервером",
                "The server has not allowed this listen-in mode",
            ),
        )
    return {"id": row.id, "mode": row.mode}


router.include_router(people)
router.include_router(edge)
