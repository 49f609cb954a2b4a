"""Week schedules: which interval is in force at an instant, and which grids are refused."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from server_stub.routing.schedule import ScheduleProblem, active_interval, validate

# Monday-Friday 09:00-18:00, lunch 13:00-14:00 as an extra interval, Saturday duty morning.
OFFICE: dict[str, Any] = validate(
    {
        "working": [[d, "09:00", "18:00"] for d in range(5)],
        "extra": [
            {"name": "Обед", "intervals": [[d, "13:00", "14:00"] for d in range(5)]},
            {"name": "Дежурство", "intervals": [[5, "10:00", "14:00"]]},
        ],
    }
)

# 2024-01-15 is a Monday.


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_working_hours_in_moscow() -> None:
    assert active_interval(OFFICE, utc(2024, 1, 15, 7, 0), "Europe/Moscow") == "working"  # 10:00
    assert active_interval(OFFICE, utc(2024, 1, 15, 5, 59), "Europe/Moscow") == "non_working"
    # The end is exclusive: 18:00 is already evening.
    assert active_interval(OFFICE, utc(2024, 1, 15, 15, 0), "Europe/Moscow") == "non_working"


def test_extra_interval_wins_over_working_time() -> None:
    assert active_interval(OFFICE, utc(2024, 1, 15, 10, 30), "Europe/Moscow") == "Обед"  # 13:30


def test_extra_interval_on_a_day_without_working_time() -> None:
    saturday_11 = utc(2024, 1, 20, 8, 0)
    assert active_interval(OFFICE, saturday_11, "Europe/Moscow") == "Дежурство"
    assert active_interval(OFFICE, utc(2024, 1, 21, 8, 0), "Europe/Moscow") == "non_working"


def test_same_instant_differs_between_moscow_and_vladivostok() -> None:
    # Monday 23:30 UTC = Tuesday 02:30 in Moscow (night) = Tuesday 09:30 in Vladivostok.
    at = utc(2024, 1, 15, 23, 30)
    assert active_interval(OFFICE, at, "Europe/Moscow") == "non_working"
    assert active_interval(OFFICE, at, "Asia/Vladivostok") == "working"


def test_moscow_has_no_daylight_saving() -> None:
    # 06:30 UTC is 09:30 in Moscow both in winter and in summer (UTC+3 all year since 2014).
    assert active_interval(OFFICE, utc(2024, 1, 15, 6, 30), "Europe/Moscow") == "working"
    assert active_interval(OFFICE, utc(2024, 7, 15, 6, 30), "Europe/Moscow") == "working"
    # Whereas Berlin moves: the same UTC time is 07:30 in January and 08:30 in July.
    assert active_interval(OFFICE, utc(2024, 1, 15, 7, 30), "Europe/Berlin") == "non_working"
    assert active_interval(OFFICE, utc(2024, 7, 15, 7, 30), "Europe/Berlin") == "working"


def test_range_may_end_at_midnight() -> None:
    late = validate({"working": [[0, "20:00", "24:00"]]})
    assert active_interval(late, utc(2024, 1, 15, 20, 59), "Europe/Moscow") == "working"
    assert active_interval(late, utc(2024, 1, 15, 21, 0), "Europe/Moscow") == "non_working"


def test_empty_schedule_is_never_working() -> None:
    assert active_interval(validate({}), utc(2024, 1, 15, 9, 0), "Europe/Moscow") == "non_working"


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError):
        active_interval(OFFICE, datetime(2024, 1, 15, 9, 0), "Europe/Moscow")


@pytest.mark.parametrize(
    ("intervals", "path"),
    [
        ({"working": [[0, "09:00", "18:00"], [0, "17:00", "19:00"]]}, "working.1"),
        ({"working": [[0, "09:00", "18:00"], [7, "09:00", "18:00"]]}, "working.1"),
        ({"working": [[0, "18:00", "09:00"]]}, "working.0"),
        ({"working": [[0, "09:00", "24:01"]]}, "working.0"),
        ({"working": [[0, "24:00", "24:00"]]}, "working.0"),
        ({"working": [[0, "9:00", "18:00"]]}, "working.0"),
        ({"working": [[0, "09:60", "18:00"]]}, "working.0"),
        ({"working": [[0, "09:00"]]}, "working.0"),
        ({"working": [[True, "09:00", "10:00"]]}, "working.0"),
        ({"extra": [{"name": f"e{i}", "intervals": []} for i in range(4)]}, "extra"),
        ({"extra": [{"name": "Обед"}, {"name": " обед "}]}, "extra.1.name"),
        ({"extra": [{"name": ""}]}, "extra.0.name"),
        ({"extra": [{"name": "working"}]}, "extra.0.name"),
        (
            {"extra": [{"name": "x", "intervals": [[1, "10:00", "11:00"], [1, "10:30", "12:00"]]}]},
            "extra.0.intervals.1",
        ),
        (
            {
                "extra": [
                    {"name": "a", "intervals": [[1, "10:00", "11:00"]]},
                    {"name": "b", "intervals": [[2, "10:00", "11:00"], [1, "10:59", "12:00"]]},
                ]
            },
            "extra.1.intervals.1",
        ),
        ({"holidays": []}, "holidays"),
    ],
)
def test_bad_grid_names_the_exact_place(intervals: dict[str, Any], path: str) -> None:
    with pytest.raises(ScheduleProblem) as err:
        validate(intervals)
    assert err.value.path == path
    assert err.value.ru and err.value.en


def test_touching_ranges_and_overlap_with_working_time_are_fine() -> None:
    grid = validate(
        {
            "working": [[0, "09:00", "13:00"], [0, "13:00", "18:00"], [1, "09:00", "18:00"]],
            "extra": [{"name": " Обед ", "intervals": [[0, "12:00", "14:00"]]}],
        }
    )
    assert grid["extra"][0]["name"] == "Обед"
    assert len(grid["working"]) == 3
