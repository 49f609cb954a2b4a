"""Names for numbers and numbers for names, from the server's GET /api/directory/search.

Personal contacts, company contacts and domain users in one list (the server orders them).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)

RELOAD_SECONDS = 300.0


class Requester(Protocol):
    async def request(self, method: str, path: str, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class Match:
    name: str
    number: str
    source: str  # personal | company | user

    @property
    def label(self) -> str:
        return f"{self.name} — {self.number}"


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def matches_of(payload: Any) -> list[Match]:
    found: list[Match] = []
    for item in (payload or {}).get("items", []):
        name = str(item.get("name", ""))
        if item.get("extension"):
            found.append(Match(name, str(item["extension"]), str(item.get("source", ""))))
        for phone in item.get("phones") or []:
            if phone.get("number"):
                found.append(Match(name, str(phone["number"]), str(item.get("source", ""))))
    return found


class Directory:
    def __init__(self, client: Requester | None) -> None:
        self.client = client
        self._names: dict[str, str] = {}
        self._loaded_at = -1e9

    def _remember(self, found: list[Match]) -> None:
        for m in found:
            self._names.setdefault(_digits(m.number) or m.number, m.name)

    async def _load_all(self) -> None:
        """The whole list once in a while: the server finds users by name only, so an
        extension is matched to a colleague's name here."""
        if self.client is None or time.monotonic() - self._loaded_at < RELOAD_SECONDS:
            return
        self._loaded_at = time.monotonic()
        try:
            payload = await self.client.request(
                "GET", "/api/directory/search", params={"limit": 500}
            )
        except Exception:
            log.info("directory listing failed", exc_info=True)
            return
        self._remember(matches_of(payload))

    async def search(self, text: str, limit: int = 20) -> list[Match]:
        if self.client is None or not text.strip():
            return []
        try:
            payload = await self.client.request(
                "GET", "/api/directory/search", params={"q": text.strip(), "limit": limit}
            )
        except Exception:
            # The number field works without completion; a failed lookup is not an error.
            log.info("directory search failed", exc_info=True)
            return []
        found = matches_of(payload)
        self._remember(found)
        return found

    async def name_for(self, number: str) -> str:
        """The contact's name for a caller's number ("" when nobody has it)."""
        key = _digits(number) or number
        if key in self._names:
            return self._names[key]
        await self._load_all()
        if key in self._names:
            return self._names[key]
        for m in await self.search(number, limit=10):
            if (_digits(m.number) or m.number) == key:
                return m.name
        # Users are found by name only (the server does not search internal numbers); a
        # caller who sent the login instead of the number matches no one either.
        return ""
