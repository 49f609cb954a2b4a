"""In-process event bus with sequence numbers and a bounded replay buffer.

Publishers are plain (threadpool) endpoints; subscribers are WebSocket coroutines. Every
event gets the next sequence number of this server process; a reconnecting client sends the
``epoch`` and the last sequence it saw and receives what it missed, or a ``resync`` event when
the buffer no longer reaches back that far (or the server restarted: a new epoch).

Scale-out (ARCHITECTURE.md): with PostgreSQL the same interface is fed by LISTEN/NOTIFY.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Event:
    seq: int
    type: str
    domain_id: int | None
    data: dict[str, Any]
    at: str
    # Roles that may see it (None: every authenticated user of the domain).
    audience: frozenset[str] | None = None
    # epoch -> the frame as sent; filled by the first subscriber that sends it.
    _text: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def wire(self, epoch: str) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "epoch": epoch,
            "type": self.type,
            "at": self.at,
            "data": self.data,
        }

    def wire_text(self, epoch: str) -> str:
        """The JSON frame, serialised once however many subscribers send it."""
        text = self._text.get(epoch)
        if text is None:
            # The same form as Starlette's send_json, so clients see the same bytes.
            text = json.dumps(self.wire(epoch), separators=(",", ":"), ensure_ascii=False)
            self._text[epoch] = text
        return text


# Identity semantics: subscriptions live in a set, and two are never "equal".
@dataclass(eq=False)
class Subscription:
    queue: asyncio.Queue[Event]
    loop: asyncio.AbstractEventLoop
    overflowed: bool = False


@dataclass
class EventBus:
    capacity: int = 10_000
    epoch: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    _buffer: deque[Event] = field(init=False)
    _seq: int = field(default=0, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _subs: set[Subscription] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self._buffer = deque(maxlen=self.capacity)

    @property
    def last_seq(self) -> int:
        return self._seq

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subs)

    def publish(
        self,
        type_: str,
        domain_id: int | None,
        data: dict[str, Any],
        audience: Iterable[str] | None = None,
    ) -> Event:
        with self._lock:
            self._seq += 1
            event = Event(
                seq=self._seq,
                type=type_,
                domain_id=domain_id,
                data=data,
                at=datetime.now(UTC).isoformat(),
                audience=frozenset(audience) if audience is not None else None,
            )
            self._buffer.append(event)
            # One hand-off per event loop, not per subscriber: each call_soon_threadsafe wakes
            # the loop, which then fights this thread for the GIL, so 300 of them made the
            # request (and the last subscriber) wait tens of milliseconds.
            by_loop: dict[asyncio.AbstractEventLoop, list[Subscription]] = {}
            for sub in self._subs:
                by_loop.setdefault(sub.loop, []).append(sub)
            # Scheduled under the lock: two threads publishing at once must reach every
            # subscriber in sequence order, or a client could miss the lower one on reconnect.
            for loop, subs in by_loop.items():
                try:
                    loop.call_soon_threadsafe(self._deliver, subs, event)
                except RuntimeError:
                    # Its event loop is closed: the subscribers are gone without unsubscribing.
                    # Dropping them keeps a committed change from failing its request.
                    self._subs.difference_update(subs)
        return event

    @staticmethod
    def _deliver(subs: list[Subscription], event: Event) -> None:
        for sub in subs:
            try:
                sub.queue.put_nowait(event)
            except asyncio.QueueFull:
                sub.overflowed = True

    def subscribe(self, maxsize: int = 1000) -> Subscription:
        sub = Subscription(asyncio.Queue(maxsize=maxsize), asyncio.get_running_loop())
        with self._lock:
            self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subs.discard(sub)

    def replay(self, epoch: str | None, since: int) -> list[Event] | None:
        """Events after ``since``, or None when they cannot all be given (resync needed)."""
        with self._lock:
            if epoch is not None and epoch != self.epoch:
                return None
            # A position this epoch never had (negative, or ahead of the last event) means
            # the client's state came from somewhere else: it must reload.
            if since < 0 or since > self._seq:
                return None
            events = [e for e in self._buffer if e.seq > since]
            oldest = self._buffer[0].seq if self._buffer else self._seq + 1
            if since + 1 < oldest and since < self._seq:
                return None
            return events


def visible_to(event: Event, domain_id: int | None, roles: frozenset[str]) -> bool:
    # Only domain events exist: a pool admin sees a domain's events after opening it.
    if event.domain_id is None or event.domain_id != domain_id:
        return False
    return event.audience is None or bool(event.audience & roles)


def user_audience(user_id: int) -> str:
    """An audience entry naming one person: events for them alone (an operator's own offer)."""
    return f"user:{user_id}"


def identity(roles: frozenset[str], user_id: int | None) -> frozenset[str]:
    """What a subscriber answers to: its roles and, for a person, its own user entry."""
    return roles | {user_audience(user_id)} if user_id is not None else roles
