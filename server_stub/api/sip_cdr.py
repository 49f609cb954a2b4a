"""Call detail records from the route decision and the edge's call events.

Exactly once: an event is stored once per (call_id, seq) — a replay finds it and stores
nothing — and the CDR is a pure function of the decision and the set of stored events,
recomputed after each batch, so replays and out-of-order delivery change nothing.

Result rules (a person reading the call history expects these):
- answered: some branch answered; the duration is talk time (answer → end).
- busy: the plan's busy outcome was applied, or the final code was 486/600.
- refused: the plan refused the call (403/404 with the engine's reason) or routing failed.
- missed: nobody answered (no-answer timeout, caller cancelled, 480/408/487).
- failed: any other final error.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server_stub.api import sip_decisions
from server_stub.phones import BadNumber, to_e164
from server_stub.routing.plan import Decision
from server_stub.store import billing_calls
from server_stub.store.models import Domain, User
from server_stub.store.models_calls import CallEvent, Cdr, CdrResult

MISSED_CODES = {408, 480, 487}
BUSY_CODES = {486, 600}


def _ts(value: Any) -> datetime:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.now(UTC)


def record_decision(
    session: Session,
    call_id: str,
    domain_id: int,
    caller_user_id: int | None,
    caller_label: str,
    called: str,
    source: str,
    decision: Decision,
    group_id: int | None,
) -> None:
    """The CDR as routing sees it, kept to be stored just behind the answer (sip_decisions);
    a second route request for the same call changes nothing."""
    started = datetime.now(UTC)
    values: dict[str, Any] = {
        "call_id": call_id,
        "domain_id": domain_id,
        "direction": decision.direction,
        "source": source,
        "caller": caller_label,
        "caller_user_id": caller_user_id,
        "called": called,
        "group_id": group_id or decision.queue_group_id,
        "trace": [list(line) for line in decision.trace],
        "started_at": started,
        "result": CdrResult.IN_PROGRESS,
        # Every row names every column: the rows are stored in one executemany.
        "sip_code": None,
        "cause": "",
        "ended_at": None,
    }
    if decision.refused is not None:
        values |= {
            "result": CdrResult.REFUSED,
            "sip_code": decision.refused.sip_code,
            "cause": decision.refused.reason,
            "ended_at": started,
        }
    sip_decisions.add(session, values)


def _cdr_from_event(session: Session, event: dict[str, Any]) -> Cdr:
    """A call the server never routed (it was down, say): the CDR from the edge's facts."""
    domain = session.execute(
        select(Domain).where(Domain.name == str(event.get("domain", "")))
    ).scalar_one_or_none()
    caller_login = str(event.get("caller", ""))
    caller = None
    if domain is not None:
        caller = session.execute(
            select(User).where(User.domain_id == domain.id, User.login == caller_login)
        ).scalar_one_or_none()
    cdr = Cdr(
        call_id=str(event["call_id"]),
        domain_id=domain.id if domain else None,
        source=str(event.get("source", "user")),
        caller=caller.extension if caller else caller_login,
        caller_user_id=caller.id if caller else None,
        called=str(event.get("called", "")),
        started_at=_ts(event.get("at")),
        trace=[],
    )
    session.add(cdr)
    return cdr


def _event_row(call_id: str, seq: int, event: dict[str, Any]) -> CallEvent:
    return CallEvent(
        call_id=call_id,
        seq=seq,
        type=str(event["type"]),
        at=_ts(event.get("at")),
        branch=str(event.get("branch") or "")[:255],
        code=int(event["code"]) if event.get("code") is not None else None,
        reason=str(event.get("reason") or "")[:255],
        payload=event,
    )


def ingest(session: Session, events: Iterable[dict[str, Any]]) -> tuple[int, int]:
    """Store new events, recompute their calls' CDRs; (stored, duplicates). Caller commits.

    The edge sends every event of every call, so a batch costs a few statements, not a few
    per event: one read of the stored keys, one insert, one read of the calls' CDRs and events.
    """
    batch = [(str(e["call_id"]), int(e["seq"]), e) for e in events]
    call_ids = {call_id for call_id, _, _ in batch}
    stored_keys = {
        (call_id, seq)
        for call_id, seq in session.execute(
            select(CallEvent.call_id, CallEvent.seq).where(CallEvent.call_id.in_(call_ids))
        )
    }
    rows: list[CallEvent] = []
    touched: dict[str, dict[str, Any]] = {}
    duplicates = 0
    for call_id, seq, event in batch:
        if (call_id, seq) in stored_keys:
            duplicates += 1
            continue
        stored_keys.add((call_id, seq))
        rows.append(_event_row(call_id, seq, event))
        touched.setdefault(call_id, event)
    try:
        with session.begin_nested():
            session.add_all(rows)
    except IntegrityError:  # a concurrent replay stored some meanwhile: one at a time
        stored, duplicates, touched = _store_each(session, batch)
    else:
        stored = len(rows)
    if not touched:
        return stored, duplicates
    cdrs = {
        c.call_id: c for c in session.execute(select(Cdr).where(Cdr.call_id.in_(touched))).scalars()
    }
    by_call: dict[str, list[CallEvent]] = {call_id: [] for call_id in touched}
    for row in session.execute(
        select(CallEvent).where(CallEvent.call_id.in_(touched)).order_by(CallEvent.at)
    ).scalars():
        by_call[row.call_id].append(row)
    for call_id, first in touched.items():
        cdr = cdrs.get(call_id) or _cdr_from_event(session, first)
        _apply_events(cdr, by_call[call_id])
        cdrs[call_id] = cdr
    session.flush()  # billing reads the CDRs it rates
    for call_id in touched:
        _bill(session, cdrs[call_id])
    return stored, duplicates


