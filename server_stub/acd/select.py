"""Choosing the operator for a queued call: a pure function of the operators' states.

Member priority tiers come first (lower value first): the algorithm only chooses among the
free operators of the best tier that has any (spec 02 §1.4, "first by priority, then the
algorithm"). Ties are broken deterministically (longest idle, then lowest id) so that two
servers given the same states pick the same operator.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class AcdAlgorithm(StrEnum):
    RANDOM = "random"
    LONGEST_IDLE = "longest_idle"
    LEAST_BUSY = "least_busy"


@dataclass(frozen=True)
class OperatorState:
    free: bool  # ready and not in a call, offer or post-call work
    idle_since: float  # when the last call ended (epoch seconds); smaller = idle longer
    talk_seconds: float = 0.0  # talk time in the current working session
    work_seconds: float = 0.0  # time since the softphone came online in this session

    @property
    def load(self) -> float:
        """Talk time over working time: the "least busy" measure."""
        return self.talk_seconds / self.work_seconds if self.work_seconds > 0 else 0.0


def select_operator(
    members: Iterable[tuple[int, int]],
    states: Mapping[int, OperatorState],
    algorithm: AcdAlgorithm,
    *,
    exclude: frozenset[int] = frozenset(),
    rng: random.Random | None = None,
) -> int | None:
    """``members`` are (user_id, priority) of the group's operators; None if nobody is free."""
    tiers: dict[int, list[int]] = {}
    for user_id, priority in members:
        state = states.get(user_id)
        if state is not None and state.free and user_id not in exclude:
            tiers.setdefault(priority, []).append(user_id)
    if not tiers:
        return None
    candidates = sorted(tiers[min(tiers)])
    if algorithm == AcdAlgorithm.RANDOM:
        return (rng or random.Random()).choice(candidates)
    if algorithm == AcdAlgorithm.LONGEST_IDLE:
        return min(candidates, key=lambda u: (states[u].idle_since, u))
    return min(candidates, key=lambda u: (states[u].load, states[u].idle_since, u))
