"""Requests of the operator and supervisor workspaces on the qasync loop.

Every request goes through :func:`start`, so nothing blocks the GUI thread, a failure reaches
the window's ``on_error`` instead of vanishing in a task, and tests wait for quiet with
:func:`idle`. The event stream is a long-lived task of its own and is not counted here.
"""

from __future__ import annotations

import asyncio
import contextlib
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
            with contextlib.suppress(RuntimeError):  # the window that asked is already gone
                on_error(exc)
        else:
            log.error("operator task failed", exc_info=exc)

    task.add_done_callback(done)
    return task


async def idle() -> None:
    """Return once no request is running (follow-up requests included)."""
    while _PENDING:
        await asyncio.gather(*list(_PENDING), return_exceptions=True)
        await asyncio.sleep(0)
