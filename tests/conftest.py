"""Storage fixtures shared by every test suite.

* ``postgres_server`` (session): a throwaway PostgreSQL server with a migrated
  template database, started lazily by the first test that needs it (one per
  xdist worker).  Without server binaries the tests that need it are skipped
  -- unless ``CI=true`` or ``MASSAGE_REQUIRE_POSTGRES=1``, when they fail.
* ``pg_url``: a fresh migrated, empty PostgreSQL database for the test.
* ``pg_blank_url``: a fresh PostgreSQL database without any schema.
* ``sqlite_url``: a SQLite file URL in the test's tmp_path (not migrated).
* ``backend``: a ``storage_support.Backend`` for memory, SQLite and PostgreSQL
  (parametrised); ``sql_backend``: SQLite and PostgreSQL only.
* ``uow_factory``: ``backend.new_uow``, a zero-argument callable making a new
  UnitOfWork on a migrated, empty store.

Tests that use PostgreSQL get the ``postgres`` marker automatically, so
``-m "not postgres"`` leaves them out.
"""

from __future__ import annotations

import itertools
import os
import shutil
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from postgres_server import PostgresServer, PostgresUnavailable, find_bindir
from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.adapters.crypto.passwords import Argon2idPasswordHasher
from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.memory.payments import SandboxPaymentGateway
from massage_core.bootstrap import Platform
from storage_support import T0, Backend

PG_FIXTURES = frozenset({"postgres_server", "pg_url", "pg_blank_url"})
TEMPLATE_DB = "massage_template"
PREFETCH = 3
"""Migrated databases cloned ahead in background threads (CREATE DATABASE takes ~0.2 s, mostly waiting)."""


def postgres_required() -> bool:
    """True when a missing PostgreSQL must fail the run instead of skipping."""
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("MASSAGE_REQUIRE_POSTGRES") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that asks for a PostgreSQL fixture with ``postgres``."""
    for item in items:
        if PG_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)


class PostgresCluster:
    """A running server plus a migrated template database to clone per test (a few clones made ahead)."""

    def __init__(self, server: PostgresServer) -> None:
        """Create and migrate the template database."""
        from sqlalchemy import create_engine, text

        from massage_core.adapters.sql.migrate import upgrade

        self.server = server
        self.admin = create_engine(server.url(), isolation_level="AUTOCOMMIT", pool_size=PREFETCH + 1)
        self._names = itertools.count(1)
        self._names_lock = threading.Lock()
        self._workers = ThreadPoolExecutor(max_workers=PREFETCH, thread_name_prefix="pg-clone")
        self._ready: deque[Future[str]] = deque()
        with self.admin.connect() as connection:
            version = int(connection.execute(text("SHOW server_version_num")).scalar_one())
        # FILE_COPY clones small databases faster than the WAL_LOG default of PostgreSQL 15+.
        self._strategy = " STRATEGY FILE_COPY" if version >= 150000 else ""
        self.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
        upgrade(server.url(TEMPLATE_DB))

    def execute(self, sql: str) -> None:
        """Run one statement on the maintenance database, outside any transaction."""
        from sqlalchemy import text

        with self.admin.connect() as connection:
            connection.execute(text(sql))

    def create_database(self, template: str) -> str:
        """A new database copied from ``template``; returns its name."""
        with self._names_lock:
            name = f"test_{os.getpid()}_{next(self._names)}"
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"{self._strategy}')
        return name

    def take_migrated(self) -> str:
        """A fresh clone of the migrated template, prepared ahead in the background."""
        while len(self._ready) <= PREFETCH:
            self._ready.append(self._workers.submit(self.create_database, TEMPLATE_DB))
        name = self._ready.popleft().result()
        self._ready.append(self._workers.submit(self.create_database, TEMPLATE_DB))
        return name

    def drop_database(self, name: str) -> None:
        """Drop ``name``, disconnecting whoever is still connected."""
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def drop_later(self, name: str) -> None:
        """Drop ``name`` in the background (the test does not wait for it)."""
        self._workers.submit(self.drop_database, name)

    def close(self) -> None:
        """Stop cloning and release the maintenance connections."""
        self._workers.shutdown(wait=True, cancel_futures=True)
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresCluster]:
    """The session's PostgreSQL server (started on first use, stopped and deleted at the end)."""
    try:
        import psycopg  # noqa: F401

        find_bindir()
    except (ImportError, PostgresUnavailable) as exc:
        reason = f"PostgreSQL unavailable: {exc}"
        if postgres_required():
            pytest.fail(f"{reason} (required: CI=true or MASSAGE_REQUIRE_POSTGRES=1)", pytrace=False)
        pytest.skip(reason)
    server = PostgresServer()
    try:
        server.start()
        cluster = PostgresCluster(server)
    except BaseException:
        server.stop()
        raise
    try:
        yield cluster
    finally:
        cluster.close()
        server.stop()


