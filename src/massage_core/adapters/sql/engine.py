"""Engines for SQLite (embedded default) and PostgreSQL, and error translation.

SQLite engines run in WAL mode with foreign keys on, a busy timeout, and
serialised writers: pysqlite's own transaction handling is switched off and
every transaction starts with ``BEGIN IMMEDIATE``, so it holds the write
lock from its first statement and two writers never interleave.  The BEGIN is
the dialect's ``do_begin`` of the engine rather than a ``begin`` event
listener: an engine without connection events skips SQLAlchemy's event
dispatch on every statement.

PostgreSQL engines (``postgresql+psycopg://``) use READ COMMITTED; the
repositories take explicit row locks where they must serialise.  A pooled
connection that sat idle for more than ``PING_AFTER_IDLE_SECONDS`` is pinged
(``SELECT 1``) when checked out and, when the ping fails, replaced (the pool
drops every connection older than it, as with ``pool_pre_ping``); one checked
in moments ago is handed out without the extra round trip (``pool_pre_ping``
would ping before every unit of work).  Pass ``pool_pre_ping=True`` to ping
every time.  Each new connection sets its session time zone to UTC, so
psycopg hands ``timestamptz`` values over with ``datetime.timezone.utc``
rather than a named zone, which converts to pendulum (``UtcInstant``) several
times faster; no statement of the library depends on the session's zone.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InvalidatePoolError
from sqlalchemy.exc import IntegrityError as SaIntegrityError
from sqlalchemy.exc import OperationalError

from massage_core.domain.errors import Conflict, ValidationError

DEFAULT_BUSY_TIMEOUT_SECONDS = 30.0
PING_AFTER_IDLE_SECONDS = 1.0
POSTGRES_CONNECT_ARGS = (
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslpassword",
    "sslcrl",
    "connect_timeout",
    "application_name",
)

_PG_UNIQUE = "23505"
_PG_FOREIGN_KEY = "23503"
_PG_BUSY = frozenset({"40001", "40P01", "55P03"})


def make_engine(url: str | URL, **options: Any) -> Engine:
    """Create an engine for ``url`` with the settings this library relies on.

    SQLite (``sqlite:///massage.db``): ``busy_timeout`` (seconds a writer waits
    for the lock before ``Conflict("conflict.busy")``, default 30).

    PostgreSQL (``postgresql+psycopg://user@host/db``): TLS settings are passed
    to libpq unchanged --

    * ``sslmode``: ``disable``, ``require``, ``verify-ca`` or ``verify-full``
      (use ``verify-full`` across untrusted networks);
    * ``sslrootcert``: path of the CA certificate(s) that signed the server's;
    * ``sslcert`` / ``sslkey``: path of the client certificate and its key,
      for servers that authenticate clients by certificate;
    * ``sslpassword``, ``sslcrl``, ``connect_timeout``, ``application_name``.

    They may equally be given in the URL query (``?sslmode=verify-full``).
    ``isolation_level`` defaults to ``READ COMMITTED``.  Any other keyword
    goes to ``sqlalchemy.create_engine`` (``pool_size``, ``echo``...).
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValidationError(f"not a database URL: {str(url)[:80]!r}", code="db.url") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, options)
    if backend == "postgresql":
        return _postgres_engine(parsed, options)
    raise ValidationError(f"unsupported database {backend!r}: use sqlite:/// or postgresql+psycopg://",
                          code="db.url")


def _sqlite_engine(url: URL, options: dict[str, Any]) -> Engine:
    busy_ms = int(float(options.pop("busy_timeout", DEFAULT_BUSY_TIMEOUT_SECONDS)) * 1000)
    connect_args = dict(options.pop("connect_args", {}))
    connect_args.setdefault("timeout", busy_ms / 1000)
    engine = create_engine(url, connect_args=connect_args, **options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite; "begin" below emits our own BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        finally:
            cursor.close()

    def _begin_immediate(dbapi_connection: Any) -> None:
        # Errors are wrapped by SQLAlchemy's begin, like any statement's ("database is locked" -> busy).
        dbapi_connection.execute("BEGIN IMMEDIATE")

    engine.dialect.do_begin = _begin_immediate  # type: ignore[method-assign]
    return engine


def _postgres_engine(url: URL, options: dict[str, Any]) -> Engine:
    connect_args = dict(options.pop("connect_args", {}))
    for name in POSTGRES_CONNECT_ARGS:
        if name in options:
            connect_args[name] = options.pop(name)
    options.setdefault("isolation_level", "READ COMMITTED")
    engine = create_engine(url, connect_args=connect_args, **options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("SET TIME ZONE 'UTC'")
        dbapi_connection.commit()

    if not options.get("pool_pre_ping"):
        _ping_when_idle(engine, PING_AFTER_IDLE_SECONDS)
    return engine


_IDLE_SINCE = "massage_core.idle_since"


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Ping a pooled connection on checkout when it was checked in more than ``idle_seconds`` ago."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or time.monotonic() - since <= idle_seconds:
            return
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
        except Exception as exc:
            # As pool_pre_ping does: the pool discards this connection and every older one (the server went
            # away, most likely), and opens another.
            raise InvalidatePoolError("the pooled connection is gone") from exc


def _sqlite_error_name(exc: DBAPIError) -> str:
    return str(getattr(exc.orig, "sqlite_errorname", ""))


def _sqlstate(exc: DBAPIError) -> str:
    return str(getattr(exc.orig, "sqlstate", "") or "")


def is_unique_violation(exc: DBAPIError) -> bool:
    """True when ``exc`` is a unique or primary-key violation."""
    if _sqlstate(exc) == _PG_UNIQUE:
        return True
    name = _sqlite_error_name(exc)
    if name:
        return name in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")
    return isinstance(exc, SaIntegrityError) and "UNIQUE constraint failed" in str(exc.orig)


def is_foreign_key_violation(exc: DBAPIError) -> bool:
    """True when ``exc`` is a foreign-key violation."""
    if _sqlstate(exc) == _PG_FOREIGN_KEY:
        return True
    return _sqlite_error_name(exc) == "SQLITE_CONSTRAINT_FOREIGNKEY" or "FOREIGN KEY constraint failed" in str(
        exc.orig
    )


def is_busy(exc: DBAPIError) -> bool:
    """True when the database refused because of a lock, deadlock or serialisation failure."""
    if _sqlstate(exc) in _PG_BUSY:
        return True
    if not isinstance(exc, OperationalError):
        return False
    name = _sqlite_error_name(exc)
    if name:
        return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))
    text = str(exc.orig).lower()
    return "database is locked" in text or "database is busy" in text


def translate(exc: DBAPIError, *, duplicate: str = "conflict.duplicate") -> Exception:
    """Return the port error for an infrastructure error, or ``exc`` itself when none applies.

    Unique violations become ``Conflict(duplicate)``, foreign-key violations
    ``Conflict("conflict.reference")`` and lock timeouts, deadlocks and
    serialisation failures ``Conflict("conflict.busy")``.
    """
    if is_unique_violation(exc):
        return Conflict("the value is already used by another record", code=duplicate)
    if is_foreign_key_violation(exc):
        return Conflict("the record refers to something that does not exist", code="conflict.reference")
    if is_busy(exc):
        return Conflict("the database is busy; try again", code="conflict.busy")
    return exc


@contextlib.contextmanager
def translating(*, duplicate: str = "conflict.duplicate") -> Iterator[None]:
    """Run the block, re-raising database errors as port errors (see ``translate``)."""
    try:
        yield
    except DBAPIError as exc:
        translated = translate(exc, duplicate=duplicate)
        if translated is exc:
            raise
        raise translated from exc
