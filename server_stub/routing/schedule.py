"""Week schedules (seed 001): working time plus up to three named extra intervals.

A schedule is stored as::

    {"working": [[weekday, "HH:MM", "HH:MM"], ...],
     "extra": [{"name": "Обед", "intervals": [[weekday, "HH:MM", "HH:MM"], ...]}, ...]}

``weekday`` is 0 (Monday) … 6 (Sunday); a range is half-open ``[start, end)`` and ``"24:00"``
may end a range. Time not covered by any range is non-working (the manual: "to make a whole day
non-working, delete all its ranges").

Pure module: the routing engine and the API validator both use it, so it imports neither
FastAPI nor SQLAlchemy (import-linter contract).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

WORKING = "working"
NON_WORKING = "non_working"
MAX_EXTRA = 3
MAX_NAME = 60
_RESERVED_NAMES = frozenset({WORKING, NON_WORKING})
_TIME = re.compile(r"^(\d{2}):(\d{2})$")
DAY_MINUTES = 24 * 60


class ScheduleProblem(ValueError):
    """A rule broken at ``path`` (e.g. ``working.2``), in Russian and English."""

    def __init__(self, path: str, ru: str, en: str) -> None:
        super().__init__(f"{path}: {en}")
        self.path, self.ru, self.en = path, ru, en


def _minutes(value: Any, path: str, *, is_end: bool) -> int:
    match = _TIME.match(value) if isinstance(value, str) else None
    if match is None:
        raise ScheduleProblem(
            path, "Время в формате ЧЧ:ММ", "Time must be HH:MM (for example 09:00)"
        )
    hours, minutes = int(match[1]), int(match[2])
    total = hours * 60 + minutes
    if minutes > 59 or total > DAY_MINUTES or (total == DAY_MINUTES and not is_end):
        raise ScheduleProblem(
            path,
            "Время должно быть от 00:00 до 24:00 (24:00 только как конец)",
            "Time must be between 00:00 and 24:00 (24:00 only as an end)",
        )
    return total


def _range(raw: Any, path: str) -> tuple[int, int, int]:
    if not isinstance(raw, list | tuple) or len(raw) != 3:
        raise ScheduleProblem(
            path,
            "Ожидается [день недели, начало, конец]",
            "Expected [weekday, start, end]",
        )
    day, start_raw, end_raw = raw
    if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 6:
        raise ScheduleProblem(
            path,
            "День недели — число от 0 (пн) до 6 (вс)",
            "Weekday must be a number from 0 (Monday) to 6 (Sunday)",
        )
    start = _minutes(start_raw, path, is_end=False)
    end = _minutes(end_raw, path, is_end=True)
    if start >= end:
        raise ScheduleProblem(
            path,
            "Начало интервала должно быть раньше конца",
            "The start must be earlier than the end",
        )
    return day, start, end


def _ranges(raw: Any, path: str) -> list[tuple[int, int, int]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ScheduleProblem(path, "Ожидается список интервалов", "Expected a list of ranges")
    parsed = [_range(item, f"{path}.{i}") for i, item in enumerate(raw)]
    for i, (day, start, end) in enumerate(parsed):
        for j in range(i):
            other_day, other_start, other_end = parsed[j]
            if day == other_day and start < other_end and other_start < end:
                raise ScheduleProblem(
                    f"{path}.{i}",
                    f"Интервал пересекается с интервалом №{j + 1} того же дня",
                    f"The range overlaps range #{j + 1} of the same day",
                )
    return parsed


def _fmt(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _plain(ranges: list[tuple[int, int, int]]) -> list[list[Any]]:
    return [[day, _fmt(start), _fmt(end)] for day, start, end in ranges]


def validate(intervals: Any) -> dict[str, Any]:
    """Check a schedule and return it in canonical form, or raise ``ScheduleProblem``.

    Overlaps are refused inside one list and between two extra intervals (on the week grid a
    cell belongs to one named interval); an extra interval may cover working time, and then
    wins (lunch inside the working day).
    """
    if intervals is None:
        intervals = {}
    if not isinstance(intervals, dict):
        raise ScheduleProblem("", "Ожидается объект", "Expected an object")
    for key in intervals:
        if key not in (WORKING, "extra"):
            raise ScheduleProblem(
                str(key), "Неизвестный ключ (допустимы working, extra)", "Unknown key"
            )
    working = _ranges(intervals.get(WORKING), WORKING)
    extras_raw = intervals.get("extra") or []
    if not isinstance(extras_raw, list):
        raise ScheduleProblem("extra", "Ожидается список", "Expected a list")
    if len(extras_raw) > MAX_EXTRA:
        raise ScheduleProblem(
            "extra",
            f"Не более {MAX_EXTRA} дополнительных интервалов",
            f"At most {MAX_EXTRA} extra intervals",
        )
    seen: dict[str, int] = {}
    extras: list[tuple[str, list[tuple[int, int, int]]]] = []
    for i, extra in enumerate(extras_raw):
        path = f"extra.{i}"
        if not isinstance(extra, dict):
            raise ScheduleProblem(path, "Ожидается объект", "Expected an object")
        name = extra.get("name")
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME:
            raise ScheduleProblem(
                f"{path}.name",
                f"Название обязательно, не длиннее {MAX_NAME} символов",
                f"A name is required, at most {MAX_NAME} characters",
            )
        name = name.strip()
        folded = name.casefold()
        if folded in _RESERVED_NAMES:
            raise ScheduleProblem(
                f"{path}.name", "Это название зарезервировано", "This name is reserved"
            )
        if folded in seen:
            raise ScheduleProblem(
                f"{path}.name",
                "Значение в списке не уникально",
                "The name is not unique in the list",
            )
        seen[folded] = i
        ranges = _ranges(extra.get("intervals"), f"{path}.intervals")
        extras.append((name, ranges))
    _refuse_extra_overlaps(extras)
    return {
        WORKING: _plain(working),
        "extra": [{"name": n, "intervals": _plain(r)} for n, r in extras],
    }


def _refuse_extra_overlaps(extras: list[tuple[str, list[tuple[int, int, int]]]]) -> None:
    for i, (_name, ranges) in enumerate(extras):
        for k, (day, start, end) in enumerate(ranges):
            for other_name, other_ranges in extras[:i]:
                for other_day, other_start, other_end in other_ranges:
                    if day == other_day and start < other_end and other_start < end:
                        raise ScheduleProblem(
                            f"extra.{i}.intervals.{k}",
                            f"Пересекается с интервалом «{other_name}»",
                            f"Overlaps the interval '{other_name}'",
                        )


def _covers(ranges: Any, day: int, minute: int) -> bool:
    for item in ranges or []:
        range_day, start, end = item
        if range_day != day:
            continue
        if _minutes(start, "", is_end=False) <= minute < _minutes(end, "", is_end=True):
            return True
    return False


def active_interval(intervals: dict[str, Any], at: datetime, tz: str) -> str:
    """Which interval is in force at instant ``at``, seen in time zone ``tz``.

    Returns ``"working"``, the name of an extra interval (extras take precedence over
    working time), or ``"non_working"``. ``at`` must be time-zone aware: a naive time is
    ambiguous across the country's eleven zones.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("active_interval needs an aware datetime")
    local = at.astimezone(ZoneInfo(tz))
    day = local.weekday()
    minute = local.hour * 60 + local.minute
    for extra in intervals.get("extra") or []:
        if _covers(extra.get("intervals"), day, minute):
            return str(extra["name"])
    if _covers(intervals.get(WORKING), day, minute):
        return WORKING
    return NON_WORKING


