"""Shared fixtures.

Database tests run once per backend: SQLite always, PostgreSQL when ``PULT_TEST_PG_URL`` names a
server (``./test.sh`` starts a throwaway one). Under CI a missing PostgreSQL is an error, not a
skip, so "the same results on SQLite and PostgreSQL" cannot silently shrink to SQLite only.
Each test gets a freshly migrated, empty database.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from server_stub.settings import Settings
from server_stub.store.db import make_engine, make_session_factory
from server_stub.store.migrate import upgrade
from server_stub.store.registry import metadata as ALL_TABLES

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Billing's timer charges domains at a moment of its own choosing; a test that builds an app
# gets it only when it asks (tests/integration/api/test_scheduler.py), never by surprise.
os.environ.setdefault("PULT_BILLING_TICK_SECONDS", "0")

PG_URL = os.environ.get("PULT_TEST_PG_URL", "")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]
if os.environ.get("CI") and not PG_URL:
    raise RuntimeError("CI run without PULT_TEST_PG_URL: ./test.sh must start PostgreSQL")


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Full-strength argon2 costs ~1 s per hash on a loaded 2-core machine; tests hash dozens.

    The algorithm and the code path stay the same, only the cost parameters are lowered.
    """
    from argon2 import PasswordHasher

    from server_stub.api import security

    monkeypatch.setattr(
        security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_migrated() -> str:
    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    upgrade(PG_URL)
    return PG_URL


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def engine(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        db = tmp_path / "pult.sqlite3"
        shutil.copy(template, db)
        eng = make_engine(f"sqlite:///{db}")
    else:
        url: str = request.getfixturevalue("pg_migrated")
        eng = make_engine(url)
        tables = ", ".join(f'"{t.name}"' for t in ALL_TABLES.sorted_tables)
        with eng.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for arranging and checking data directly; commit what the API must see."""
    session = session_factory()
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-that-is-long-enough-for-hs256",
        smtp_port=int(os.environ.get("PULT_TEST_SMTP_PORT", "8025")),
        billing_tick_seconds=0,  # tests run billing's work explicitly, at the moment they choose
    )


@pytest.fixture
def app(settings: Settings, engine: Engine) -> FastAPI:
    from server_stub.api.app import create_app

    return create_app(settings, engine)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c
