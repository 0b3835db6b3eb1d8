"""Free slots over 14 days (target: median <= 1 ms) and reservation throughput on SQLite and PostgreSQL,
each beside its raw-driver baseline doing the same SQL in the same run.

PostgreSQL runs on a throwaway server (``tests/postgres_server.py``); without server binaries or psycopg
that part is skipped with a message.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from massage_core.adapters.crypto.keyring import KeyRing  # noqa: E402
from throwaway_postgres import throwaway_postgres  # noqa: E402
from massage_core.adapters.crypto.passwords import Argon2idPasswordHasher  # noqa: E402
from massage_core.adapters.memory.clock import FixedClock  # noqa: E402
from massage_core.adapters.sql.migrate import upgrade  # noqa: E402
from massage_core.adapters.sql.repositories.reservations import therapist_lock_key  # noqa: E402
from massage_core.bootstrap import Platform  # noqa: E402
from massage_core.domain.access import Actor, Role  # noqa: E402
from massage_core.domain.accounts import Account, LoginMethod  # noqa: E402
from massage_core.domain.availability import free_slots  # noqa: E402
from massage_core.domain.contact import PhoneNumber  # noqa: E402
from massage_core.domain.ids import AccountId, ReservationId  # noqa: E402
from massage_core.domain.intervals import Interval, to_micros  # noqa: E402
from massage_core.domain.reservations import Reservation  # noqa: E402

SYSTEM = Actor.system()
NOW = pendulum.datetime(2026, 1, 5, 2, tz="UTC")  # Monday 10:00 in Shanghai
FIRST = dt.date(2026, 1, 6)
LAST = FIRST + timedelta(days=13)
WEEK = {day: [("09:00", "12:00"), ("13:00", "21:00")] for day in range(1, 8)}


def median_ms(runs: int, work: Callable[[], Any]) -> tuple[float, float]:
    """Median and 95th percentile of ``runs`` timed calls, in milliseconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    times.sort()
    return statistics.median(times) * 1e3, times[int(len(times) * 0.95) - 1] * 1e3


def therapist(platform: Platform) -> AccountId:
    """A therapist with an online schedule (7 days, 09:00-12:00 and 13:00-21:00, a weekly break) and bookings."""
    with platform.deps.uow() as uow:
        account = Account.register(AccountId(platform.deps.ids.new_id("account")), NOW, LoginMethod.PHONE,
                                   phone=PhoneNumber.parse(f"139{time.time_ns() % 100_000_000:08d}"),
                                   roles=frozenset({Role.THERAPIST}))
        uow.accounts.add(account)
        uow.commit()
    schedules = platform.schedules
    schedules.set_weekly_hours(SYSTEM, account.id, WEEK)
    schedules.add_break(SYSTEM, account.id, "17:00", "17:30", weekday="wed")
    schedules.set_online(SYSTEM, account.id, True)
    for n in range(14):  # one booking a day, at a different hour each day
        start = pendulum.datetime(2026, 1, 6 + n, (9, 13, 15, 18, 10, 14, 19)[n % 7], tz="Asia/Shanghai")
        schedules.reserve(SYSTEM, account.id, start, start.add(minutes=90), f"order-{n}")
    return account.id


def bench_free_slots(runs: int, folder: Path) -> None:
    print(f"free slots, one therapist, 14 days, 60-minute service, 15-minute grid ({runs} runs; target <= 1 ms)")
    memory = Platform.in_memory(clock=FixedClock(NOW), hasher=Argon2idPasswordHasher.for_tests())
    tid = therapist(memory)
    found = memory.schedules.free_slots(Actor.anonymous(), tid, 60, FIRST, LAST)
    with memory.deps.uow() as uow:
        schedule = uow.schedules.find(tid)
        blocked = [r.blocked_span for r in uow.reservations.between(tid, NOW, NOW.add(days=30), live_at=NOW)]
    assert schedule is not None
    policy = memory.deps.policies.scheduling

    def domain() -> None:
        free_slots(schedule, FIRST, LAST, duration_minutes=60, blocked=blocked, policy=policy, now=to_micros(NOW))

    rows = [("domain function (spans, grid, buffers)", domain),
            ("platform.schedules.free_slots, memory", lambda: memory.schedules.free_slots(
                Actor.anonymous(), tid, 60, FIRST, LAST))]
    url = f"sqlite:///{folder / 'slots.db'}"
    upgrade(url)
    sqlite = Platform.from_url(url, keyring=KeyRing.generate(), clock=FixedClock(NOW),
                               hasher=Argon2idPasswordHasher.for_tests())
    sqlite_tid = therapist(sqlite)
    rows.append(("platform.schedules.free_slots, SQLite", lambda: sqlite.schedules.free_slots(
        Actor.anonymous(), sqlite_tid, 60, FIRST, LAST)))
    print(f"  {len(found.slots)} slots")
    for label, work in rows:
        median, p95 = median_ms(runs, work)
        print(f"  {label:<44} median {median:6.3f} ms   p95 {p95:6.3f} ms")
    sqlite.close()


def reservations(platform: Platform, tid: str, count: int) -> list[Reservation]:
    """``count`` back-to-back one-hour reservations (30-minute buffer) after the bookings, none overlapping."""
    made = []
    for n in range(count):
        start = NOW.add(days=60, minutes=90 * n)
        made.append(Reservation.make(ReservationId(platform.deps.ids.new_id("reservation")), AccountId(tid),
                                     Interval(start, start.add(hours=1)), f"order-{n}", "system", NOW,
                                     buffer=timedelta(minutes=30)).clear_events())
    return made


