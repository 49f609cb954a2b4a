"""The live ACD of this server process: one dispatcher per domain, kept on ``app.state.acd``.

Why in memory: offers and answer timers change every second and must be decided in one place
(two deciders would offer one call to two operators). Why that is still safe to restart: every
step's interval changes and the calls the ACD holds are written in the same transaction
(``acd_store``), and a domain's dispatcher is rebuilt from them on first use.

Limitation (ARCHITECTURE.md, several server processes on PostgreSQL): each process would keep
its own dispatcher. Until the ACD gets a single owner (e.g. a PostgreSQL advisory lock per
domain electing one process, the others forwarding ACD requests), run one server process for
the ACD. Time only moves when somebody calls: every ACD request ticks first, and the
application should call :meth:`AcdService.tick_all` every second (see ``run_ticker``).

Each step runs on a copy of the dispatcher under a lock and replaces the live one only after
the database commit, so a failed step or a failed commit leaves both exactly as they were.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from server_stub.acd import operator as opm
from server_stub.acd import stats
from server_stub.acd.dispatcher import DEFAULT_AWAY_AFTER, Dispatcher, Effects, Offer
from server_stub.acd.operator import Operator, TransitionError
from server_stub.api.acd_store import GroupInfo, dt, load_groups, rebuild, store_effects, ts
from server_stub.api.crud import publish
from server_stub.api.deps import ADMIN, OPERATOR, SUPERVISOR, Principal, require_domain
from server_stub.api.errors import ApiError, Text
from server_stub.api.eventbus import user_audience
from server_stub.store.models import GroupMember, User
from server_stub.store.models_acd import BreakReason

SUPERVISORS = (SUPERVISOR, ADMIN)
OPERATORS = (OPERATOR,)


def now() -> datetime:
    """The ACD clock; tests override ``app.dependency_overrides[now]`` to move time."""
    return datetime.now(UTC)


AcdNow = Annotated[datetime, Depends(now)]
OperatorDep = Annotated[Principal, Depends(require_domain(OPERATOR))]

Action = Callable[[Dispatcher, float], Effects]


@dataclass
class Result:
    dispatcher: Dispatcher
    effects: Effects
    groups: dict[int, GroupInfo]
    now: float


def _merge(into: Effects, other: Effects) -> None:
    into.changes.extend(other.changes)
    into.offers.extend(other.offers)
    into.lapsed.extend(other.lapsed)
    into.operators |= other.operators
    into.groups |= other.groups
    into.ended.extend(other.ended)


def transition_error(exc: TransitionError, status: int = 409) -> ApiError:
    return ApiError(status, exc.code, Text(exc.ru, exc.en))


def domain_of(principal: Principal) -> int:
    """The domain of a principal that ``require_domain`` let through."""
    assert principal.domain_id is not None
    return principal.domain_id


class AcdService:
    def __init__(self, away_after: int = DEFAULT_AWAY_AFTER) -> None:
        self.away_after = away_after
        self._lock = threading.RLock()
        self._domains: dict[int, Dispatcher] = {}

    def run(
        self, session: Session, domain_id: int, at: datetime, action: Action | None = None
    ) -> Result:
        """Tick the domain to ``at``, apply ``action``, store and commit; raises ApiError."""
        now_ts = ts(at)
        with self._lock:
            configs, info = load_groups(session, domain_id)
            live = self._domains.get(domain_id)
            if live is None:
                work, eff = rebuild(session, domain_id, configs, now_ts, self.away_after)
            else:
                work, eff = live.copy(), Effects()
            work.set_groups(configs)
            try:
                _merge(eff, work.tick(now_ts))
                if action is not None:
                    _merge(eff, action(work, now_ts))
            except TransitionError as exc:
                raise transition_error(exc) from exc
            store_effects(session, domain_id, work, eff)
            session.commit()
            self._domains[domain_id] = work
        return Result(work, eff, info, now_ts)

    def peek(self, domain_id: int) -> Dispatcher | None:
        """The live dispatcher of a domain to read (never to change), None before first use."""
        with self._lock:
            return self._domains.get(domain_id)

    def domains(self) -> list[int]:
        with self._lock:
            return list(self._domains)


def service(request: Request) -> AcdService:
    state = request.app.state
    svc: AcdService | None = getattr(state, "acd", None)
    if svc is None:
        with _create_lock:
            svc = getattr(state, "acd", None)
            if svc is None:
                svc = state.acd = AcdService()
    return svc


_create_lock = threading.Lock()
AcdDep = Annotated[AcdService, Depends(service)]


async def run_ticker(app: FastAPI, interval: float = 1.0) -> None:
    """Expire offers and post-call work without waiting for a request (start in lifespan)."""
    while True:
        await asyncio.sleep(interval)
        svc: AcdService | None = getattr(app.state, "acd", None)
        if svc is None:
            continue
        for domain_id in svc.domains():
            await run_in_threadpool(_tick_one, app, svc, domain_id)


def _tick_one(app: FastAPI, svc: AcdService, domain_id: int) -> None:
    session: Session = app.state.session_factory()
    try:
        result = svc.run(session, domain_id, now())
        announce_bus(app, session, domain_id, result)
    finally:
        session.close()


# --- views ---------------------------------------------------------------------------------


def iso(at: float | None) -> str | None:
    return dt(at).isoformat() if at is not None else None


def crm_url(template: str, offer: Offer, login: str) -> str:
    """The CRM pane's URL: ``{caller}``, ``{call_id}``, ``{group}``, ``{operator}`` filled in."""
    values = {
        "caller": offer.call.caller,
        "call_id": offer.call.call_id,
        "group": str(offer.call.group_id),
        "operator": login,
    }
    return fill_url(template, values)


