"""Route decisions' CDR rows, stored just behind the answer to the edge.

The route request comes with every INVITE and used to be the only writer on the call's path
to 180 Ringing: on SQLite it queued for the one writer behind a batch of call events, and
its own insert and commit cost more than the decision (bench/sip_bench.py). Now it answers
from memory and leaves the row here; the rows are stored together by whichever comes first:

- the flusher (``run_flusher``, every ``FLUSH_SECONDS``);
- a batch of call events, before its events (so an event always finds its call's routing);
- a read of call records (the CDR list, listen-in's and campaigns' lookups), before it reads;
- the server's shutdown.

What it costs: a server *killed* (not stopped) within ``FLUSH_SECONDS`` of routing a call
loses that call's route trace. The call's CDR is still made, from the edge's spooled events
(the edge reports a refusal as an event too), with who called whom, the outcome and its cause.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import anyio
from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session, sessionmaker

from server_stub.store.models_calls import CallEvent, Cdr

log = logging.getLogger("pult.sip")

FLUSH_SECONDS = 0.05

_lock = threading.Lock()
_pending: weakref.WeakKeyDictionary[Engine, list[dict[str, Any]]] = weakref.WeakKeyDictionary()
_sqlite_writer = threading.Lock()
_storing = threading.Lock()  # taken before _sqlite_writer, never inside it


@contextmanager
def one_writer(session: Session) -> Iterator[None]:
    """SQLite lets one transaction write at a time: a second one waits by sleeping (1, 2,
    5 … 100 ms between tries) or fails at once when its read snapshot went stale. The
    server's writers on the call path (decisions, event batches) queue on a lock instead."""
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    with _sqlite_writer:
        yield


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def add(session: Session, values: dict[str, Any]) -> None:
    """Keep a decision's CDR row (the ``cdrs`` columns) to be stored soon."""
    with _lock:
        _pending.setdefault(_engine(session), []).append(values)


def pending(session: Session) -> int:
    with _lock:
        return len(_pending.get(_engine(session), ()))


def store(session: Session) -> int:
    """Store the rows kept for this session's database, in a transaction of their own (so an
    error in the caller's work cannot undo them); the rows go back to wait on a failure.

    One store at a time: a reader that finds nothing kept must not read before rows another
    thread (the flusher) took a moment ago are committed."""
    engine = _engine(session)
    with _storing:
        with _lock:
            rows = _pending.pop(engine, [])
        if not rows:
            return 0
        try:
            with one_writer(session):
                stored = _insert(session, rows)
                session.commit()
        except BaseException:
            session.rollback()
            with _lock:
                _pending[engine] = rows + _pending.get(engine, [])
            raise
        return stored


def store_with(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return store(session)


def _insert(session: Session, rows: list[dict[str, Any]]) -> int:
    """A second decision for the same call changes nothing (the first one rang the phones);
    a call whose events came first (the edge gave up waiting for the answer and reported the
    call) gets its CDR built from them too."""
    from server_stub.api.sip_cdr import recompute  # sip_cdr reads CDRs: it imports this

    first: dict[str, dict[str, Any]] = {}
    for row in rows:
        first.setdefault(row["call_id"], row)
    cdrs = Cdr.metadata.tables[Cdr.__tablename__]
    events = CallEvent.metadata.tables[CallEvent.__tablename__]
    conn = session.connection()  # Core statements: the ORM's per-object work is not needed
    known = set(conn.execute(select(cdrs.c.call_id).where(cdrs.c.call_id.in_(first))).scalars())
    early = set(conn.execute(select(events.c.call_id).where(events.c.call_id.in_(first))).scalars())
    plain = [row for call_id, row in first.items() if call_id not in known | early]
    if plain:
        conn.execute(insert(cdrs), plain)
    for call_id in early - known:
        cdr = Cdr(**first[call_id])
        session.add(cdr)
        recompute(session, cdr)
    return len(first) - len(known)


async def run_flusher(factory: sessionmaker[Session]) -> None:
    """Store kept rows every ``FLUSH_SECONDS`` while the server runs, and once more when it
    stops (cancelled)."""
    engine = factory.kw.get("bind")
    try:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            with _lock:
                waiting = bool(_pending.get(engine)) if isinstance(engine, Engine) else True
            if not waiting:
                continue
            try:
                await anyio.to_thread.run_sync(store_with, factory)
            except Exception:  # the rows wait for the next round
                log.exception("storing route decisions failed")
    finally:
        with suppress(Exception):
            store_with(factory)
