"""Call quality from RTCP receive statistics: loss, jitter and round trip → 1…5 bars.

The thresholds follow the usual E-model reading for narrowband voice: under 1 % loss and
20 ms jitter nobody notices; past 10 % loss or 100 ms jitter people talk over each other.
"""

from __future__ import annotations

#: (max loss %, max jitter ms, max rtt ms) for 5, 4, 3 and 2 bars; anything worse is 1 bar.
LEVELS: tuple[tuple[int, float, float, float], ...] = (
    (5, 1.0, 20.0, 150.0),
    (4, 3.0, 40.0, 250.0),
    (3, 6.0, 60.0, 400.0),
    (2, 10.0, 100.0, 600.0),
)


def bars(loss_percent: float, jitter_ms: float, rtt_ms: float = 0.0) -> int:
    for level, max_loss, max_jitter, max_rtt in LEVELS:
        if loss_percent <= max_loss and jitter_ms <= max_jitter and rtt_ms <= max_rtt:
            return level
    return 1


def loss_percent(lost: int, received: int) -> float:
    expected = lost + received
    return 0.0 if expected <= 0 else 100.0 * lost / expected
