"""Run the packaged Alembic migrations from code.

    from massage_core.adapters.sql.migrate import upgrade, current_revision
    upgrade("sqlite:///massage.db")          # or an Engine
    current_revision(engine)                 # "0001", or None for an empty database

The migration scripts ship inside the package (``adapters/sql/migrations``);
no ``alembic.ini`` is needed.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import URL, Connection, Engine

from massage_core.adapters.sql.engine import make_engine

SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"
_PG_MIGRATION_LOCK = 0x6D617373  # any constant: the advisory lock that serialises concurrent upgrades


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic Config pointing at the packaged scripts, optionally carrying ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    """The newest revision the package ships."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(engine_or_url: Engine | str | URL, revision: str = "head") -> None:
    """Migrate the database up to ``revision`` in one transaction.

    On PostgreSQL an advisory lock serialises concurrent upgrades; on SQLite
    the ``BEGIN IMMEDIATE`` transaction does.  An engine made here from a URL
    is disposed afterwards; a given engine is left open.
    """
    owned = not isinstance(engine_or_url, Engine)
    engine = make_engine(engine_or_url) if not isinstance(engine_or_url, Engine) else engine_or_url
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
            command.upgrade(alembic_config(connection), revision)
    finally:
        if owned:
            engine.dispose()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None when it was never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
