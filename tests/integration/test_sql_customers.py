"""The SQL side of customer profiles (decision 0022): migration 0007 adds and removes exactly its table."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect

from massage_core.adapters.sql.engine import make_engine
from massage_core.adapters.sql.migrate import alembic_config


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def blank_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_blank_url"))


def test_migration_0007_adds_and_removes_only_customer_profiles(blank_url: str) -> None:
    engine = make_engine(blank_url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0006")
        at_0006 = set(inspect(engine).get_table_names())
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0007")
        assert set(inspect(engine).get_table_names()) == at_0006 | {"customer_profiles"}
        columns = {c["name"]: c["nullable"] for c in inspect(engine).get_columns("customer_profiles")}
        assert {name: columns[name] for name in ("birth_enc", "conditions_enc", "health_note_enc")} == {
            "birth_enc": False, "conditions_enc": False, "health_note_enc": False}
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0006")
        assert set(inspect(engine).get_table_names()) == at_0006
    finally:
        engine.dispose()
