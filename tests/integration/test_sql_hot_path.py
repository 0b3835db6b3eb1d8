"""The SQL hot path of an order step (issue 4, Performance): what ``orders.get`` and ``orders.save`` send, and
that the shortcuts keep the guarantees -- the row and its steps from one snapshot, a refused save that changes
nothing and leaves the unit usable, fresh repositories after a rollback -- plus the engines' connection
settings (PostgreSQL sessions in UTC, idle connections pinged) and the SQLite driver-level savepoints."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import attrs
import pytest
from sqlalchemy import event, text

from massage_core.adapters.sql import engine as engines
from massage_core.adapters.sql.repositories._guard import savepoint
from massage_core.domain.errors import Conflict
from massage_core.domain.ids import AccountId
from massage_core.domain.order_states import OrderState, Who
from massage_core.domain.orders import Order
from massage_core.ports.unit_of_work import UnitOfWork
from order_support import paid, placed
from schedule_support import new_therapist
from storage_support import T0, Backend, new_id


@contextmanager
def sent(uow: UnitOfWork) -> Iterator[list[str]]:
    """Every statement the unit's connection runs inside the block (SQLite: as the driver runs them)."""
    seen: list[str] = []
    connection = uow.connection  # type: ignore[attr-defined]
    if connection.dialect.name == "sqlite":
        driver = connection.connection.driver_connection
        driver.set_trace_callback(seen.append)
        try:
            yield seen
        finally:
            driver.set_trace_callback(None)
        return

    def before(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    event.listen(connection, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", before)


def kinds(statements: list[str]) -> list[str]:
    return [" ".join(s.split()[:2]).upper() for s in statements]


def stored_paid_order(backend: Backend) -> tuple[Order, AccountId]:
    customer, therapist = new_therapist(backend.new_uow), new_therapist(backend.new_uow)
    with backend.new_uow() as uow:
        order = uow.orders.add(paid(placed(customer, therapist)))
        uow.commit()
    return order, therapist


def test_a_step_reads_the_order_once_and_writes_without_savepoint_or_count(sql_backend: Backend) -> None:
    order, therapist = stored_paid_order(sql_backend)
    with sql_backend.new_uow() as uow:
        with sent(uow) as reads:
            loaded = uow.orders.get(order.id)
        with sent(uow) as writes:
            saved = uow.orders.save(loaded.accept(Who.therapist(therapist), T0 + dt.timedelta(minutes=5)))
        uow.commit()
    expected_reads = ["SELECT ORDERS.ID,"] if sql_backend.name == "postgres" else ["SELECT ORDERS.ID,",
                                                                                    "SELECT ORDER_TIMELINE.ORDER_ID,"]
    assert kinds(reads) == expected_reads
    assert kinds(writes) == ["UPDATE ORDERS", "INSERT INTO"]
    with sql_backend.new_uow() as uow:
        assert uow.orders.get(order.id) == saved
    assert saved.state is OrderState.ACCEPTED and saved.version == 2 and len(saved.timeline) == 3


def test_a_save_of_an_order_this_unit_did_not_read_counts_the_stored_steps(sql_backend: Backend) -> None:
    order, therapist = stored_paid_order(sql_backend)
    with sql_backend.new_uow() as uow:
        with sent(uow) as writes:
            saved = uow.orders.save(order.accept(Who.therapist(therapist), T0 + dt.timedelta(minutes=5)))
        uow.commit()
    assert any("count(" in s.lower() for s in writes)
    with sql_backend.new_uow() as uow:
        assert uow.orders.get(order.id) == saved


def test_a_save_naming_an_unknown_therapist_is_refused_and_the_unit_goes_on(sql_backend: Backend) -> None:
    order, therapist = stored_paid_order(sql_backend)
    with sql_backend.new_uow() as uow:
        loaded = uow.orders.get(order.id)
        stranger = attrs.evolve(loaded, therapist_id=AccountId(new_id("account")))
        with pytest.raises(Conflict) as refused:
            uow.orders.save(stranger)
        assert refused.value.code == "conflict.reference"
        saved = uow.orders.save(loaded.accept(Who.therapist(therapist), T0 + dt.timedelta(minutes=5)))
        uow.commit()
    with sql_backend.new_uow() as uow:
        assert uow.orders.get(order.id) == saved


def test_after_a_rollback_the_unit_reads_again_with_fresh_repositories(sql_backend: Backend) -> None:
    order, therapist = stored_paid_order(sql_backend)
    accept = Who.therapist(therapist)
    with sql_backend.new_uow() as uow:
        before = uow.orders
        uow.orders.save(uow.orders.get(order.id).accept(accept, T0 + dt.timedelta(minutes=5)))
        uow.rollback()
        assert uow.orders is not before
        saved = uow.orders.save(uow.orders.get(order.id).accept(accept, T0 + dt.timedelta(minutes=6)))
        uow.commit()
    with sql_backend.new_uow() as uow:
        assert uow.orders.get(order.id) == saved
    assert saved.version == 2 and [s.at for s in saved.timeline][-1] == T0 + dt.timedelta(minutes=6)


def test_sqlite_savepoints_roll_back_only_their_own_block(sqlite_url: str) -> None:
    engine = engines.make_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
            connection.commit()
            connection.begin()
            with savepoint(connection):
                connection.execute(text("INSERT INTO t VALUES (1)"))
                with pytest.raises(RuntimeError), savepoint(connection):
                    connection.execute(text("INSERT INTO t VALUES (2)"))
                    raise RuntimeError("refused")
                connection.execute(text("INSERT INTO t VALUES (3)"))
            connection.commit()
            assert connection.execute(text("SELECT n FROM t ORDER BY n")).scalars().all() == [1, 3]
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_sessions_run_in_utc(pg_url: str) -> None:
    engine = engines.make_engine(pg_url)
    try:
        with engine.connect() as connection:
            zone, now = connection.execute(text("SELECT current_setting('TimeZone'), now()")).one()
        assert zone == "UTC" and now.tzinfo is dt.UTC
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_replaces_an_idle_pooled_connection_that_died(pg_url: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engines, "PING_AFTER_IDLE_SECONDS", 0.0)
    engine = engines.make_engine(pg_url, pool_size=1, max_overflow=0)
    killer = engines.make_engine(pg_url)
    try:
        with engine.connect() as connection:
            first = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with killer.connect() as admin:
            assert admin.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": first}).scalar_one()
        with engine.connect() as connection:
            second = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert second != first
    finally:
        engine.dispose()
        killer.dispose()
