"""The server runs billing's periodic work by itself: a fresh domain gets today's fees."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from server_stub.api.app import create_app
from server_stub.settings import Settings
from server_stub.store.models_billing import LedgerEntry
from tests.factories import make_world


def test_billing_tick_runs_in_the_background(
    settings: Settings, engine: Engine, db: Session
) -> None:
    w = make_world(db)
    w.a.domain.balance_kopecks = 1_000_000
    db.commit()
    settings.billing_tick_seconds = 0.2
    app = create_app(settings, engine)
    with TestClient(app):
        deadline = time.monotonic() + 15
        fees: list[LedgerEntry] = []
        while time.monotonic() < deadline and not fees:
            db.expire_all()
            fees = (
                db.query(LedgerEntry)
                .filter(LedgerEntry.domain_id == w.a.domain.id, LedgerEntry.kind == "subscription")
                .all()
            )
            time.sleep(0.2)
    assert fees, "no subscription fee was accrued by the background tick"
    # Ticking again the same day charges nothing twice.
    count = len(fees)
    app2 = create_app(settings, engine)
    with TestClient(app2):
        time.sleep(1.0)
    db.expire_all()
    assert (
        db.query(LedgerEntry)
        .filter(LedgerEntry.domain_id == w.a.domain.id, LedgerEntry.kind == "subscription")
        .count()
        == count
    )
