"""The SQL adapter's infrastructure: migrations, engine settings, the instant type, error translation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum
import pytest

from massage_core.domain.errors import ValidationError
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, Table, event, inspect, insert, select, text
from sqlalchemy.exc import StatementError

from massage_core.adapters.crypto.field_cipher import AesGcmFieldCipher
from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.adapters.memory.ids import UlidGenerator
from massage_core.adapters.sql.engine import make_engine
from massage_core.adapters.sql.migrate import alembic_config, current_revision, head_revision, upgrade
from massage_core.adapters.sql.tables import metadata
from massage_core.adapters.sql.types import UtcInstant
from massage_core.adapters.sql.uow import SqlUnitOfWork
from massage_core.domain.errors import Conflict
from storage_support import Backend, make_account, make_record, make_session, subject_key


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def blank_url(request: pytest.FixtureRequest) -> str:
    """A database without any schema."""
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_blank_url"))


def test_migrated_schema_equals_the_table_metadata(blank_url: str) -> None:
    engine = make_engine(blank_url)
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == head_revision() is not None
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
            assert connection.execute(text("SELECT id, sequence, hash FROM audit_head")).all() == [(1, 0, "")]
        upgrade(engine)  # idempotent
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_downgrade_removes_everything_and_upgrade_restores_it(blank_url: str) -> None:
    upgrade(blank_url)
    engine = make_engine(blank_url)
    try:
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_sqlite_engine_settings(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url, busy_timeout=2.5)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 2500
    finally:
        engine.dispose()


def test_sqlite_writers_are_serialised_and_a_long_wait_is_a_busy_conflict(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url, busy_timeout=0.2)
    upgrade(engine)
    cipher, ids = AesGcmFieldCipher(KeyRing.generate()), UlidGenerator()
    try:
        with SqlUnitOfWork(engine, cipher, ids) as first:
            first.accounts.count()  # read-only, yet it holds the write lock (BEGIN IMMEDIATE)
            with pytest.raises(Conflict) as caught, SqlUnitOfWork(engine, cipher, ids):
                pass
            assert caught.value.code == "conflict.busy"
        with SqlUnitOfWork(engine, cipher, ids) as again:
            assert again.accounts.count() == 0
    finally:
        engine.dispose()


def test_postgres_tls_settings_reach_the_driver() -> None:
    engine = make_engine(
        "postgresql+psycopg://massage@db.example.invalid/massage",
        sslmode="verify-full", sslrootcert="/etc/massage/ca.pem", sslcert="/etc/massage/client.pem",
        sslkey="/etc/massage/client.key", pool_size=3,
    )
    captured: dict[str, Any] = {}

    class Captured(Exception):
        pass

    @event.listens_for(engine, "do_connect")
    def capture(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        captured.update(cparams)
        raise Captured

    with pytest.raises(Captured):
        engine.connect()
    assert captured["sslmode"] == "verify-full"
    assert captured["sslrootcert"] == "/etc/massage/ca.pem"
    assert (captured["sslcert"], captured["sslkey"]) == ("/etc/massage/client.pem", "/etc/massage/client.key")
    assert engine.pool.size() == 3  # type: ignore[attr-defined]  # other options go to create_engine


def test_unsupported_database_is_refused() -> None:
    with pytest.raises(ValidationError, match="unsupported database") as err:
        make_engine("mysql://localhost/massage")
    assert err.value.code == "db.url"


def test_utc_instant_is_exact_and_sortable(sql_backend: Backend) -> None:
    scratch = MetaData()
    table = Table("instants", scratch, Column("n", Integer, primary_key=True), Column("at", UtcInstant()))
    values = [
        pendulum.datetime(2026, 1, 5, 10, 0, 0, 1, tz="Asia/Shanghai"),
        pendulum.datetime(1999, 12, 31, 23, 59, 59, 999999, tz="UTC"),
        dt.datetime(2026, 1, 5, 2, 0, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        pendulum.datetime(2026, 1, 5, 1, 59, 59, 999999, tz="UTC"),
    ]
    engine = sql_backend.engine
    scratch.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(table), [{"n": n, "at": at} for n, at in enumerate(values)])
        rows = connection.execute(select(table.c.n, table.c.at).order_by(table.c.at)).all()
        late = connection.execute(select(table.c.n).where(table.c.at >= values[3])).scalars().all()
    assert [n for n, _ in rows] == sorted(range(len(values)), key=lambda n: values[n])
    for n, at in rows:
        assert isinstance(at, pendulum.DateTime) and at.utcoffset() == dt.timedelta(0)
        assert at == values[n] and at.microsecond == pendulum.instance(values[n]).in_timezone("UTC").microsecond
    assert sorted(late) == [0, 2, 3]
    with pytest.raises(StatementError), engine.begin() as connection:
        connection.execute(insert(table).values(n=9, at=dt.datetime(2026, 1, 1)))


def test_references_to_missing_accounts_are_refused(sql_backend: Backend) -> None:
    with sql_backend.new_uow() as uow:
        with pytest.raises(Conflict) as caught:
            uow.sessions.add(make_session(make_account().id))
        assert caught.value.code == "conflict.reference"
        with pytest.raises(Conflict):
            uow.login_records.add(make_record(subject_key(), account_id=make_account().id))
        uow.login_records.add(make_record(subject_key()))
        uow.commit()
