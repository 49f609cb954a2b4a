"""The week grid of a schedule: 7 days × 48 half-hours, painted with the mouse.

The grid holds the working time and, on top of it, up to three named extra intervals (a cell
belongs to at most one of them; an extra interval may cover working time and then wins, as
lunch inside the working day). It converts to and from the server's intervals format.
"""

from __future__ import annotations

from typing import Any

from desktop.qt import QtCore, QtGui, QtWidgets, Signal

DAYS = 7
SLOTS = 48
SLOT_MINUTES = 30
ERASE, WORKING = -2, -1
COLOURS = ("#4caf50", "#ff9800", "#2196f3", "#9c27b0")  # working, extra 1..3


def fmt(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def runs(cells: list[bool]) -> list[tuple[int, int]]:
    """Maximal runs of True as (start slot, end slot exclusive)."""
    result: list[tuple[int, int]] = []
    start = None
    for i, on in enumerate([*cells, False]):
        if on and start is None:
            start = i
        elif not on and start is not None:
            result.append((start, i))
            start = None
    return result


class WeekGrid(QtWidgets.QWidget):
    changed = Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("week-grid")
        self.working = [[False] * SLOTS for _ in range(DAYS)]
        self.extra = [[-1] * SLOTS for _ in range(DAYS)]
        self.brush = WORKING
        self.day_names: tuple[str, ...] = ("Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс")
        self.setMinimumSize(560, 170)
        self.setMouseTracking(False)

    # --- geometry -----------------------------------------------------------------------

    def _cell(self) -> tuple[float, float, float, float]:
        left, top = 34.0, 18.0
        return left, top, (self.width() - left - 4) / SLOTS, (self.height() - top - 4) / DAYS

    def cell_at(self, pos: QtCore.QPointF) -> tuple[int, int] | None:
        left, top, w, h = self._cell()
        slot, day = int((pos.x() - left) // w), int((pos.y() - top) // h)
        if 0 <= day < DAYS and 0 <= slot < SLOTS:
            return day, slot
        return None

    def cell_centre(self, day: int, slot: int) -> QtCore.QPoint:
        left, top, w, h = self._cell()
        return QtCore.QPoint(int(left + (slot + 0.5) * w), int(top + (day + 0.5) * h))

    # --- painting with the mouse ------------------------------------------------------

    def paint_cell(self, day: int, slot: int, brush: int | None = None) -> None:
        brush = self.brush if brush is None else brush
        if brush == ERASE:
            self.working[day][slot] = False
            self.extra[day][slot] = -1
        elif brush == WORKING:
            self.working[day][slot] = True
        else:
            self.extra[day][slot] = brush
        self.update()
        self.changed.emit()

    def paint_range(self, day: int, start: int, end: int, brush: int | None = None) -> None:
        for slot in range(start, end):
            self.paint_cell(day, slot, brush)

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:
        self._drag(event)

    def mouseMoveEvent(self, event: QtGui.QMouseEvent) -> None:
        if event.buttons() & QtCore.Qt.MouseButton.LeftButton:
            self._drag(event)

    def _drag(self, event: QtGui.QMouseEvent) -> None:
        cell = self.cell_at(event.position())
        if cell is not None:
            brush = ERASE if event.buttons() & QtCore.Qt.MouseButton.RightButton else None
            self.paint_cell(*cell, brush)

    def paintEvent(self, _event: QtGui.QPaintEvent) -> None:
        painter = QtGui.QPainter(self)
        left, top, w, h = self._cell()
        palette = self.palette()
        painter.fillRect(self.rect(), palette.window())
        painter.setPen(palette.windowText().color())
        for hour in range(0, 24, 3):
            painter.drawText(QtCore.QPointF(left + hour * 2 * w + 1, top - 5), f"{hour:02d}")
        for day in range(DAYS):
            painter.drawText(QtCore.QPointF(4, top + (day + 0.7) * h), self.day_names[day])
            for slot in range(SLOTS):
                rect = QtCore.QRectF(left + slot * w, top + day * h, w, h)
                extra = self.extra[day][slot]
                if extra >= 0:
                    colour = QtGui.QColor(COLOURS[1 + extra])
                elif self.working[day][slot]:
                    colour = QtGui.QColor(COLOURS[0])
                else:
                    colour = palette.base().color()
                painter.fillRect(rect, colour)
                painter.setPen(QtGui.QColor("#bbbbbb" if slot % 2 else "#888888"))
                painter.drawRect(rect)
        painter.end()

    # --- the server's format ------------------------------------------------------------

    def clear(self) -> None:
        self.working = [[False] * SLOTS for _ in range(DAYS)]
        self.extra = [[-1] * SLOTS for _ in range(DAYS)]
        self.update()

    def load(self, intervals: dict[str, Any]) -> tuple[list[str], bool]:
        """Show a schedule; returns the extra names and whether minutes were rounded."""
        self.clear()
        lossy = False

        def mark(ranges: list[list[Any]], setter: Any) -> None:
            nonlocal lossy
            for day, start, end in ranges:
                a, b = parse(start), parse(end)
                if a % SLOT_MINUTES or b % SLOT_MINUTES:
                    lossy = True
                for slot in range(a // SLOT_MINUTES, -(-b // SLOT_MINUTES)):
                    setter(int(day), slot)

        mark(intervals.get("working", []), lambda d, s: self.working[d].__setitem__(s, True))
        names = []
        for i, extra in enumerate(intervals.get("extra", [])[:3]):
            names.append(extra["name"])
            mark(extra.get("intervals", []), lambda d, s, i=i: self.extra[d].__setitem__(s, i))
        self.update()
        return names, lossy

    def intervals(self, names: list[str]) -> dict[str, Any]:
        def ranges(flags: list[list[bool]]) -> list[list[Any]]:
            return [
                [day, fmt(a * SLOT_MINUTES), fmt(b * SLOT_MINUTES)]
                for day in range(DAYS)
                for a, b in runs(flags[day])
            ]

        extra = [
            {"name": name, "intervals": ranges([[e == i for e in row] for row in self.extra])}
            for i, name in enumerate(names)
            if name
        ]
        return {"working": ranges(self.working), "extra": extra}
