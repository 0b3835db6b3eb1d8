"""Hot statements: Core constructs compiled by SQLAlchemy once, run on the SQLite driver.

Through ``Connection.execute`` a statement on SQLite costs, beside the few microseconds the driver takes,
some 15-30 us of SQLAlchemy's execution machinery (an execution context, parameter dictionaries, a result
with its metadata), and a little more per parameter: about as much as the database's own work for the
small statements of an order step.  A ``Prepared`` statement is a module-level construct like any other;
on SQLite, inside the unit of work's transaction, it is compiled once per dialect (SQLAlchemy's own SQL
text, parameter order and type processing: ``UtcInstant``, ``Boolean``...) and then runs on the driver
connection, its rows coming back as named tuples (attribute access and unpacking like ``Row``; ``_mapping``
as a dict).  A driver error is wrapped as SQLAlchemy wraps it (``DBAPIError.instance``), so
``translating`` / ``guarded`` turn it into the same port error.  Elsewhere (PostgreSQL; outside a
transaction) it goes through ``Connection.execute`` unchanged.

As with the SQLite savepoints (``_guard.savepoint``), these statements skip SQLAlchemy's execution events
on SQLite; the driver's trace callback still sees every one of them.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError, InvalidRequestError, StatementError
from sqlalchemy.sql.expression import SelectBase

_Processor = Callable[[Any], Any]


def _driver(connection: Connection) -> Any:
    """The SQLite driver connection of ``connection`` while it runs a transaction, else None."""
    if connection.dialect.name != "sqlite" or not connection.in_transaction():
        return None
    return connection.connection.driver_connection


class _Unsupported(Exception):
    """The statement needs SQLAlchemy's execution; ``Prepared`` hands it to ``Connection.execute``."""


class _Plan:
    """``statement`` compiled for one dialect and one set of parameter names."""

    def __init__(self, statement: Any, dialect: Dialect, keys: Sequence[str] | None) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys) if keys is not None else None)
        if (compiled.post_compile_params or compiled.literal_execute_params or compiled.insert_prefetch
                or compiled.update_prefetch or compiled.effective_returning):
            # Expanding parameters, Python-side column defaults, RETURNING: SQLAlchemy's to run.
            raise _Unsupported
        self.sql = compiled.string
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())
        # Values the construct itself holds (``.values(active=False)``); the caller's parameters come first.
        held = compiled.construct_params(_check=False)
        self.defaults = {name: held[name] for name in self.names if not compiled.binds[name].required}
        self.binds: dict[str, _Processor] = {}
        for name in self.names:
            processor = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.binds[name] = processor
        self.row: Any = None
        self.results: tuple[tuple[int, _Processor], ...] = ()
        if isinstance(statement, SelectBase):
            columns = list(statement.selected_columns)
            try:
                self.row = _row_type([str(column.key) for column in columns])
            except ValueError:  # names a named tuple cannot take (duplicates...)
                raise _Unsupported from None
            self.results = tuple(
                (n, processor) for n, column in enumerate(columns)
                if (processor := column.type.dialect_impl(dialect).result_processor(dialect, None)) is not None)

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        defaults, binds = self.defaults, self.binds
        out = []
        for name in self.names:
            if name in values:
                value = values[name]
            elif name in defaults:
                value = defaults[name]
            else:
                missing = InvalidRequestError(f"A value is required for bind parameter {name!r}", code="cd3x")
                raise StatementError(str(missing), self.sql, dict(values), missing)  # as SQLAlchemy raises it
            processor = binds.get(name)
            out.append(value if processor is None or value is None else processor(value))
        return tuple(out)

    def rows(self, fetched: Iterable[tuple[Any, ...]]) -> list[Any]:
        make, results = self.row._make, self.results
        if not results:
            return [make(values) for values in fetched]
        found = []
        for values in fetched:
            record = list(values)
            for n, processor in results:
                record[n] = processor(record[n])
            found.append(make(record))
        return found


def _row_type(names: list[str]) -> Any:
    base = namedtuple("Row", names)  # type: ignore[misc]
    return type("Row", (base,), {"__slots__": (), "_mapping": property(lambda row: row._asdict())})


class Prepared:
    """A module-level statement that runs on the SQLite driver (see the module docstring)."""

    def __init__(self, statement: Any) -> None:
        """Prepare ``statement`` (a Core SELECT, INSERT, UPDATE or DELETE with named ``bindparam``s)."""
        self.statement = statement
        self._plans: dict[tuple[Any, ...], _Plan | None] = {}

    def _plan(self, dialect: Dialect, keys: tuple[str, ...] | None) -> _Plan | None:
        key = (type(dialect), dialect.paramstyle, dialect.server_version_info, keys)
        if key in self._plans:
            return self._plans[key]
        try:
            plan: _Plan | None = _Plan(self.statement, dialect, keys)
        except _Unsupported:
            plan = None
        self._plans[key] = plan
        return plan

    def _keys(self, params: Mapping[str, Any]) -> tuple[str, ...] | None:
        return None if isinstance(self.statement, SelectBase) else tuple(params)

    def rows(self, connection: Connection, params: Mapping[str, Any]) -> list[Any]:
        """The rows of a SELECT (each with attribute access and unpacking, and ``_mapping``)."""
        driver = _driver(connection)
        plan = None if driver is None else self._plan(connection.dialect, None)
        if plan is None:
            return list(connection.execute(self.statement, params))
        parameters = plan.parameters(params)
        return plan.rows(_run(driver, plan.sql, parameters, connection.dialect).fetchall())

    def run(self, connection: Connection, params: Mapping[str, Any]) -> int:
        """Run an INSERT, UPDATE or DELETE with one set of parameters; the row count."""
        driver = _driver(connection)
        plan = None if driver is None else self._plan(connection.dialect, self._keys(params))
        if plan is None:
            return int(connection.execute(self.statement, params).rowcount)
        return int(_run(driver, plan.sql, plan.parameters(params), connection.dialect).rowcount)

    def run_many(self, connection: Connection, params: Sequence[Mapping[str, Any]]) -> None:
        """Run an INSERT with several sets of parameters (all with the same names; none: nothing runs)."""
        if not params:
            return
        driver = _driver(connection)
        plan = None if driver is None else self._plan(connection.dialect, self._keys(params[0]))
        if plan is None:
            connection.execute(self.statement, list(params))
            return
        many = [plan.parameters(values) for values in params]
        if len(many) == 1:
            _run(driver, plan.sql, many[0], connection.dialect)
            return
        try:
            driver.executemany(plan.sql, many)
        except sqlite3.Error as error:
            raise _wrapped(plan.sql, many, error, connection.dialect) from error


def _run(driver: Any, sql: str, parameters: tuple[Any, ...], dialect: Dialect) -> Any:
    try:
        return driver.execute(sql, parameters)
    except sqlite3.Error as error:
        raise _wrapped(sql, parameters, error, dialect) from error


def _wrapped(sql: str, parameters: Any, error: sqlite3.Error, dialect: Dialect) -> DBAPIError:
    """The error SQLAlchemy would have raised for ``error`` (IntegrityError, OperationalError...)."""
    wrapped = DBAPIError.instance(sql, parameters, error, sqlite3.Error, dialect=dialect)
    assert isinstance(wrapped, DBAPIError)  # a driver error always is one
    return wrapped
