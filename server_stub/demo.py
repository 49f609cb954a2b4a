"""The demo domain (``python -m server_stub demo``). Filled in by the demo work."""

from __future__ import annotations

from sqlalchemy.orm import Session


def load_demo(session: Session) -> list[tuple[str, str, str]]:
    """Create the demo company; return (login, password, role) rows to print."""
    raise NotImplementedError
