"""``Prepared`` statements (the hot statements that run on the SQLite driver): the same rows, row counts,
type processing and error translation as ``Connection.execute``, on SQLite and PostgreSQL; on SQLite inside a
transaction the driver runs them (SQLAlchemy's execution events do not fire), outside one SQLAlchemy does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pendulum
import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError as SaIntegrityError
from sqlalchemy.exc import StatementError

from massage_core.adapters.sql import engine as engines
from massage_core.adapters.sql.prepared import Prepared
from massage_core.adapters.sql.repositories._guard import guarded
from massage_core.adapters.sql.types import UtcInstant
from massage_core.domain.errors import Conflict
from storage_support import Backend

metadata = MetaData()
parents = Table("prepared_parents", metadata, Column("id", String(20), primary_key=True))
things = Table(
    "prepared_things", metadata,
    Column("id", String(20), primary_key=True),
    Column("parent_id", String(20), ForeignKey("prepared_parents.id"), nullable=True),
    Column("at", UtcInstant(), nullable=True),
    Column("flag", Boolean(), nullable=False),
    Column("day", Date(), nullable=True),
    Column("n", Integer(), nullable=False),
)
T = things.c
INSERT = Prepared(insert(things))
BY_N = Prepared(select(things).where(T.n >= bindparam("p_n")).order_by(T.id))
COLUMNS = Prepared(select(T.id, (T.n + 1).label("next"), T.at).where(T.id == bindparam("p_id")))
BUMP = Prepared(update(things).where(T.n < bindparam("p_below")).values(n=T.n + 100, flag=False))
SET_AT = Prepared(update(things).where(T.id == bindparam("p_id")))
AT = pendulum.datetime(2026, 1, 5, 10, 30, 0, 123456, tz="Asia/Shanghai")


@pytest.fixture
def connection(sql_backend: Backend) -> Iterator[Connection]:
    """A connection of the backend's engine in a transaction, with the two tables created."""
    assert sql_backend.url is not None
    with _connected(sql_backend.url) as connected:
        yield connected


@contextmanager
def _connected(url: str) -> Iterator[Connection]:
    """A connection of a new engine on ``url`` in a transaction, with the two tables created."""
    engine = engines.make_engine(url)
    try:
        with engine.connect() as conn:
            metadata.create_all(conn)
            conn.commit()
            conn.begin()
            yield conn
            conn.rollback()
    finally:
        engine.dispose()


def rows_of(result: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in result]


def test_rows_and_row_counts_are_those_of_execute(connection: Connection) -> None:
    INSERT.run_many(connection, [
        {"id": "a", "parent_id": None, "at": AT, "flag": True, "day": dt.date(2026, 1, 5), "n": 1},
        {"id": "b", "parent_id": None, "at": None, "flag": False, "day": None, "n": 2},
    ])
    INSERT.run(connection, {"id": "c", "parent_id": None, "at": AT.add(days=1), "flag": True, "day": None, "n": 3})
    found = BY_N.rows(connection, {"p_n": 2})
    assert rows_of(found) == rows_of(connection.execute(BY_N.statement, {"p_n": 2}))
    b, c = found
    assert (b.id, b.at, b.flag, b.day, b.n) == ("b", None, False, None, 2)
    assert c.at == AT.add(days=1) and c.at.timezone_name == "UTC" and c.flag is True
    identifier, _parent, at, flag, day, n = c  # unpacks like a Row
    assert (identifier, at, flag, day, n) == ("c", c.at, True, None, 3)
    assert c._mapping["n"] == 3
    [a] = COLUMNS.rows(connection, {"p_id": "a"})
    assert (a.id, a.next, a.at) == ("a", 2, AT) and isinstance(a.at, pendulum.DateTime)
    assert BY_N.rows(connection, {"p_n": 99}) == []
    assert BUMP.run(connection, {"p_below": 3}) == 2  # the construct's own values (flag=False) are sent
    assert [(r.n, r.flag) for r in BY_N.rows(connection, {"p_n": 0})] == [(101, False), (102, False), (3, True)]
    assert SET_AT.run(connection, {"at": None, "p_id": "a"}) == 1
    assert SET_AT.run(connection, {"at": AT, "p_id": "nobody"}) == 0
    assert BY_N.rows(connection, {"p_n": 101})[0].at is None


def test_driver_errors_are_wrapped_and_translated_as_sqlalchemy_does(connection: Connection) -> None:
    row = {"id": "a", "parent_id": None, "at": None, "flag": True, "day": None, "n": 1}
    INSERT.run(connection, row)
    with pytest.raises(SaIntegrityError), connection.begin_nested():  # PostgreSQL: the transaction goes on
        INSERT.run(connection, row)
    with pytest.raises(Conflict) as duplicate, guarded(connection, duplicate="thing.duplicate"):
        INSERT.run(connection, row)
    assert duplicate.value.code == "thing.duplicate"
    with pytest.raises(Conflict) as reference, guarded(connection, duplicate="thing.duplicate"):
        INSERT.run_many(connection, [dict(row, id="x", parent_id="nobody"), dict(row, id="y", parent_id="nobody")])
    assert reference.value.code == "conflict.reference"
    assert [r.id for r in BY_N.rows(connection, {"p_n": 0})] == ["a"]  # the refused writes left nothing


def test_on_sqlite_the_driver_runs_them_inside_a_transaction_only(sqlite_url: str) -> None:
    with _connected(sqlite_url) as connection:
        sqlite_driver_runs_them(connection)


def sqlite_driver_runs_them(connection: Connection) -> None:
    through_sqlalchemy: list[str] = []
    traced: list[str] = []
    event.listen(connection, "before_cursor_execute", lambda *args: through_sqlalchemy.append(args[2]))
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.set_trace_callback(traced.append)
    try:
        assert BY_N.rows(connection, {"p_n": 0}) == []
        assert through_sqlalchemy == [] and len(traced) == 1 and traced[0].startswith("SELECT")
        connection.rollback()  # outside a transaction: SQLAlchemy (which begins one itself)
        assert BY_N.rows(connection, {"p_n": 0}) == []
        assert len(through_sqlalchemy) == 1
    finally:
        driver.set_trace_callback(None)


def test_a_missing_parameter_is_refused_and_what_needs_sqlalchemy_goes_through_it(connection: Connection) -> None:
    with pytest.raises(StatementError, match="A value is required for bind parameter 'p_n'"):
        BY_N.rows(connection, {})
    INSERT.run(connection, {"id": "a", "parent_id": None, "at": None, "flag": True, "day": None, "n": 1})
    expanding = Prepared(select(T.id).where(T.id.in_(bindparam("p_ids", expanding=True))))
    assert [r.id for r in expanding.rows(connection, {"p_ids": ["a", "b"]})] == ["a"]
