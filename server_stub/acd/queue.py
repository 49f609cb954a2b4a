"""The waiting calls of one ACD group.

Order (spec 02 §1.4, §3): VIP callers first, a lower VIP priority value first; everybody else
by arrival. A call whose offer was not answered goes back to the head of the queue («вызов
вернется в начало очереди») — the head *of its own VIP rank*, so that a returned ordinary call
never jumps a VIP caller who is waiting (the VIP promise holds at every moment). Returned calls
keep their arrival order among themselves.

Calls being offered are not in the queue: the dispatcher holds them until they are answered or
come back.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class WaitingCall:
    call_id: str
    group_id: int
    caller: str
    arrived_at: float
    seq: int  # arrival order inside the dispatcher; breaks ties of equal arrival times
    vip_priority: int | None = None
    returned: bool = False  # came back after an unanswered offer
    # Not offered to these operators again at once (until ``excluded_until``).
    excluded: frozenset[int] = frozenset()
    excluded_until: float = 0.0

    @property
    def sort_key(self) -> tuple[int, int, int, int]:
        vip = self.vip_priority
        return (0 if vip is not None else 1, vip or 0, 0 if self.returned else 1, self.seq)

    def exclude_now(self, now: float) -> frozenset[int]:
        return self.excluded if now < self.excluded_until else frozenset()


def vip_priority(caller: str, vip_numbers: Mapping[str, int]) -> int | None:
    """The caller's VIP priority from the domain's VIP list (numbers in E.164), or None."""
    return vip_numbers.get(caller)


def expected_wait(position: int, online_operators: int, avg_talk_seconds: int) -> int | None:
    """The wait announced to a caller at ``position`` (1 = next to be served).

    ``ceil(position / max(1, online operators)) × average talk time``: each online operator
    frees up once per average call, so the callers ahead are served in rounds of that many.
    None when the group's average talk time is 0 (the announcement is off, spec 02 §1.7).
    """
    if avg_talk_seconds <= 0:
        return None
    return math.ceil(position / max(1, online_operators)) * avg_talk_seconds


@dataclass
class Queue:
    group_id: int
    _calls: list[WaitingCall] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self._calls)

    def __iter__(self) -> Iterator[WaitingCall]:
        return iter(self._calls)

    def __contains__(self, call_id: object) -> bool:
        return any(c.call_id == call_id for c in self._calls)

    def copy(self) -> Queue:
        return Queue(self.group_id, list(self._calls))

    def add(self, call: WaitingCall) -> None:
        if call.call_id in self:
            raise ValueError(f"call {call.call_id} is already queued")
        self._calls.append(call)
        self._calls.sort(key=lambda c: c.sort_key)

    def remove(self, call_id: str) -> WaitingCall | None:
        for i, call in enumerate(self._calls):
            if call.call_id == call_id:
                return self._calls.pop(i)
        return None

    def position(self, call_id: str) -> int | None:
        """1-based position, or None if the call is not waiting here."""
        for i, call in enumerate(self._calls):
            if call.call_id == call_id:
                return i + 1
        return None

    def longest_wait(self, now: float) -> float:
        return max((now - c.arrived_at for c in self._calls), default=0.0)
