"""ACD selection over member priority tiers."""

from __future__ import annotations

import random

from server_stub.acd.select import AcdAlgorithm, OperatorState, select_operator

FREE = OperatorState(free=True, idle_since=100.0)


def test_longest_idle_picks_the_operator_free_for_longest() -> None:
    states = {
        1: OperatorState(True, 300.0),
        2: OperatorState(True, 100.0),
        3: OperatorState(True, 200.0),
    }
    assert select_operator([(1, 10), (2, 10), (3, 10)], states, AcdAlgorithm.LONGEST_IDLE) == 2


def test_least_busy_picks_the_lowest_talk_to_work_ratio() -> None:
    states = {
        1: OperatorState(True, 100.0, talk_seconds=1800, work_seconds=3600),  # 0.50
        2: OperatorState(True, 50.0, talk_seconds=600, work_seconds=3600),  # 0.17
        3: OperatorState(True, 10.0, talk_seconds=1200, work_seconds=3600),  # 0.33
    }
    assert select_operator([(1, 10), (2, 10), (3, 10)], states, AcdAlgorithm.LEAST_BUSY) == 2


def test_better_priority_tier_wins_over_the_algorithm() -> None:
    states = {1: OperatorState(True, 500.0), 2: OperatorState(True, 1.0)}
    # 2 has been idle far longer, but 1 is in the better tier (10 < 20).
    assert select_operator([(1, 10), (2, 20)], states, AcdAlgorithm.LONGEST_IDLE) == 1


def test_busy_best_tier_falls_to_the_next_tier() -> None:
    states = {1: OperatorState(False, 1.0), 2: OperatorState(True, 5.0)}
    assert select_operator([(1, 10), (2, 20)], states, AcdAlgorithm.LONGEST_IDLE) == 2


def test_excluded_operator_is_not_offered_again_at_once() -> None:
    states = {1: OperatorState(True, 1.0), 2: OperatorState(True, 5.0)}
    pick = select_operator(
        [(1, 10), (2, 10)], states, AcdAlgorithm.LONGEST_IDLE, exclude=frozenset({1})
    )
    assert pick == 2


def test_nobody_free_gives_none() -> None:
    states = {1: OperatorState(False, 1.0)}
    assert select_operator([(1, 10), (2, 10)], states, AcdAlgorithm.RANDOM) is None


def test_random_spreads_over_the_best_tier_only() -> None:
    states = {1: FREE, 2: FREE, 3: FREE}
    rng = random.Random(7)
    picks = {
        select_operator([(1, 10), (2, 10), (3, 20)], states, AcdAlgorithm.RANDOM, rng=rng)
        for _ in range(200)
    }
    assert picks == {1, 2}
