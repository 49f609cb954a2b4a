"""The queue of calls the SIP edge must end (see ``models_cut``)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server_stub.store.models_cut import CallCut

OUT_OF_MONEY = "out_of_money"


def enqueue(session: Session, call_ids: Iterable[str], reason: str = OUT_OF_MONEY) -> int:
    """Queue calls to cut (a call already queued stays once); how many were new. Commits."""
    wanted = list(dict.fromkeys(call_ids))
    if not wanted:
        return 0
    queued = set(session.scalars(select(CallCut.call_id).where(CallCut.call_id.in_(wanted))).all())
    new = [cid for cid in wanted if cid not in queued]
    session.add_all(CallCut(call_id=cid, reason=reason) for cid in new)
    session.commit()
    return len(new)


def take(session: Session) -> list[CallCut]:
    """The pending cuts, removed from the queue (only those read: one queued meanwhile
    waits for the next call). Commits."""
    rows = list(session.scalars(select(CallCut).order_by(CallCut.queued_at, CallCut.call_id)))
    if rows:
        session.execute(delete(CallCut).where(CallCut.call_id.in_([r.call_id for r in rows])))
        session.commit()
    return rows
