"""Periodic work of the server: the ACD's timers (lapsed offers, end of post-call work), every
second, and billing's daily fees, promised-payment expiry, periodic debit of
paid calls in progress and credit-limit warnings, once every ``billing_tick_seconds``.

Safe with several server processes on one PostgreSQL: every domain's accrual locks the domain
row and catches up to "now" idempotently, so two processes ticking together charge once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime

import anyio
from fastapi import FastAPI

from server_stub.api import acd_service, sip_decisions
from server_stub.store import billing_storage, billing_work, call_cuts

log = logging.getLogger("pult.scheduler")


def billing_tick(app: FastAPI) -> billing_work.WorkDone:
    with app.state.session_factory() as session:
        done = billing_work.run_due_work(session, datetime.now(UTC))
        if done.calls_to_cut:
            # The SIP edge takes these from GET /api/sip/cuts and ends the calls.
            call_cuts.enqueue(session, done.calls_to_cut)
            log.info("prepaid calls out of money, queued to be cut: %s", done.calls_to_cut)
    billing_storage.send_credit_warnings(app.state.settings, done.credit_warnings)
    return done


async def _loop(app: FastAPI, seconds: float) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await anyio.to_thread.run_sync(billing_tick, app)
        except Exception:  # one failed tick must not stop the next ones
            log.exception("billing tick failed")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    seconds = app.state.settings.billing_tick_seconds
    tasks = [
        asyncio.create_task(acd_service.run_ticker(app)),  # offers and post-call expire
        asyncio.create_task(sip_decisions.run_flusher(app.state.session_factory)),
    ]
    if seconds > 0:
        tasks.append(asyncio.create_task(_loop(app, seconds)))
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
