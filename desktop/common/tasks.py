"""Requests of a desktop window on the qasync loop, counted so that they can be waited for.

Every request goes through :meth:`Tasks.start`, so nothing blocks the GUI thread, a failure
reaches the window's ``on_error`` instead of vanishing in a task, and tests (and the admin
panel's dirty guard) wait for quiet with :meth:`Tasks.idle`. Each part of the client keeps its
own set: waiting for the admin panel must not wait for the operator workspace's requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)


class Tasks:
    def __init__(self, name: str, *, owner_may_be_gone: bool = False) -> None:
        self.name = name
        # The window that asked may be deleted before its request ends: its on_error then
        # raises RuntimeError from Qt, which is dropped rather than reported.
        self.owner_may_be_gone = owner_may_be_gone
        self._pending: set[asyncio.Task[Any]] = set()

    def start(
        self,
        coro: Coroutine[Any, Any, Any],
        on_error: Callable[[BaseException], None] | None = None,
    ) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._pending.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._pending.discard(t)
            if t.cancelled():
                return
            exc = t.exception()
            if exc is None:
                return
            if on_error is None:
                log.error("%s task failed", self.name, exc_info=exc)
            elif self.owner_may_be_gone:
                with contextlib.suppress(RuntimeError):
                    on_error(exc)
            else:
                on_error(exc)

        task.add_done_callback(done)
        return task

    async def idle(self) -> None:
        """Return once no request is running (follow-up requests included)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
            # Done callbacks run on the next loop turn; let them start follow-up work.
            await asyncio.sleep(0)

    def pending(self) -> int:
        return len(self._pending)