# --- compiled form, for the routing engine's hot path -------------------------------------

_Day = tuple[tuple[int, int], ...]  # (start, end) minute ranges of one weekday


class Compiled:
    """A schedule parsed once into per-weekday minute ranges; ``at(day, minute)`` is then a
    few integer comparisons instead of parsing "HH:MM" strings on every rule of every call."""

    __slots__ = ("extras", "working")

    def __init__(self, intervals: dict[str, Any]) -> None:
        self.working = _by_day(intervals.get(WORKING))
        self.extras: tuple[tuple[str, tuple[_Day, ...]], ...] = tuple(
            (str(extra["name"]), _by_day(extra.get("intervals")))
            for extra in intervals.get("extra") or []
        )

    def at(self, day: int, minute: int) -> str:
        for name, days in self.extras:
            for start, end in days[day]:
                if start <= minute < end:
                    return name
        for start, end in self.working[day]:
            if start <= minute < end:
                return WORKING
        return NON_WORKING


def _by_day(ranges: Any) -> tuple[_Day, ...]:
    days: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    for day, start, end in ranges or []:
        days[day].append((_minutes(start, "", is_end=False), _minutes(end, "", is_end=True)))
    return tuple(tuple(d) for d in days)


def local_day_minute(at: datetime, tz: str) -> tuple[int, int]:
    """(weekday, minute of the day) of ``at`` in time zone ``tz``."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("an aware datetime is needed")
    local = at.astimezone(ZoneInfo(tz))
    return local.weekday(), local.hour * 60 + local.minute
