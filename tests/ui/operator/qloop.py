"""The qasync loop for tests and screenshot scripts that drive it with ``run_until_complete``.

qasync runs one last ``processEvents`` after ``run_until_complete`` with no running loop set;
these windows always have requests in flight, and a task stepped there fails with "no running
event loop" (httpx and asyncio need one). The application itself never leaves
``run_forever``, so only the tests need this.
"""

from __future__ import annotations

import asyncio
from typing import Any

from desktop.qt import QEventLoop


class SteadyLoop(QEventLoop):  # type: ignore[misc]
    def _after_run_forever(self) -> None:
        super()._after_run_forever()
        asyncio.events._set_running_loop(self)

    def run_until_complete(self, future: Any) -> Any:
        try:
            return super().run_until_complete(future)
        finally:
            asyncio.events._set_running_loop(None)
