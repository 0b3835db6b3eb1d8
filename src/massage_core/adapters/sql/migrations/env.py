"""Alembic environment: migrate the connection handed over by ``migrate.upgrade``.

``migrate.upgrade`` opens a transaction and passes its connection in
``config.attributes["connection"]``.  Run through the ``alembic`` command
instead, the URL comes from the ``sqlalchemy.url`` option; offline mode
(``--sql``) prints the SQL.
"""

from __future__ import annotations

from alembic import context

from massage_core.adapters.sql.engine import make_engine
from massage_core.adapters.sql.tables import metadata


def run_offline() -> None:
    """Emit SQL for the configured URL instead of running it."""
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Migrate the given connection, or one opened from the configured URL."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: pass a connection in config.attributes or set sqlalchemy.url")
    engine = make_engine(url)
    try:
        with engine.begin() as own:
            context.configure(connection=own, target_metadata=metadata, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
