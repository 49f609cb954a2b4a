"""Migrations build the schema the models describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Engine, inspect

from server_stub.store.migrate import alembic_config, check
from server_stub.store.models import Base


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    # alembic's autogenerate comparison: raises if a model change has no migration.
    check(engine.url.render_as_string(hide_password=False))
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_migration_scripts_form_a_single_line() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