def library_inserts(platform: Platform, items: list[Reservation]) -> Callable[[], None]:
    def run() -> None:
        for item in items:
            with platform.deps.uow() as uow:
                uow.reservations.add(item, NOW)
                uow.commit()
    return run


def rate(label: str, count: int, work: Callable[[], None]) -> float:
    start = time.perf_counter()
    work()
    seconds = time.perf_counter() - start
    print(f"  {label:<52} {count / seconds:>8,.0f} /s  ({seconds * 1e6 / count:,.0f} µs each)")
    return seconds


def row(r: Reservation, text: Callable[[dt.datetime], Any]) -> tuple[Any, ...]:
    return (r.id, r.therapist_id, text(r.start), text(r.end), text(r.blocked_start), text(r.blocked_end),
            r.reference, r.made_by, text(r.created_at))


INSERT = ("INSERT INTO reservations (id, therapist_id, starts_at, ends_at, blocked_start, blocked_end, reference, "
          "made_by, created_at, hold_until, released_at, active, version) "
          "VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, NULL, NULL, {true}, 1)")
RETIRE = ("UPDATE reservations SET active = {false}, version = version + 1 WHERE therapist_id = {p} AND active "
          "AND blocked_start < {p} AND blocked_end > {p} AND hold_until IS NOT NULL AND hold_until <= {p}")
CHECK = "SELECT id FROM reservations WHERE therapist_id = ? AND active AND blocked_start < ? AND blocked_end > ? LIMIT 1"


def bench_sqlite(count: int, folder: Path) -> None:
    from massage_core.adapters.sql.types import _to_text

    url = f"sqlite:///{folder / 'reserve.db'}"
    upgrade(url)
    platform = Platform.from_url(url, keyring=KeyRing.generate(), clock=FixedClock(NOW),
                                 hasher=Argon2idPasswordHasher.for_tests())
    lib_tid, raw_tid, svc_tid = therapist(platform), therapist(platform), therapist(platform)
    print(f"reservation throughput, SQLite (WAL, BEGIN IMMEDIATE), {count} sequential transactions")
    lib = rate("library: uow.reservations.add + commit", count, library_inserts(platform, reservations(platform, lib_tid, count)))
    raw = sqlite3.connect(folder / "reserve.db", isolation_level=None)
    items = [row(r, lambda v: _to_text(v)) for r in reservations(platform, raw_tid, count)]
    now = _to_text(NOW)
    insert, retire = INSERT.format(p="?", true="1"), RETIRE.format(p="?", false="0")

    def raw_driver() -> None:
        for values in items:
            raw.execute("BEGIN IMMEDIATE")
            raw.execute(retire, (values[1], values[5], values[4], now))
            assert raw.execute(CHECK, (values[1], values[5], values[4])).fetchone() is None
            raw.execute(insert, values)
            raw.execute("COMMIT")

    base = rate("raw sqlite3: BEGIN IMMEDIATE, retire, check, insert", count, raw_driver)
    print(f"  ratio library / raw driver: {lib / base:.1f}x")
    service_count = max(count // 4, 50)
    day_starts = (0, 90, 240, 330, 420, 510, 600)  # minutes after 09:00 that fit 09:00-12:00 and 13:00-21:00
    starts = [pendulum.datetime(2026, 2, 1, 9, tz="Asia/Shanghai").add(days=n // 7, minutes=day_starts[n % 7])
              for n in range(service_count)]

    def service() -> None:
        for n, start in enumerate(starts):
            platform.schedules.reserve(SYSTEM, svc_tid, start, start.add(hours=1), f"svc-{n}")

    rate("platform.schedules.reserve (schedule fit, then add)", service_count, service)
    platform.close()


def bench_postgres(count: int) -> None:
    with throwaway_postgres("reservation throughput", ("bench",)) as server:
        if server is None:
            return
        import psycopg

        url = server.url("bench")
        upgrade(url)
        platform = Platform.from_url(url, keyring=KeyRing.generate(), clock=FixedClock(NOW),
                                     hasher=Argon2idPasswordHasher.for_tests())
        lib_tid, raw_tid = therapist(platform), therapist(platform)
        print(f"reservation throughput, PostgreSQL 127.0.0.1 (exclusion constraint), {count} sequential transactions")
        lib = rate("library: uow.reservations.add + commit", count,
                   library_inserts(platform, reservations(platform, lib_tid, count)))
        items = [row(r, lambda v: v) for r in reservations(platform, raw_tid, count)]
        insert, retire = INSERT.format(p="%s", true="true"), RETIRE.format(p="%s", false="false")
        with psycopg.connect(f"host=127.0.0.1 port={server.port} user=postgres dbname=bench") as raw:
            key = therapist_lock_key(raw_tid)

            def raw_driver() -> None:
                for values in items:
                    with raw.transaction():
                        raw.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
                        raw.execute(retire, (values[1], values[5], values[4], NOW))
                        raw.execute(insert, values)

            base = rate("raw psycopg: lock, retire, insert (constraint checks)", count, raw_driver)
        print(f"  ratio library / raw driver: {lib / base:.1f}x")
        platform.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=500, help="free-slot queries timed")
    parser.add_argument("--reservations", type=int, default=2000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="massage-bench-"))
    bench_free_slots(args.runs, folder)
    bench_sqlite(args.reservations, folder)
    bench_postgres(args.reservations)


if __name__ == "__main__":
    main()
