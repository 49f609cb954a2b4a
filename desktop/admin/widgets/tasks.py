"""Background work of the admin panel on the qasync loop.

Every request a section makes goes through :func:`start`, so nothing blocks the GUI thread and
the tests (and the dirty guard) can wait for the panel to be quiet with :func:`idle`. An error
nobody handled is reported through the ``on_error`` callback instead of vanishing in a task.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

_PENDING: set[asyncio.Task[Any]] = set()


def start(
    coro: Coroutine[Any, Any, Any], on_error: Callable[[BaseException], None] | None = None
) -> asyncio.Task[Any]:
    task = asyncio.ensure_future(coro)
    _PENDING.add(task)

    def done(t: asyncio.Task[Any]) -> None:
        _PENDING.discard(t)
        if t.cancelled():
            return
        exc = t.exception()
        if exc is None:
            return
        if on_error is not None:
            on_error(exc)
        else:
            log.error("admin task failed", exc_info=exc)

    task.add_done_callback(done)
    return task


async def idle() -> None:
    """Return once no admin request is running (new ones started meanwhile included)."""
    while _PENDING:
        await asyncio.gather(*list(_PENDING), return_exceptions=True)
        # Done callbacks run on the next loop turn; let them start follow-up work.
        await asyncio.sleep(0)


def pending() -> int:
    return len(_PENDING)
