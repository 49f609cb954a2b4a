"""The routing engine's billing hook, backed by the database.

``make_authorize(session_factory)`` returns an ``Authorize`` callable
(``(DomainCfg, Direction, number) -> (ru, en) | None``) for ``routing.engine.route``: before a
paid branch is rung it reads the domain's billing state (balance, scheme, credit limit, block,
today's call spend, paid calls in progress) and asks the pure ``billing.authorize``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from server_stub.billing.authorize import authorize
from server_stub.routing.config import DomainCfg
from server_stub.routing.engine import Authorize
from server_stub.routing.numbering import Direction
from server_stub.store.billing_calls import auth_state


def make_authorize(
    session_factory: sessionmaker[Session],
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Authorize:
    def hook(cfg: DomainCfg, direction: Direction, number: str) -> tuple[str, str] | None:
        now = clock()
        with session_factory() as session:
            state = auth_state(session, cfg.id, now)
        return authorize(state, direction.value, number, now)

    return hook


def session_authorize(session: Session, now: datetime) -> Authorize:
    """The same check inside an open transaction (the SIP route request's own session)."""

    def hook(cfg: DomainCfg, direction: Direction, number: str) -> tuple[str, str] | None:
        return authorize(auth_state(session, cfg.id, now), direction.value, number, now)

    return hook
