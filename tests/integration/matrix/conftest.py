"""One seeded world per module and backend: the matrices make hundreds of requests, and a
fresh database per request would make them minutes long. Tests that change what they touch
work on a fresh side (``fresh``) so the shared objects stay as seeded; the isolation matrix
proves after every request that A's rows are unchanged anyway.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from server_stub.api import acd_service, security, sip_auth
from server_stub.settings import Settings
from server_stub.store.db import make_engine, make_session_factory
from server_stub.store.models import Base, Domain
from tests.conftest import BACKENDS
from tests.factories import SECRET
from tests.integration.matrix.table import BodyCtx
from tests.integration.matrix.world import (
    EDGE_TOKEN,
    SYSTEM_TOKEN,
    MatrixWorld,
    Side,
    fresh_side,
    make_matrix_world,
    unique,
)


@dataclass
class Matrix:
    app: FastAPI
    client: TestClient
    db: Session
    world: MatrixWorld

    def fresh(self, domain: Domain, label: str) -> Side:
        return fresh_side(self.db, domain, f"{label}{unique()}")

    def ctx(self, side: Side) -> BodyCtx:
        return BodyCtx(side, self.world, self.db, self.client, unique())


def _engine(backend: str, request: pytest.FixtureRequest, tmp: Path) -> Engine:
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        db = tmp / "matrix.sqlite3"
        shutil.copy(template, db)
        return make_engine(f"sqlite:///{db}")
    url: str = request.getfixturevalue("pg_migrated")
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return engine


@pytest.fixture(scope="module", params=BACKENDS)
def mx(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Matrix]:
    tmp = tmp_path_factory.mktemp("matrix")
    engine = _engine(str(request.param), request, tmp)
    settings = Settings(data_dir=tmp / "data", secret_key=SECRET, smtp_port=1)
    from server_stub.api.app import create_app

    session = make_session_factory(engine)()
    with pytest.MonkeyPatch.context() as mp:
        # The machine callers' secrets, read by the app from the environment (the edge's
        # once, when first needed; the system's on every request).
        mp.setenv(sip_auth.ENV, EDGE_TOKEN)
        mp.setenv("PULT_SYSTEM_TOKEN", SYSTEM_TOKEN)
        app = create_app(settings, engine)
        # The contact centre's clock stands still: a call left ringing by one test would
        # otherwise lapse during a later one (an offer lasts seconds), changing A's operator
        # intervals in the middle of a check that nothing changed.
        frozen = datetime.now(UTC)
        app.dependency_overrides[acd_service.now] = lambda: frozen
        mp.setattr(acd_service, "now", lambda: frozen)
        # The matrices check who may do what, not password hashing; the production argon2
        # cost (~0.1-0.3 s a hash, paid by every login and user creation) would make them
        # minutes long. Hashes made here carry their cheap parameters, so verifying is cheap.
        mp.setattr(
            security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        )
        world = make_matrix_world(session)
        # A 500 is a finding to report, not an exception that aborts the whole matrix.
        with TestClient(app, raise_server_exceptions=False) as client:
            yield Matrix(app, client, session, world)
    session.rollback()
    session.close()
    engine.dispose()
