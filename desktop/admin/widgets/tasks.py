"""Background work of the admin panel on the qasync loop (see ``desktop.common.tasks``):
every request a section makes goes through :func:`start`, and the tests and the dirty guard
wait for the panel to be quiet with :func:`idle`.
"""

from __future__ import annotations

from desktop.common.tasks import Tasks

_TASKS = Tasks("admin")
start = _TASKS.start
idle = _TASKS.idle
pending = _TASKS.pending
