"""Operator messages (spec 02 §2): supervisors and admins write to the operators of one or more
groups; an operator confirms reading by entering their password again.

Recipients are fixed when the message is sent: the active operators of the chosen groups at
that moment (an operator who joins a group later does not get old messages). A group without
operators refuses the whole message, naming ``group_ids``. A wrong password is a 403 and is not
counted towards the login lockout (the operator is already signed in).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server_stub.api import audit
from server_stub.api.acd_service import OPERATORS, SUPERVISORS, AcdNow, OperatorDep
from server_stub.api.crud import publish
from server_stub.api.deps import DomainSupervisor, SessionDep
from server_stub.api.errors import ApiError, Text, field_error, not_found
from server_stub.api.security import verify_password
from server_stub.store.models import CallGroup, GroupMember, User
from server_stub.store.models_acd import OperatorMessage, OperatorMessageRecipient

router = APIRouter(tags=["operator-messages"])

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]


class MessageIn(BaseModel):
    title: Title
    text: Body
    group_ids: list[int] = Field(min_length=1, max_length=100)


class AckIn(BaseModel):
    password: str = Field(min_length=1, max_length=200)


def _recipients(session: Session, domain_id: int, group_ids: list[int]) -> set[int]:
    groups = {
        g.id: g
        for g in session.execute(
            select(CallGroup).where(CallGroup.domain_id == domain_id, CallGroup.id.in_(group_ids))
        ).scalars()
    }
    missing = [gid for gid in group_ids if gid not in groups]
    if missing:
        raise field_error("group_ids", "группа не найдена", "the group was not found")
    users: set[int] = set()
    for gid in dict.fromkeys(group_ids):
        ops = set(
            session.execute(
                select(User.id)
                .join(GroupMember, GroupMember.user_id == User.id)
                .where(
                    GroupMember.group_id == gid,
                    User.is_operator.is_(True),
                    User.active.is_(True),
                )
            ).scalars()
        )
        if not ops:
            name = groups[gid].name
            raise field_error(
                "group_ids",
                f"В выбранной группе нет ни одного оператора («{name}»)",
                f"The chosen group has no operators ('{name}')",
            )
        users |= ops
    return users


def _counts(session: Session, message_ids: list[int]) -> dict[int, tuple[int, int]]:
    if not message_ids:
        return {}
    rows = session.execute(
        select(
            OperatorMessageRecipient.message_id,
            func.count(),
            func.count(OperatorMessageRecipient.read_at),
        )
        .where(OperatorMessageRecipient.message_id.in_(message_ids))
        .group_by(OperatorMessageRecipient.message_id)
    ).all()
    return {mid: (int(read), int(total)) for mid, total, read in rows}


def _view(msg: OperatorMessage, read: int, total: int) -> dict[str, Any]:
    return {
        "id": msg.id,
        "title": msg.title,
        "text": msg.text,
        "group_ids": msg.group_ids,
        "author": msg.author,
        "created_at": msg.created_at.isoformat(),
        "read_count": read,
        "recipient_count": total,
        "read": f"{read}/{total}",
    }


def _message(session: Session, domain_id: int, message_id: int) -> OperatorMessage:
    msg = session.get(OperatorMessage, message_id)
    if msg is None or msg.domain_id != domain_id:
        raise not_found("message")
    return msg


@router.post("/operator-messages", status_code=201, operation_id="create_operator_message")
def create_message(
    body: MessageIn,
    request: Request,
    session: SessionDep,
    principal: DomainSupervisor,
    at: AcdNow,
) -> dict[str, Any]:
    assert principal.domain_id is not None
    users = _recipients(session, principal.domain_id, body.group_ids)
    msg = OperatorMessage(
        domain_id=principal.domain_id,
        title=body.title,
        text=body.text,
        group_ids=list(dict.fromkeys(body.group_ids)),
        author=principal.login,
        created_at=at,
    )
    session.add(msg)
    session.flush()
    session.add_all(OperatorMessageRecipient(message_id=msg.id, user_id=u) for u in users)
    after = audit.snapshot(msg) | {"recipients": sorted(users)}
    audit.record(session, principal, "create", "operator_message", msg.id, msg.title, None, after)
    session.commit()
    data = {"id": msg.id, "title": msg.title, "user_ids": sorted(users)}
    publish(request, "operator_message.created", principal.domain_id, data, OPERATORS)
    publish(request, "operator_message.created", principal.domain_id, data, SUPERVISORS)
    return _view(msg, 0, len(users))


@router.get("/operator-messages", operation_id="list_operator_messages")
def list_messages(session: SessionDep, principal: DomainSupervisor) -> dict[str, Any]:
    msgs = list(
        session.execute(
            select(OperatorMessage)
            .where(OperatorMessage.domain_id == principal.domain_id)
            .order_by(OperatorMessage.created_at.desc(), OperatorMessage.id.desc())
        ).scalars()
    )
    counts = _counts(session, [m.id for m in msgs])
    items = [_view(m, *counts.get(m.id, (0, 0))) for m in msgs]
    return {"items": items, "total": len(items)}


@router.get("/operator-messages/{message_id}/report", operation_id="operator_message_report")
def message_report(
    message_id: int, session: SessionDep, principal: DomainSupervisor
) -> dict[str, Any]:
    assert principal.domain_id is not None
    _message(session, principal.domain_id, message_id)
    rows = session.execute(
        select(User, OperatorMessageRecipient.read_at)
        .join(OperatorMessageRecipient, OperatorMessageRecipient.user_id == User.id)
        .where(OperatorMessageRecipient.message_id == message_id)
        .order_by(User.display_name, User.id)
    ).all()

    def person(user: User, read_at: datetime | None) -> dict[str, Any]:
        out: dict[str, Any] = {"user_id": user.id, "name": user.display_name, "login": user.login}
        if read_at is not None:
            out["read_at"] = read_at.isoformat()
        return out

    return {
        "read": [person(u, r) for u, r in rows if r is not None],
        "unread": [person(u, r) for u, r in rows if r is None],
    }


@router.delete(
    "/operator-messages/{message_id}",
    status_code=204,
    response_class=Response,
    operation_id="delete_operator_message",
)
def delete_message(
    message_id: int, request: Request, session: SessionDep, principal: DomainSupervisor
) -> Response:
    assert principal.domain_id is not None
    msg = _message(session, principal.domain_id, message_id)
    before = audit.snapshot(msg)
    session.delete(msg)
    session.flush()
    audit.record(
        session, principal, "delete", "operator_message", message_id, msg.title, before, None
    )
    session.commit()
    publish(request, "operator_message.deleted", principal.domain_id, {"id": message_id})
    return Response(status_code=204)


def _own(session: Session, user_id: int, message_id: int | None = None) -> list[Any]:
    stmt = (
        select(OperatorMessage, OperatorMessageRecipient)
        .join(OperatorMessageRecipient, OperatorMessageRecipient.message_id == OperatorMessage.id)
        .where(OperatorMessageRecipient.user_id == user_id)
    )
    if message_id is not None:
        stmt = stmt.where(OperatorMessage.id == message_id)
    return list(session.execute(stmt).all())


def _own_view(msg: OperatorMessage, rec: OperatorMessageRecipient) -> dict[str, Any]:
    return {
        "id": msg.id,
        "title": msg.title,
        "text": msg.text,
        "author": msg.author,
        "created_at": msg.created_at.isoformat(),
        "read_at": rec.read_at.isoformat() if rec.read_at else None,
    }


@router.get("/operator/messages", operation_id="operator_messages")
def my_messages(session: SessionDep, principal: OperatorDep) -> dict[str, Any]:
    """Unread first, then newest first."""
    rows = _own(session, principal.id)
    rows.sort(key=lambda r: (r[1].read_at is not None, -r[0].created_at.timestamp(), -r[0].id))
    items = [_own_view(m, r) for m, r in rows]
    unread = sum(1 for m, r in rows if r.read_at is None)
    return {"items": items, "total": len(items), "unread": unread}


@router.post("/operator/messages/{message_id}/ack", operation_id="operator_ack_message")
def ack_message(
    message_id: int,
    body: AckIn,
    request: Request,
    session: SessionDep,
    principal: OperatorDep,
    at: AcdNow,
) -> dict[str, Any]:
    rows = _own(session, principal.id, message_id)
    if not rows:
        raise not_found("message")
    msg, rec = rows[0]
    user = session.get(User, principal.id)
    if user is None or not verify_password(user.password_hash, body.password):
        raise ApiError(
            403,
            "wrong_password",
            Text(
                "Неверный пароль: прочтение не подтверждено",
                "Wrong password: reading was not confirmed",
            ),
        )
    if rec.read_at is None:
        rec.read_at = at
        audit.record(
            session,
            principal,
            "acknowledge",
            "operator_message",
            msg.id,
            msg.title,
            None,
            {"user_id": principal.id, "read_at": at.isoformat()},
        )
        session.commit()
        data = {"id": msg.id, "user_id": principal.id}
        assert principal.domain_id is not None
        publish(request, "operator_message.read", principal.domain_id, data, SUPERVISORS)
    return _own_view(msg, rec)