def fill_url(template: str, values: dict[str, str]) -> str:
    """``{key}`` in ``template`` replaced by the URL-quoted value."""
    url = template
    for key, value in values.items():
        url = url.replace("{" + key + "}", quote(value, safe=""))
    return url


def offer_view(
    offer: Offer, groups: dict[int, GroupInfo], login: str, now: float
) -> dict[str, Any]:
    info = groups.get(offer.call.group_id)
    return {
        "id": offer.offer_id,
        "call_id": offer.call.call_id,
        "caller": offer.call.caller,
        "vip": offer.call.vip_priority is not None,
        "group_id": offer.call.group_id,
        "group_name": info.name if info else "",
        "greeting_text": info.greeting_text if info else "",
        "crm_url_template": info.crm_url_template if info else "",
        "crm_url": crm_url(info.crm_url_template, offer, login) if info else "",
        "offered_at": iso(offer.offered_at),
        "expires_at": iso(offer.expires_at),
        "seconds_left": max(0, round(offer.expires_at - now)),
    }


def operator_row(op: Operator, user: User | None, now: float) -> dict[str, Any]:
    row = stats.operator_row(op, now)
    for key in ("status_since", "state_since", "since"):
        row[key] = iso(row[key])
    row["seconds_in_presence"] = round(row["seconds_in_presence"])
    row["name"] = user.display_name if user else ""
    row["login"] = user.login if user else ""
    row["extension"] = user.extension if user else ""
    return row


def group_row(
    d: Dispatcher, group_id: int, groups: dict[int, GroupInfo], now: float
) -> dict[str, Any]:
    row = stats.group_row(d, group_id, now)
    info = groups.get(group_id)
    row["name"] = info.name if info else ""
    return row


def me_view(session: Session, result: Result, user: User, login: str) -> dict[str, Any]:
    d, now_ts = result.dispatcher, result.now
    op = d.operator(user.id)
    row = operator_row(op, user, now_ts)
    reason = session.get(BreakReason, op.break_reason_id) if op.break_reason_id else None
    group_ids = session.execute(
        select(GroupMember.group_id).where(GroupMember.user_id == user.id)
    ).scalars()
    offer = d.offer_of(user.id)
    remaining = opm.post_call_remaining(op, now_ts)
    row.update(
        break_reason=reason.name if reason else None,
        groups=[
            {"id": gid, "name": result.groups[gid].name}
            for gid in sorted(group_ids)
            if gid in result.groups
        ],
        offer=offer_view(offer, result.groups, login, now_ts) if offer else None,
        call_id=op.call_id,
        post_call_remaining_seconds=round(remaining) if remaining is not None else None,
        post_call_extendable=remaining is not None and not op.post_call_extended,
    )
    return row


# --- events --------------------------------------------------------------------------------


def _publisher(
    target: Request | FastAPI,
) -> Callable[[str, int, dict[str, Any], tuple[str, ...]], None]:
    if isinstance(target, Request):
        return lambda t, dom, data, aud: publish(target, t, dom, data, aud)
    bus = getattr(target.state, "bus", None)
    return lambda t, dom, data, aud: bus.publish(t, dom, data, aud) if bus else None


def announce(request: Request, session: Session, domain_id: int, result: Result) -> None:
    announce_bus(request, session, domain_id, result)


def run_announced(
    request: Request,
    session: Session,
    svc: AcdService,
    domain_id: int,
    at: datetime,
    action: Action | None = None,
) -> Result:
    """Run ``action`` (or just the timers) in the domain's ACD and tell the subscribers."""
    result = svc.run(session, domain_id, at, action)
    announce(request, session, domain_id, result)
    return result


def announce_bus(
    target: Request | FastAPI, session: Session, domain_id: int, result: Result
) -> None:
    """``operator.changed`` and ``queue.changed`` for what the step touched.

    An operator's own view (with the offer and the caller's number) goes to that operator
    alone (``user:<id>`` audience); supervisors get the row without the offer.
    """
    eff, d = result.effects, result.dispatcher
    send = _publisher(target)
    groups = set(eff.groups)
    users = (
        {u.id: u for u in session.execute(select(User).where(User.id.in_(eff.operators))).scalars()}
        if eff.operators
        else {}
    )
    for uid in sorted(eff.operators):
        op = d.operator(uid)
        row = operator_row(op, users.get(uid), result.now)
        send("operator.changed", domain_id, row, SUPERVISORS)
        offer = d.offer_of(uid)
        own = dict(row)
        login = users[uid].login if uid in users else ""
        own["offer"] = offer_view(offer, result.groups, login, result.now) if offer else None
        send("operator.changed", domain_id, own, (user_audience(uid),))
        groups |= {g.group_id for g in d.groups.values() if any(m == uid for m, _ in g.members)}
    for gid in sorted(groups):
        if gid in d.groups:
            send(
                "queue.changed",
                domain_id,
                group_row(d, gid, result.groups, result.now),
                SUPERVISORS,
            )
