"""Order lifecycles per second (book, pay callback, accept, depart, arrive, start, finish, complete) through
``platform.orders`` on SQLite (WAL, synchronous=NORMAL) and PostgreSQL, each beside a raw-driver script doing
comparable reads and writes in the same run.

The raw script keeps a minimal schema of its own (orders, timeline, reservations) and does, per step, what the
library's hot path must do at least: read the order and its timeline, update the order under a version check,
append the timeline step, and on booking / payment insert / confirm the reservation; one transaction per step.
It does no checks, no audit, no gateway work, so the ratio is an upper bound on the library's overhead.

PostgreSQL runs on a throwaway server (``tests/postgres_server.py``); without server binaries or psycopg that
part is skipped with a message.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pendulum
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from massage_core.adapters.crypto.keyring import KeyRing  # noqa: E402
from throwaway_postgres import throwaway_postgres  # noqa: E402
from massage_core.adapters.crypto.passwords import Argon2idPasswordHasher  # noqa: E402
from massage_core.adapters.memory.clock import FixedClock  # noqa: E402
from massage_core.adapters.memory.payments import SandboxPaymentGateway  # noqa: E402
from massage_core.adapters.sql.migrate import upgrade  # noqa: E402
from massage_core.bootstrap import Platform  # noqa: E402
from massage_core.domain.access import Actor, Role  # noqa: E402
from massage_core.domain.ids import account_id  # noqa: E402
from search_support import shop, therapist  # noqa: E402
from storage_support import make_account  # noqa: E402

LAT, LNG = 31.2304, 121.4737
WEEK = {day: [("07:00", "21:00")] for day in range(1, 8)}
FIRST_DAY = pendulum.datetime(2026, 1, 6, tz="Asia/Shanghai")
STEPS = ("accept", "depart", "arrive", "start", "finish")
TRANSITIONS = 8  # book, pay, accept, depart, arrive, start, finish, complete


def starts(count: int) -> Iterator[pendulum.DateTime]:
    """Six non-overlapping 60-minute visits a day (two hours apart, so the 30-minute buffer fits)."""
    for i in range(count):
        yield FIRST_DAY.add(days=i // 6).at(8 + 2 * (i % 6))


def rate(label: str, count: int, work: Callable[[], None]) -> float:
    began = time.perf_counter()
    work()
    per_second = count / (time.perf_counter() - began)
    print(f"  {label}: {per_second:,.1f} lifecycles/s ({per_second * TRANSITIONS:,.0f} transitions/s)")
    return per_second


def library(url: str, count: int, sqlite_normal: bool) -> float:
    clock = FixedClock(FIRST_DAY.subtract(days=1))
    gateway = SandboxPaymentGateway(clock, b"benchmark-secret-0123456789")
    platform = Platform.from_url(url, keyring=KeyRing.generate(), clock=clock, payment_gateway=gateway,
                                 hasher=Argon2idPasswordHasher.for_tests())
    if sqlite_normal:
        event.listen(platform.engine, "connect", lambda conn, _: conn.execute("PRAGMA synchronous=NORMAL"))
        platform.engine.dispose()
    system = Actor.system()
    service = shop(platform.deps.uow).tuina
    tid = therapist(platform.deps.uow, LAT, LNG, services=(service,))
    platform.schedules.set_weekly_hours(system, tid, WEEK)
    platform.schedules.set_online(system, tid, True)
    account = make_account()
    with platform.deps.uow() as uow:
        uow.accounts.add(account)
        uow.commit()
    customer = Actor(account.id, roles=frozenset({Role.CUSTOMER}))
    serving = Actor(account_id(tid), roles=frozenset({Role.THERAPIST}))
    orders = platform.orders
    visits = list(starts(count))

    def run() -> None:
        for start in visits:
            clock.set(start.subtract(minutes=90))
            booked = orders.book(customer, therapist=tid, service=service, start=start, lat=LAT, lng=LNG)
            orders.payment_callback(*gateway.simulate_payment(booked.id))
            for step in STEPS:
                getattr(orders, step)(serving, booked.id)
            orders.complete(customer, booked.id)

    try:
        return rate("library: platform.orders", count, run)
    finally:
        platform.close()


SCHEMA = (
    "CREATE TABLE orders (id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, therapist_id TEXT, state TEXT NOT NULL,"
    " start_us BIGINT NOT NULL, end_us BIGINT NOT NULL, total BIGINT NOT NULL, paid BIGINT NOT NULL,"
    " version INTEGER NOT NULL)",
    "CREATE TABLE timeline (order_id TEXT NOT NULL, position INTEGER NOT NULL, at_us BIGINT NOT NULL,"
    " action TEXT NOT NULL, party TEXT NOT NULL, actor TEXT NOT NULL, from_state TEXT, to_state TEXT NOT NULL,"
    " note TEXT NOT NULL, PRIMARY KEY (order_id, position))",
    "CREATE TABLE reservations (id TEXT PRIMARY KEY, therapist_id TEXT NOT NULL, start_us BIGINT NOT NULL,"
    " end_us BIGINT NOT NULL, status TEXT NOT NULL, reference TEXT NOT NULL)",
    "CREATE INDEX reservations_by_therapist ON reservations (therapist_id, start_us)",
)


def lifecycles(count: int, execute: Callable[[str, tuple[Any, ...]], list[tuple[Any, ...]]],
               transaction: Callable[[Callable[[], None]], None]) -> Callable[[], None]:
    def run() -> None:
        for i in range(count):
            raw_lifecycle(execute, transaction, i)
    return run


def raw_lifecycle(execute: Callable[[str, tuple[Any, ...]], list[tuple[Any, ...]]],
                  transaction: Callable[[Callable[[], None]], None], i: int) -> None:
    oid, start = f"ord_{i:026d}", i * 7_200_000_000

    def book() -> None:
        execute("SELECT count(*) FROM reservations WHERE therapist_id = ? AND start_us < ? AND end_us > ? "
                "AND status <> 'released'", ("acc_t", start + 5_400_000_000, start))
        execute("INSERT INTO reservations VALUES (?, ?, ?, ?, 'held', ?)",
                (f"res_{i:026d}", "acc_t", start, start + 5_400_000_000, oid))
        execute("INSERT INTO orders VALUES (?, 'acc_c', 'acc_t', 'pending_payment', ?, ?, 25800, 0, 1)",
                (oid, start, start + 3_600_000_000))
        execute("INSERT INTO timeline VALUES (?, 0, ?, 'place', 'customer', 'acc_c', NULL, 'pending_payment', '')",
                (oid, start))

    def step(position: int, action: str, to_state: str) -> Callable[[], None]:
        def run() -> None:
            [(state, version)] = execute("SELECT state, version FROM orders WHERE id = ?", (oid,))
            execute("SELECT * FROM timeline WHERE order_id = ? ORDER BY position", (oid,))
            execute("UPDATE orders SET state = ?, version = ?, paid = 25800 WHERE id = ? AND version = ?",
                    (to_state, version + 1, oid, version))
            execute("INSERT INTO timeline VALUES (?, ?, ?, ?, 'therapist', 'acc_t', ?, ?, '')",
                    (oid, position, start + position, action, state, to_state))
            if action == "pay":
                execute("UPDATE reservations SET status = 'confirmed' WHERE reference = ? AND therapist_id = ?",
                        (oid, "acc_t"))
        return run

    transaction(book)
    for position, (action, to_state) in enumerate(
            (("pay", "awaiting_acceptance"), ("accept", "accepted"), ("depart", "departed"),
             ("arrive", "arrived"), ("start", "in_service"), ("finish", "finished"), ("complete", "completed")),
            start=1):
        transaction(step(position, action, to_state))


def raw_sqlite(path: Path, count: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    for statement in SCHEMA:
        conn.execute(statement)
    conn.execute("CREATE INDEX reservations_by_reference ON reservations (reference)")

    def execute(sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return conn.execute(sql, params).fetchall()

    def transaction(work: Callable[[], None]) -> None:
        conn.execute("BEGIN IMMEDIATE")
        work()
        conn.execute("COMMIT")

    try:
        return rate("raw sqlite3: same reads and writes", count, lifecycles(count, execute, transaction))
    finally:
        conn.close()


def bench_sqlite(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'lib.db'}"
        upgrade(url)
        print(f"order lifecycles, SQLite file (WAL, synchronous=NORMAL), {count} sequential lifecycles")
        lib = library(url, count, sqlite_normal=True)
        base = raw_sqlite(Path(tmp) / "raw.db", count)
        print(f"  ratio raw / library: {base / lib:.1f}x (target <= 4.5x)")


def bench_postgres(count: int) -> None:
    with throwaway_postgres("order lifecycles", ("bench", "raw")) as server:
        if server is None:
            return
        import psycopg

        url = server.url("bench")
        upgrade(url)
        print(f"order lifecycles, PostgreSQL 127.0.0.1, {count} sequential lifecycles")
        lib = library(url, count, sqlite_normal=False)
        with psycopg.connect(f"host=127.0.0.1 port={server.port} user=postgres dbname=raw") as raw:
            for statement in SCHEMA:
                raw.execute(statement)
            raw.execute("CREATE INDEX reservations_by_reference ON reservations (reference)")
            raw.commit()

            def execute(sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
                cursor = raw.execute(sql.replace("?", "%s"), params)
                return cursor.fetchall() if cursor.description else []

            def transaction(work: Callable[[], None]) -> None:
                with raw.transaction():
                    work()

            base = rate("raw psycopg: same reads and writes", count, lifecycles(count, execute, transaction))
        print(f"  ratio raw / library: {base / lib:.1f}x (target <= 2x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lifecycles", type=int, default=300)
    args = parser.parse_args()
    bench_sqlite(args.lifecycles)
    bench_postgres(args.lifecycles)


if __name__ == "__main__":
    main()