def _store_each(
    session: Session, batch: list[tuple[str, int, dict[str, Any]]]
) -> tuple[int, int, dict[str, dict[str, Any]]]:
    stored = duplicates = 0
    touched: dict[str, dict[str, Any]] = {}
    for call_id, seq, event in batch:
        exists = session.execute(
            select(CallEvent.id).where(CallEvent.call_id == call_id, CallEvent.seq == seq)
        ).first()
        if exists is not None:
            duplicates += 1
            continue
        try:
            with session.begin_nested():
                session.add(_event_row(call_id, seq, event))
        except IntegrityError:  # the same event from a concurrent replay
            duplicates += 1
            continue
        stored += 1
        touched.setdefault(call_id, event)
    return stored, duplicates, touched


PAID_DIRECTIONS = frozenset({"local", "long_distance", "mobile", "international"})


def _bill(session: Session, cdr: Cdr) -> None:
    """A paid call is registered when answered (periodic debit, concurrent-call cap) and rated
    when it ends — in the transaction that stores the event, once per call id."""
    if cdr.domain_id is None or cdr.direction not in PAID_DIRECTIONS or cdr.answered_at is None:
        return
    try:
        number = to_e164(cdr.called)
    except BadNumber:
        return  # a speed dial or other non-number: the edge reports the dialled string
    if cdr.ended_at is None:
        billing_calls.call_started(
            session, cdr.domain_id, cdr.call_id, cdr.direction, number, cdr.answered_at
        )
    else:
        billing_calls.rate_call(
            session,
            cdr.domain_id,
            cdr.call_id,
            cdr.direction,
            number,
            cdr.answered_at,
            cdr.duration_seconds,
            user_id=cdr.caller_user_id,
        )


def recompute(session: Session, cdr: Cdr) -> None:
    session.flush()
    events = list(
        session.execute(
            select(CallEvent).where(CallEvent.call_id == cdr.call_id).order_by(CallEvent.at)
        ).scalars()
    )
    _apply_events(cdr, events)


def _apply_events(cdr: Cdr, events: list[CallEvent]) -> None:
    """The CDR from the routing decision and all stored events of its call, oldest first."""
    answers = [e for e in events if e.type == "answer"]
    ends = [e for e in events if e.type in ("end", "refused")]
    if answers:
        cdr.answered_at = answers[0].at
        cdr.answered_by = answers[0].branch
    if cdr.result == CdrResult.REFUSED and not ends:
        return  # refused by the plan at routing time: nothing later changes that
    if not ends:
        cdr.result = CdrResult.ANSWERED if answers else CdrResult.IN_PROGRESS
        return
    end = ends[0]
    cdr.ended_at = end.at
    cdr.sip_code = end.code
    cdr.cause = end.reason
    hint = str(end.payload.get("result", ""))
    if answers:
        cdr.result = CdrResult.ANSWERED
        cdr.duration_seconds = max(0, round((end.at - answers[0].at).total_seconds()))
    elif end.type == "refused":
        cdr.result = CdrResult.REFUSED
    elif hint == "busy" or (end.code in BUSY_CODES):
        cdr.result = CdrResult.BUSY
    elif hint == "missed" or (end.code in MISSED_CODES):
        cdr.result = CdrResult.MISSED
    elif end.code in (403, 404):
        cdr.result = CdrResult.REFUSED
    else:
        cdr.result = CdrResult.FAILED


def as_dict(cdr: Cdr, lang: str = "ru") -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": cdr.id,
        "call_id": cdr.call_id,
        "direction": cdr.direction,
        "caller": cdr.caller,
        "called": cdr.called,
        "group_id": cdr.group_id,
        "answered_by": cdr.answered_by,
        "started_at": iso(cdr.started_at),
        "answered_at": iso(cdr.answered_at),
        "ended_at": iso(cdr.ended_at),
        "duration_seconds": cdr.duration_seconds,
        "result": cdr.result,
        "sip_code": cdr.sip_code,
        "cause": cdr.cause,
        "trace": [line[1] if lang == "en" else line[0] for line in cdr.trace or []],
    }
