"""Requests of the operator and supervisor workspaces on the qasync loop (see
``desktop.common.tasks``). The event stream is a long-lived task of its own and is not counted
here.
"""

from __future__ import annotations

from desktop.common.tasks import Tasks

_TASKS = Tasks("operator", owner_may_be_gone=True)
start = _TASKS.start
idle = _TASKS.idle