def _database_url(cluster: PostgresCluster, template: str) -> Iterator[str]:
    name = cluster.take_migrated() if template == TEMPLATE_DB else cluster.create_database(template)
    try:
        yield cluster.server.url(name)
    finally:
        cluster.drop_later(name)


@pytest.fixture
def pg_url(postgres_server: PostgresCluster) -> Iterator[str]:
    """A fresh PostgreSQL database for this test, migrated to head and empty."""
    yield from _database_url(postgres_server, TEMPLATE_DB)


@pytest.fixture
def pg_blank_url(postgres_server: PostgresCluster) -> Iterator[str]:
    """A fresh PostgreSQL database for this test with no schema at all."""
    yield from _database_url(postgres_server, "template0")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per session, copied by the SQLite backends."""
    from massage_core.adapters.sql.migrate import upgrade

    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite:///{path}")  # the engine is disposed: the WAL is checkpointed into the file
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite database file URL in this test's tmp_path (the file does not exist yet)."""
    return f"sqlite:///{tmp_path / 'massage.db'}"


def _memory_backend() -> Backend:
    from massage_core.adapters.memory.ids import UlidGenerator
    from massage_core.adapters.memory.store import MemoryStore
    from massage_core.adapters.memory.uow import MemoryUnitOfWork

    store, ids = MemoryStore(), UlidGenerator()
    return Backend("memory", lambda: MemoryUnitOfWork(store, ids))


def _sql_backend(name: str, url: str) -> Backend:
    from massage_core.adapters.crypto.field_cipher import AesGcmFieldCipher
    from massage_core.adapters.crypto.keyring import KeyRing
    from massage_core.adapters.memory.ids import UlidGenerator
    from massage_core.adapters.sql.engine import make_engine
    from massage_core.adapters.sql.migrate import upgrade
    from massage_core.adapters.sql.uow import SqlUnitOfWork

    engine = make_engine(url)
    upgrade(engine)
    cipher, ids = AesGcmFieldCipher(KeyRing.generate()), UlidGenerator()
    return Backend(name, lambda: SqlUnitOfWork(engine, cipher, ids), engine=engine, cipher=cipher, url=url)


def _backend(request: pytest.FixtureRequest, name: str) -> Iterator[Backend]:
    if name == "memory":
        yield _memory_backend()
        return
    url: str = request.getfixturevalue("sqlite_url" if name == "sqlite" else "pg_url")
    if name == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copyfile(template, url.removeprefix("sqlite:///"))
    backend = _sql_backend(name, url)
    try:
        yield backend
    finally:
        backend.engine.dispose()


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """An empty store on each backend: memory, SQLite (file in tmp_path) and PostgreSQL."""
    yield from _backend(request, request.param)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """An empty, migrated SQL store: SQLite and PostgreSQL."""
    yield from _backend(request, request.param)


@pytest.fixture
def uow_factory(backend: Backend) -> Callable[[], Any]:
    """A zero-argument callable that opens a new UnitOfWork on the ``backend`` store."""
    return backend.new_uow


_PG_OUTCOMES: dict[str, int] = {"passed": 0, "failed": 0, "skipped": 0}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count PostgreSQL tests by outcome (the controller sees every worker's reports)."""
    if "postgres" not in report.keywords:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _PG_OUTCOMES[report.outcome] = _PG_OUTCOMES.get(report.outcome, 0) + 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say how many PostgreSQL tests really ran, so a silent skip cannot pass for a green run."""
    counts = _PG_OUTCOMES
    terminalreporter.write_line(
        f"PostgreSQL tests: {counts.get('passed', 0)} passed, {counts.get('failed', 0)} failed, "
        f"{counts.get('skipped', 0)} skipped"
    )


# -- the platform on each SQL backend (integration tests; the unit conftest has its own memory ones) ----------


@pytest.fixture
def clock() -> FixedClock:
    """The platform's clock, at ``T0`` (Monday 5 January 2026, Shanghai) until a test moves it."""
    return FixedClock(T0)


@pytest.fixture
def platform(sql_backend: Backend, clock: FixedClock) -> Iterator[Platform]:
    """``Platform.from_url`` on SQLite and PostgreSQL with a fresh key ring, cheap password hashing and the
    sandbox payment gateway on the same clock (a test file may define its own ``platform`` instead)."""
    assert sql_backend.url is not None
    made = Platform.from_url(sql_backend.url, keyring=KeyRing.generate(), clock=clock,
                             hasher=Argon2idPasswordHasher.for_tests(),
                             payment_gateway=SandboxPaymentGateway(clock, b"integration-secret-0123"))
    yield made
    made.close()
