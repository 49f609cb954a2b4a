"""The dispatcher: offers, answer timeouts, post-call work, algorithms — time passed in."""

from __future__ import annotations

import random

import pytest

from server_stub.acd.dispatcher import Dispatcher, GroupConfig, NoOperators
from server_stub.acd.operator import State, Status, TransitionError
from server_stub.acd.select import AcdAlgorithm


def group(
    members: tuple[tuple[int, int], ...] = ((1, 10), (2, 10)),
    algorithm: AcdAlgorithm = AcdAlgorithm.LONGEST_IDLE,
    gid: int = 5,
    **kw: int,
) -> GroupConfig:
    return GroupConfig(gid, algorithm, members, **kw)


def ready_all(d: Dispatcher, *uids: int, at: float = 0.0) -> None:
    for i, uid in enumerate(uids):
        d.set_status(uid, Status.READY, at + i)


def test_vip_caller_is_offered_before_earlier_callers() -> None:
    d = Dispatcher([group(((1, 10),))])
    d.enqueue(5, "early", "+71", 10.0)
    ready_all(d, 1, at=11.0)  # operator 1 takes "early" at once
    d.enqueue(5, "plain", "+72", 12.0)
    d.enqueue(5, "vip", "+73", 13.0, vip_priority=3)
    d.ended("early", 20.0)  # caller hung up while ringing: operator is free again
    assert d.offer_of(1) is not None and d.offer_of(1).call.call_id == "vip"  # type: ignore[union-attr]


def test_lapsed_offer_returns_the_call_to_the_head_and_goes_to_another_operator() -> None:
    d = Dispatcher([group(answer_seconds=15)])
    ready_all(d, 1, 2)  # 1 has been idle longer
    d.set_status(2, Status.AWAY, 2.0)
    d.enqueue(5, "first", "+71", 3.0)
    d.enqueue(5, "second", "+72", 4.0)
    assert d.offer_of(1).call.call_id == "first"  # type: ignore[union-attr]
    d.set_status(2, Status.READY, 5.0)
    assert d.offer_of(2).call.call_id == "second"  # type: ignore[union-attr]
    d.ended("second", 6.0)
    eff = d.tick(18.0)  # the offer to 1 expired at 3 + 15
    assert [o.call.call_id for o in eff.lapsed] == ["first"]
    assert d.operator(1).missed == 1
    # Back at the head and offered to operator 2, not again to operator 1.
    assert d.offer_of(2).call.call_id == "first"  # type: ignore[union-attr]
    lapse_change = next(c for uid, c in eff.changes if uid == 1 and c.kind == "state")
    assert lapse_change.at == 18.0 and lapse_change.closing_outcome == "missed"


def test_excluded_operator_gets_the_call_again_only_after_the_cool_down() -> None:
    d = Dispatcher([group(((1, 10),), answer_seconds=10)], away_after=5)
    ready_all(d, 1)
    d.enqueue(5, "c", "+7", 1.0)
    d.tick(11.0)
    assert d.offer_of(1) is None and d.position("c") == 1
    d.tick(21.0)
    assert d.offer_of(1) is not None


def test_two_lapses_in_a_row_set_the_operator_away() -> None:
    d = Dispatcher([group(((1, 10),), answer_seconds=10)], away_after=2)
    ready_all(d, 1)
    d.enqueue(5, "c", "+7", 1.0)
    d.tick(11.0)
    d.tick(21.0)  # cool-down over: offered again
    d.tick(31.0)  # lapsed again
    assert d.operator(1).status == Status.AWAY
    assert d.position("c") == 1  # the caller keeps waiting


def test_post_call_work_blocks_offers_for_the_group_time() -> None:
    d = Dispatcher([group(((1, 10),), post_call_seconds=30)])
    ready_all(d, 1)
    d.enqueue(5, "a", "+71", 1.0)
    d.answered("a", 2.0)
    d.enqueue(5, "b", "+72", 3.0)
    d.ended("a", 10.0)
    assert d.operator(1).state == State.POST_CALL
    d.tick(39.0)
    assert d.offer_of(1) is None
    d.tick(40.0)
    assert d.offer_of(1).call.call_id == "b"  # type: ignore[union-attr]


