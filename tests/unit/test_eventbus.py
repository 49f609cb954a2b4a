"""EventBus: replay boundaries, visibility, delivery order and slow subscribers."""

from __future__ import annotations

import asyncio
import json
import threading

from server_stub.api.eventbus import Event, EventBus, visible_to


def filled(count: int, capacity: int = 10_000) -> EventBus:
    bus = EventBus(capacity=capacity)
    for n in range(count):
        bus.publish("contact.created", 1, {"id": n + 1})
    return bus


def seqs(events: list[Event] | None) -> list[int] | None:
    return None if events is None else [e.seq for e in events]


def test_fresh_bus_replays_nothing_from_zero() -> None:
    bus = EventBus()
    assert seqs(bus.replay(bus.epoch, 0)) == []


def test_replay_from_zero_gives_everything_in_order() -> None:
    bus = filled(3)
    assert seqs(bus.replay(bus.epoch, 0)) == [1, 2, 3]


def test_replay_from_the_last_seq_is_empty_not_resync() -> None:
    bus = filled(3)
    assert seqs(bus.replay(bus.epoch, 3)) == []


def test_replay_from_the_middle_gives_only_later_events() -> None:
    bus = filled(5)
    assert seqs(bus.replay(bus.epoch, 2)) == [3, 4, 5]


def test_position_ahead_of_the_server_needs_resync() -> None:
    # E.g. a client that kept its position across a restart it did not notice.
    bus = filled(3)
    assert bus.replay(bus.epoch, 4) is None


def test_negative_position_needs_resync() -> None:
    assert filled(0).replay(None, -1) is None
    assert filled(3).replay(None, -1) is None


def test_other_epoch_needs_resync_even_for_a_valid_position() -> None:
    bus = filled(3)
    assert bus.replay("another-run", 1) is None


def test_no_epoch_skips_the_epoch_check() -> None:
    # The WebSocket route never passes None with a position; the bus itself allows it.
    bus = filled(3)
    assert seqs(bus.replay(None, 1)) == [2, 3]


def test_buffer_reaching_back_exactly_is_enough() -> None:
    bus = filled(30, capacity=10)  # holds 21..30
    assert seqs(bus.replay(bus.epoch, 20)) == list(range(21, 31))
    assert seqs(bus.replay(bus.epoch, 29)) == [30]
    assert seqs(bus.replay(bus.epoch, 30)) == []


def test_buffer_one_event_short_needs_resync() -> None:
    bus = filled(30, capacity=10)
    assert bus.replay(bus.epoch, 19) is None
    assert bus.replay(bus.epoch, 0) is None


def test_each_bus_has_its_own_epoch() -> None:
    assert EventBus().epoch != EventBus().epoch


def test_visibility_by_domain_and_audience() -> None:
    bus = EventBus()
    everyone = bus.publish("user.updated", 1, {})
    admins = bus.publish("billing.limit", 1, {}, audience=["domain_admin"])
    global_ = bus.publish("pool.changed", None, {})
    user = frozenset({"user"})
    admin = frozenset({"user", "domain_admin"})
    assert visible_to(everyone, 1, user) and not visible_to(everyone, 2, user)
    assert not visible_to(admins, 1, user) and visible_to(admins, 1, admin)
    assert not visible_to(global_, 1, admin) and not visible_to(global_, None, admin)


async def test_subscriber_over_capacity_is_marked_overflowed() -> None:
    bus = EventBus()
    sub = bus.subscribe(maxsize=2)
    for n in range(3):
        bus.publish("x", 1, {"n": n})
    await asyncio.sleep(0)  # deliveries are scheduled on this loop
    assert sub.overflowed
    assert [sub.queue.get_nowait().seq, sub.queue.get_nowait().seq] == [1, 2]


class _RacingLoop:
    """Stands in for a subscriber's loop: while the first event is being scheduled, a second
    publisher runs, which is the moment a lock-free hand-off would deliver out of order."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self.order: list[int] = []
        self.rival: threading.Thread | None = None

    def call_soon_threadsafe(self, _deliver: object, _sub: object, event: Event) -> None:
        if self.rival is None:
            self.rival = threading.Thread(target=self.bus.publish, args=("x", 1, {}))
            self.rival.start()
            self.rival.join(timeout=0.2)  # blocks for good only if publish holds the lock
        self.order.append(event.seq)


async def test_concurrent_publishers_reach_a_subscriber_in_seq_order() -> None:
    bus = EventBus()
    sub = bus.subscribe()
    racing = _RacingLoop(bus)
    sub.loop = racing  # type: ignore[assignment]
    await asyncio.to_thread(bus.publish, "x", 1, {})
    assert racing.rival is not None
    await asyncio.to_thread(racing.rival.join)
    assert racing.order == [1, 2]


def test_subscriber_whose_loop_closed_is_dropped_and_publishing_still_works() -> None:
    bus = EventBus()

    async def leave_without_unsubscribing() -> None:
        bus.subscribe()

    asyncio.run(leave_without_unsubscribing())
    assert bus.subscriber_count == 1
    bus.publish("x", 1, {})
    assert bus.subscriber_count == 0
    assert bus.last_seq == 1


def test_a_user_audience_reaches_that_person_only() -> None:
    from server_stub.api.eventbus import EventBus, identity, user_audience, visible_to

    bus = EventBus(capacity=10)
    event = bus.publish("operator.changed", 1, {"caller": "+74957654321"}, [user_audience(7)])
    operators = frozenset({"user", "operator"})
    assert visible_to(event, 1, identity(operators, 7))
    assert not visible_to(event, 1, identity(operators, 8))  # a colleague, same role
    assert not visible_to(event, 1, identity(frozenset({"domain_admin"}), None))


async def test_many_subscribers_of_one_loop_get_every_event_from_one_wake_up() -> None:
    """300 clients must not cost 300 cross-thread wake-ups per event (bench/events_bench.py):
    a publisher on another thread hands each event to a loop once, for all its subscribers,
    and every subscriber still gets every event in order."""
    bus = EventBus()
    subs = [bus.subscribe() for _ in range(300)]
    loop = asyncio.get_running_loop()
    wake_ups = 0
    original = loop.call_soon_threadsafe

    def counting(callback: object, *args: object) -> object:
        nonlocal wake_ups
        wake_ups += callback == EventBus._deliver  # not to_thread's own hand-back
        return original(callback, *args)  # type: ignore[arg-type]

    loop.call_soon_threadsafe = counting  # type: ignore[method-assign,assignment]
    try:
        for n in range(3):
            await asyncio.to_thread(bus.publish, "operator.changed", 1, {"n": n})
        await asyncio.sleep(0)
    finally:
        del loop.call_soon_threadsafe
    assert wake_ups == 3
    for sub in subs:
        assert [sub.queue.get_nowait().data["n"] for _ in range(3)] == [0, 1, 2]


def test_the_frame_is_serialised_once_as_starlette_would() -> None:
    bus = EventBus()
    event = bus.publish("contact.created", 1, {"name": "Иван"})
    text = event.wire_text(bus.epoch)
    assert json.loads(text) == event.wire(bus.epoch)
    assert "Иван" in text and ", " not in text  # send_json's form: compact, not ASCII-escaped
    assert event.wire_text(bus.epoch) is text
