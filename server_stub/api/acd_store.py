"""Between the pure ACD dispatcher and the database: group settings in, intervals and calls out.

``load_groups`` turns the domain's ACD groups into dispatcher configs (operators only, spec 02
§1.4); ``store_effects`` writes the interval changes a dispatcher step produced and mirrors
the calls it holds into ``acd_calls``; ``rebuild`` makes a dispatcher from the stored open
intervals and calls after a restart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server_stub.acd.dispatcher import Dispatcher, Effects, GroupConfig, Talk
from server_stub.acd.operator import IntervalChange, Operator, Outcome, State, Status
from server_stub.acd.queue import WaitingCall
from server_stub.acd.select import AcdAlgorithm
from server_stub.store.models import ACD_ALGORITHMS, CallGroup, GroupMember, User
from server_stub.store.models_acd import AcdCall, BreakReason, OperatorInterval


def ts(at: datetime) -> float:
    return at.timestamp()


def dt(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


@dataclass(frozen=True)
class GroupInfo:
    """What an offer shows besides the call: the group's РМО settings (spec 02 §1.7)."""

    id: int
    name: str
    greeting_text: str
    crm_url_template: str
    member_count: int
    operator_count: int


def load_groups(session: Session, domain_id: int) -> tuple[list[GroupConfig], dict[int, GroupInfo]]:
    groups = session.execute(
        select(CallGroup).where(
            CallGroup.domain_id == domain_id, CallGroup.algorithm.in_(ACD_ALGORITHMS)
        )
    ).scalars()
    configs, info = [], {}
    for g in groups:
        rows = session.execute(
            select(GroupMember.user_id, GroupMember.priority, User.is_operator, User.active)
            .join(User, User.id == GroupMember.user_id)
            .where(GroupMember.group_id == g.id)
        ).all()
        ops = tuple((uid, prio) for uid, prio, is_op, active in rows if is_op and active)
        configs.append(
            GroupConfig(
                g.id,
                AcdAlgorithm(g.algorithm.value),
                ops,
                g.answer_seconds,
                g.post_call_seconds,
                g.avg_talk_seconds,
            )
        )
        info[g.id] = GroupInfo(
            g.id, g.name, g.greeting_text, g.crm_url_template, len(rows), len(ops)
        )
    return configs, info


def _reason_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(
        select(BreakReason.id, BreakReason.name).where(BreakReason.id.in_(wanted))
    )
    return {rid: name for rid, name in rows}


def store_effects(session: Session, domain_id: int, d: Dispatcher, eff: Effects) -> None:
    names = _reason_names(session, (c.reason_id for _, c in eff.changes))
    for user_id, change in eff.changes:
        current = session.execute(
            select(OperatorInterval).where(
                OperatorInterval.user_id == user_id,
                OperatorInterval.kind == change.kind,
                OperatorInterval.ended_at.is_(None),
            )
        ).scalars()
        for row in current:
            row.ended_at = max(dt(change.at), row.started_at)
            if change.closing_outcome is not None:
                row.outcome = change.closing_outcome
        session.add(
            OperatorInterval(
                domain_id=domain_id,
                user_id=user_id,
                kind=change.kind,
                value=change.value,
                reason_id=change.reason_id,
                reason=names.get(change.reason_id or 0, ""),
                group_id=change.group_id,
                call_id=change.call_id,
                started_at=dt(change.at),
            )
        )
        # Later changes of the same operator must see this one as the open interval.
        session.flush()
    _mirror_calls(session, domain_id, d)


def _mirror_calls(session: Session, domain_id: int, d: Dispatcher) -> None:
    held: dict[str, tuple[WaitingCall, int | None, float | None]] = {}
    for queue in d.queues.values():
        for call in queue:
            held[call.call_id] = (call, None, None)
    for offer in d.offers.values():
        held[offer.call.call_id] = (offer.call, offer.user_id, None)
    for talk in d.talks.values():
        held[talk.call.call_id] = (talk.call, talk.user_id, talk.answered_at)
    rows = {
        r.call_id: r
        for r in session.execute(select(AcdCall).where(AcdCall.domain_id == domain_id)).scalars()
    }
    for call_id, old in rows.items():
        if call_id not in held:
            session.delete(old)
    for call_id, (call, user_id, answered_at) in held.items():
        row: AcdCall | None = rows.get(call_id)
        if row is None:
            row = AcdCall(
                call_id=call_id,
                domain_id=domain_id,
                group_id=call.group_id,
                caller=call.caller,
                vip_priority=call.vip_priority,
                seq=call.seq,
                arrived_at=call.arrived_at,
            )
            session.add(row)
        row.returned = call.returned
        row.user_id = user_id
        row.answered_at = answered_at


