"""The current time for the auth endpoints, as a dependency so that tests can move it.

Lockouts, refresh-token and reset-link expiry all compare stored times with ``now``; a test
overrides ``app.dependency_overrides[now]`` instead of sleeping for a quarter of an hour.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends


def now() -> datetime:
    return datetime.now(UTC)


Now = Annotated[datetime, Depends(now)]
