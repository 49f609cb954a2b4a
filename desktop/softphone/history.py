"""Local call history: the last calls of this person on this computer, newest first.

Kept as JSON next to the application's other data (not secret: numbers and times). The server
keeps the authoritative record (CDRs); it is shown to domain administrators, as the server's
GET /api/cdrs allows only them.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from desktop.softphone.engine.types import Direction, LineInfo

log = logging.getLogger(__name__)

LIMIT = 500


@dataclass(frozen=True)
class HistoryEntry:
    started_at: float  # UNIX time
    direction: str  # "in" | "out"
    number: str
    name: str
    duration: int  # seconds talked
    result: str  # answered | missed | rejected | busy | dnd | failed
    source: str = "local"  # "local" | "server"


def entry_for(line: LineInfo, name: str = "") -> HistoryEntry:
    if line.answered and line.connected_at is not None:
        result = "answered"
    elif line.reason in ("dnd", "busy", "rejected"):
        result = line.reason
    elif line.direction is Direction.IN:
        result = "missed"
    else:
        result = "failed"
    duration = 0
    if line.connected_at is not None:
        duration = max(0, round(time.monotonic() - line.connected_at))
        if line.ended_at is not None:
            duration = max(0, round(line.ended_at - line.started_at)) if duration == 0 else duration
    return HistoryEntry(
        started_at=line.started_at,
        direction=line.direction.value,
        number=line.number,
        name=name or line.display_name,
        duration=duration,
        result=result,
    )


class History:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: list[HistoryEntry] = self._load()

    def _load(self) -> list[HistoryEntry]:
        if self.path is None or not self.path.exists():
            return []
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return [HistoryEntry(**item) for item in raw][:LIMIT]
        except (OSError, ValueError, TypeError):
            log.warning("call history at %s is unreadable; starting afresh", self.path)
            return []

    def add(self, entry: HistoryEntry) -> None:
        self.entries.insert(0, entry)
        del self.entries[LIMIT:]
        self._save()

    def numbers(self) -> list[str]:
        """Distinct numbers, most recent first (for the number field's completion)."""
        return list(dict.fromkeys(e.number for e in self.entries if e.number))

    def _save(self) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(
                json.dumps([asdict(e) for e in self.entries], ensure_ascii=False),
                encoding="utf-8",
            )
            tmp.replace(self.path)
        except OSError:
            log.warning("cannot save the call history to %s", self.path, exc_info=True)