def _session_counters(session: Session, user_id: int, online_since: float) -> dict[str, float]:
    since = dt(online_since)
    rows = session.execute(
        select(
            OperatorInterval.value,
            OperatorInterval.outcome,
            OperatorInterval.started_at,
            OperatorInterval.ended_at,
        ).where(
            OperatorInterval.user_id == user_id,
            OperatorInterval.kind == "state",
            OperatorInterval.started_at >= since,
        )
    ).all()
    answered = missed = 0
    talk = 0.0
    idle_since = online_since
    for value, outcome, started, ended in rows:
        if value == State.INCOMING_CALL.value:
            answered += 1
        if value == State.OFFERED.value and outcome in (Outcome.MISSED, Outcome.REJECTED):
            missed += 1
        if value in (State.INCOMING_CALL.value, State.OUTGOING_CALL.value) and ended is not None:
            talk += (ended - started).total_seconds()
            idle_since = max(idle_since, ts(ended))
    return {"answered": answered, "missed": missed, "talk": talk, "idle_since": idle_since}


def _online_since(session: Session, user_id: int, fallback: float) -> float:
    last_offline_end = session.execute(
        select(func.max(OperatorInterval.ended_at)).where(
            OperatorInterval.user_id == user_id,
            OperatorInterval.kind == "status",
            OperatorInterval.value == Status.OFFLINE.value,
        )
    ).scalar_one_or_none()
    return ts(last_offline_end) if last_offline_end is not None else fallback


def rebuild(
    session: Session, domain_id: int, configs: list[GroupConfig], now: float, away_after: int
) -> tuple[Dispatcher, Effects]:
    """A dispatcher as the database left it. Offers in flight are lost: their calls go back
    to the head of their queues (the returned effects close those ``offered`` intervals)."""
    d = Dispatcher(configs, away_after=away_after)
    post_call = {c.group_id: c.post_call_seconds for c in configs}
    open_rows = session.execute(
        select(OperatorInterval).where(
            OperatorInterval.domain_id == domain_id, OperatorInterval.ended_at.is_(None)
        )
    ).scalars()
    by_user: dict[int, dict[str, OperatorInterval]] = {}
    for row in open_rows:
        by_user.setdefault(row.user_id, {})[row.kind] = row
    calls = list(session.execute(select(AcdCall).where(AcdCall.domain_id == domain_id)).scalars())
    talking = {c.call_id for c in calls if c.answered_at is not None}
    eff = Effects()
    for user_id, kinds in by_user.items():
        op = Operator(user_id)
        status_row = kinds.get("status")
        if status_row is not None:
            since = ts(status_row.started_at)
            op = replace(
                op,
                status=Status(status_row.value),
                break_reason_id=status_row.reason_id,
                status_since=since,
            )
            if op.online:
                online = _online_since(session, user_id, since)
                c = _session_counters(session, user_id, online)
                op = replace(
                    op,
                    online_since=online,
                    idle_since=c["idle_since"],
                    talk_seconds=c["talk"],
                    answered=int(c["answered"]),
                    missed=int(c["missed"]),
                )
        state_row = kinds.get("state")
        if state_row is not None:
            state = State(state_row.value)
            since = ts(state_row.started_at)
            if state == State.OFFERED or (
                state == State.INCOMING_CALL and state_row.call_id not in talking
            ):
                # The offer (or a call the ACD no longer holds) did not survive the restart.
                change = IntervalChange(
                    "state", State.IDLE.value, now, closing_outcome=Outcome.WITHDRAWN.value
                )
                eff.changes.append((user_id, change))
                state, since = State.IDLE, now
            op = replace(
                op,
                state=state,
                state_since=since,
                call_id=state_row.call_id if state != State.IDLE else None,
                group_id=state_row.group_id if state != State.IDLE else None,
            )
            if state == State.POST_CALL:
                seconds = post_call.get(state_row.group_id or 0, 0)
                op = replace(op, post_call_until=since + seconds)
        d.put_operator(op)
    for held in calls:
        call = WaitingCall(
            held.call_id,
            held.group_id,
            held.caller,
            held.arrived_at,
            held.seq,
            held.vip_priority,
            returned=held.returned or held.user_id is not None,
        )
        if held.answered_at is not None and held.user_id is not None:
            d.restore_talk(Talk(call, held.user_id, held.answered_at))
        else:
            d.restore_call(call)
    return d, eff
