"""Real-time statistics rows (spec 02 §5): plain dicts, the same shape for the API and events."""

from __future__ import annotations

from typing import Any

from server_stub.acd.dispatcher import Dispatcher
from server_stub.acd.operator import Operator, State, Status

# The per-group counters of spec 02 §5.2, keyed by Operator.presence.
GROUP_COUNTERS = (
    Status.READY.value,
    State.OFFERED.value,
    State.INCOMING_CALL.value,
    State.OUTGOING_CALL.value,
    State.POST_CALL.value,
    Status.BREAK.value,
    Status.AWAY.value,
    State.CAMPAIGN.value,
)


def operator_row(op: Operator, now: float) -> dict[str, Any]:
    since = max(op.status_since, op.state_since) if op.state != State.IDLE else op.status_since
    return {
        "user_id": op.user_id,
        "online": op.online,
        "status": op.status.value,
        "break_reason_id": op.break_reason_id,
        "state": op.state.value,
        "presence": op.presence,
        "status_since": op.status_since,
        "state_since": op.state_since,
        "since": since,
        "seconds_in_presence": max(0.0, now - since),
        "answered": op.answered,
        "missed": op.missed,
        "talk_seconds": round(op.talk_seconds),
    }


def group_row(dispatcher: Dispatcher, group_id: int, now: float) -> dict[str, Any]:
    cfg = dispatcher.groups.get(group_id)
    members = [uid for uid, _ in cfg.members] if cfg else []
    queue = dispatcher.queues.get(group_id)
    counts = dict.fromkeys(GROUP_COUNTERS, 0)
    online = 0
    for uid in members:
        op = dispatcher.operator(uid)
        if op.online:
            online += 1
            counts[op.presence] = counts.get(op.presence, 0) + 1
    return {
        "group_id": group_id,
        "waiting": len(queue) if queue else 0,
        "longest_wait_seconds": round(queue.longest_wait(now)) if queue else 0,
        "operators": len(members),
        "online": online,
        "counts": counts,
    }