def test_post_call_can_be_extended_once_and_finished_early() -> None:
    d = Dispatcher([group(((1, 10),), post_call_seconds=30)])
    ready_all(d, 1)
    d.enqueue(5, "a", "+71", 1.0)
    d.answered("a", 2.0)
    d.ended("a", 10.0)
    d.extend_post_call(1, 15.0)
    with pytest.raises(TransitionError):
        d.extend_post_call(1, 16.0)
    d.enqueue(5, "b", "+72", 20.0)
    d.tick(60.0)
    assert d.offer_of(1) is None  # 10 + 30 + 30 = 70
    d.finish_post_call(1, 61.0)
    assert d.offer_of(1).call.call_id == "b"  # type: ignore[union-attr]


def test_longest_idle_picks_the_operator_whose_last_call_ended_earliest() -> None:
    d = Dispatcher([group()])
    ready_all(d, 1, 2)
    d.enqueue(5, "a", "+71", 5.0)  # -> 1 (online first)
    d.answered("a", 6.0)
    d.enqueue(5, "b", "+72", 7.0)  # -> 2
    d.answered("b", 8.0)
    d.ended("b", 9.0)
    d.ended("a", 20.0)
    d.tick(100.0)  # both post-call done; 2 idle since 9, 1 since 20
    d.enqueue(5, "c", "+73", 101.0)
    assert d.offer_of(2).call.call_id == "c"  # type: ignore[union-attr]


def test_least_busy_picks_the_operator_with_least_talk_per_working_time() -> None:
    d = Dispatcher([group(algorithm=AcdAlgorithm.LEAST_BUSY, post_call_seconds=0)])
    ready_all(d, 1, 2)
    d.enqueue(5, "a", "+71", 5.0)
    d.answered("a", 5.0)
    d.enqueue(5, "b", "+72", 5.0)
    d.answered("b", 5.0)
    d.ended("b", 10.0)  # 2 talked 5 s
    d.ended("a", 60.0)  # 1 talked 55 s, but has been idle... not long: 2 is less busy
    d.enqueue(5, "c", "+73", 61.0)
    assert d.offer_of(2).call.call_id == "c"  # type: ignore[union-attr]


def test_random_algorithm_is_deterministic_with_a_seed() -> None:
    def pick(seed: int) -> int:
        d = Dispatcher([group(algorithm=AcdAlgorithm.RANDOM)], rng=random.Random(seed))
        ready_all(d, 1, 2)
        d.enqueue(5, "a", "+71", 5.0)
        return d.offers["a"].user_id

    assert pick(1) == pick(1)
    assert {pick(s) for s in range(20)} == {1, 2}


def test_a_group_without_operators_ends_the_call_with_a_clear_cause() -> None:
    d = Dispatcher([group(members=())])
    with pytest.raises(NoOperators) as exc:
        d.enqueue(5, "a", "+71", 1.0)
    assert "нет ни одного оператора" in exc.value.ru and "no operators" in exc.value.en


def test_leaving_ready_while_offered_returns_the_call_without_counting_a_miss() -> None:
    d = Dispatcher([group(((1, 10),))])
    ready_all(d, 1)
    d.enqueue(5, "a", "+71", 1.0)
    d.set_status(1, Status.BREAK, 2.0, reason_id=9)
    assert d.position("a") == 1 and d.operator(1).missed == 0
    assert d.operator(1).state == State.IDLE


def test_expected_wait_counts_online_operators() -> None:
    d = Dispatcher([group(avg_talk_seconds=60)])
    ready_all(d, 1, 2)
    for i in range(5):
        d.enqueue(5, f"c{i}", "+7", 10.0 + i)
    # Two are ringing operators; c2, c3, c4 wait at positions 1..3 with 2 online.
    assert d.expected_wait("c4") == 120
    assert d.expected_wait("c0") is None  # being offered, not waiting


def test_a_caller_who_hangs_up_while_waiting_leaves_the_queue() -> None:
    d = Dispatcher([group()])
    d.enqueue(5, "a", "+71", 1.0)
    eff = d.ended("a", 5.0)
    assert eff.ended == ["a"] and d.position("a") is None
    with pytest.raises(TransitionError):
        d.ended("a", 6.0)
