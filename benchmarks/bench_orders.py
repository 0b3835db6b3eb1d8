"""Order lifecycles per second through ``platform.orders`` on SQLite and PostgreSQL, beside a raw-driver script
doing the same reads and writes in the same run.

A lifecycle is eight transitions, one unit of work (one transaction) each: book, the gateway's payment
callback, accept, depart, arrive, start, finish (which releases the therapist's reservation) and complete.
The library runs them through ``platform.orders`` on a SQLite file (WAL, synchronous=NORMAL) or on PostgreSQL
(a throwaway server from ``tests/postgres_server.py``; skipped with a message without server binaries or
psycopg).

The raw baseline ("raw sqlite3" / "raw psycopg") works on a second database migrated to the same schema and
seeded through the library (catalogue, an approved therapist with weekly hours, a customer).  During setup the
library takes one order through a whole lifecycle there; that order's rows (the order, its eight timeline
rows, its reservation, its outbox messages) are the templates of the rows the raw script writes, so it writes the
same columns with the same kinds of values.  Then, per lifecycle, with the driver alone and one transaction per transition, it
runs the statements the library runs (the statement counts printed for both show it):

* book: ``BEGIN IMMEDIATE`` (SQLite; psycopg sends ``BEGIN`` itself); read the customer's profile, the
  service, its prices, its category, the therapist's profile, certificates, services and vetting log, the
  status of the therapist's account, the schedule and its rules (11 SELECTs, of every column but the
  account's, with the library's WHERE and ORDER BY);
  PostgreSQL only: ``pg_advisory_xact_lock`` on the therapist; ``SAVEPOINT``, retire lapsed holds in the way
  (UPDATE), SQLite only: re-check for an overlapping live hold (SELECT ... LIMIT 1), INSERT the hold,
  ``RELEASE``; ``SAVEPOINT``, INSERT the order (every column), INSERT its first timeline row, ``RELEASE``;
  ``COMMIT``.  (The savepoints are the library's promise that a refused insert leaves the transaction usable.)
* pay: read the order and its timeline (SQLite: two SELECTs; PostgreSQL: one SELECT with the steps aggregated
  into arrays, as the library, so both come from one snapshot); read the therapist's live reservations
  overlapping the visit; UPDATE the reservation (confirmed; version-checked); post the capture to the ledger
  (below); notify the therapist of the offer (below; the message's values need the therapist's profile -- the
  booking's four profile reads -- and the service and its prices); UPDATE the order (every column but the id and
  the encrypted address; version-checked); INSERT the timeline row; ``COMMIT``.
* accept, depart, arrive: read the order and its timeline; read the therapist's profile (the four reads: the
  customer's message names the therapist); notify the customer; UPDATE the order; INSERT the timeline row;
  ``COMMIT``.  start: the same without the profile and the notification (it tells nobody).
* finish: as start, with the live-reservation read and its release (UPDATE), then notify the customer, before
  the order's UPDATE.
* complete: as start, with the live-reservation read (it finds nothing: finish released it) and the posting of
  the completion split to the ledger before the order's UPDATE.
* a notification (``services/notify.py`` ``enqueue``): the recipient read of
  ``notification_preferences.recipients`` (one SELECT of the account's status joined with its stored settings
  and therapist zone), then one multi-row ``INSERT INTO outbox_messages ... ON CONFLICT (dedupe_key) DO NOTHING
  RETURNING id`` of the template order's messages of that step (inbox, push, SMS: their encrypted subject and
  body copied) under this order's ids and dedupe keys.
* a ledger posting (the template order's entry -- its memo, currency and lines -- under this order's key, as
  ``bench_ledger.RawPoster`` sends it): SQLite the key look-up carrying the next id, ``SAVEPOINT``, one
  multi-row INSERT of the lines, the entry row, one multi-row balance upsert, ``RELEASE``; PostgreSQL the key's
  ``pg_advisory_xact_lock`` and the one statement of ``repositories/ledger_pg.py``.

What the raw script leaves out is the library's own work: no domain objects, state machine, permission checks
or events; no encryption or decryption (the pay step's encrypted note, the address token and the messages'
subjects and bodies are copied from the template rows); no template rendering; no payment gateway; no SQLAlchemy.  Rows are fetched (``fetchall``) and not decoded.

The two run in alternating rounds (library, raw, library, raw, ...) so that both see the same machine load;
the printed ratio is raw lifecycles/s over library lifecycles/s over all rounds, with the median of the
per-round ratios beside it.  Statements are counted in a separate untimed pass (SQLite: every statement the
driver runs, from its trace callback; PostgreSQL: every statement SQLAlchemy or the script sends, plus the
``BEGIN`` and ``COMMIT`` psycopg sends for each transaction).

``--posting-share`` measures issue 5's budget instead ("posting must add at most 15% to an order transition"):
the library's lifecycles alone, with ``SqlLedgerRepository.post`` timed inside them (the pay callback posts the
capture, the completion posts the split); it prints the time per posting and the postings' share of the rest of
the lifecycle's time, per round and over all rounds, on both databases.  The share leaves out the services'
work building the entries and the deferred triggers at commit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pendulum
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from massage_core.adapters.crypto.keyring import KeyRing  # noqa: E402
from throwaway_postgres import throwaway_postgres  # noqa: E402
from bench_ledger import RawPoster, effects  # noqa: E402
from massage_core.adapters.crypto.passwords import Argon2idPasswordHasher  # noqa: E402
from massage_core.adapters.memory.clock import FixedClock  # noqa: E402
from massage_core.adapters.memory.payments import SandboxPaymentGateway  # noqa: E402
from massage_core.adapters.sql.migrate import upgrade  # noqa: E402
from massage_core.adapters.sql.repositories.ledger import SqlLedgerRepository  # noqa: E402
from massage_core.adapters.sql.repositories.reservations import therapist_lock_key  # noqa: E402
from massage_core.bootstrap import Platform  # noqa: E402
from massage_core.domain.access import Actor, Role  # noqa: E402
from massage_core.domain.ids import account_id  # noqa: E402
from search_support import shop, therapist  # noqa: E402
from storage_support import make_account  # noqa: E402

LAT, LNG = 31.2304, 121.4737
WEEK = {day: [("07:00", "21:00")] for day in range(1, 8)}
FIRST_DAY = pendulum.datetime(2026, 1, 6, tz="Asia/Shanghai")
TEMPLATE_START = pendulum.datetime(2025, 12, 30, 10, tz="Asia/Shanghai")
STEPS = ("accept", "depart", "arrive", "start", "finish")
TRANSITIONS = 8  # book, pay, accept, depart, arrive, start, finish, complete
LEAD = dt.timedelta(minutes=90)  # the clock stands this long before the visit for the whole lifecycle
DURATION = dt.timedelta(minutes=60)  # the service's
BUFFER = dt.timedelta(minutes=30)  # SchedulingPolicy.buffer_minutes
WINDOW = dt.timedelta(minutes=15)  # Policies.payment_window_minutes
STEP_CODES = {"offer:1": "o", "accept": "a", "depart": "d", "arrive": "r", "finish": "f"}  # in the messages' ids

Run = Callable[[Sequence[pendulum.DateTime]], None]


def starts(count: int, first: pendulum.DateTime = FIRST_DAY) -> list[pendulum.DateTime]:
    """Six non-overlapping 60-minute visits a day (two hours apart, so the 30-minute buffer fits)."""
    return [first.add(days=i // 6).at(8 + 2 * (i % 6)) for i in range(count)]


# -- the library -----------------------------------------------------------------------------------------------


def seeded(url: str, sqlite_normal: bool, on_connect: Callable[[Any], None] | None = None) -> tuple[Platform, Run]:
    """A platform on ``url`` with the catalogue, a therapist and a customer, and a function running lifecycles."""
    clock = FixedClock(FIRST_DAY.subtract(days=30))
    gateway = SandboxPaymentGateway(clock, b"benchmark-secret-0123456789")
    platform = Platform.from_url(url, keyring=KeyRing.generate(), clock=clock, payment_gateway=gateway,
                                 hasher=Argon2idPasswordHasher.for_tests())

    def connected(dbapi_connection: Any, _record: Any) -> None:
        if sqlite_normal:
            dbapi_connection.execute("PRAGMA synchronous=NORMAL")
        if on_connect is not None:
            on_connect(dbapi_connection)

    event.listen(platform.engine, "connect", connected)
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

    def run(visits: Sequence[pendulum.DateTime]) -> None:
        for start in visits:
            clock.set(start - LEAD)
            booked = orders.book(customer, therapist=tid, service=service, start=start, lat=LAT, lng=LNG)
            orders.payment_callback(*gateway.simulate_payment(booked.id))
            for step in STEPS:
                getattr(orders, step)(serving, booked.id)
            orders.complete(customer, booked.id)

    return platform, run


# -- the raw script ------------------------------------------------------------------------------------------------


class RawScript:
    """The raw driver's side: SQL texts in the driver's parameter style, the template rows, one lifecycle."""

    def __init__(self, execute: Callable[[str, Any], list[Any]], begin: Callable[[], None],
                 commit: Callable[[], None], postgres: bool, instant: Callable[[dt.datetime], Any], ids: dict[str, str],
                 templates: dict[str, Any]) -> None:
        self.execute, self.begin, self.commit = execute, begin, commit
        self.postgres, self.instant, self.ids = postgres, instant, ids
        p = "%s" if postgres else "?"
        true = "true" if postgres else "1"
        order, steps, hold = templates["order"], templates["steps"], templates["reservation"]
        self.order_columns = [name for name in order if name != "id"]
        self.update_columns = [name for name in self.order_columns if not name.endswith("_enc")]
        self.step_columns = list(steps[0])
        self.hold_columns = list(hold)
        self.order, self.steps, self.hold = order, steps, hold
        self.entries, self.ledger = templates["entries"], RawPoster(None, postgres)  # the posting statements
        self.messages: dict[str, list[dict[str, Any]]] = templates["messages"]  # the outbox rows by step

        def marks(count: int) -> str:
            return ", ".join([p] * count)

        self.reads = (  # booking: what book() reads, in the library's order
            (f"SELECT * FROM customer_profiles WHERE account_id = {p}", "customer"),
            (f"SELECT * FROM catalog_services WHERE id = {p}", "service"),
            (f"SELECT * FROM catalog_service_prices WHERE service_id = {p}", "service"),
            (f"SELECT * FROM catalog_categories WHERE id = {p}", "category"),
            (f"SELECT * FROM therapist_profiles WHERE account_id = {p}", "therapist"),
            (f"SELECT * FROM therapist_certificates WHERE account_id = {p} ORDER BY position", "therapist"),
            (f"SELECT account_id, service_id FROM therapist_services WHERE account_id = {p}", "therapist"),
            (f"SELECT * FROM therapist_vetting_log WHERE account_id = {p} ORDER BY position", "therapist"),
            (f"SELECT status FROM accounts WHERE id = {p}", "therapist"),
            (f"SELECT * FROM schedules WHERE therapist_id = {p}", "therapist"),
            (f"SELECT * FROM schedule_rules WHERE therapist_id = {p} ORDER BY position", "therapist"),
        )
        self.lock = f"SELECT pg_advisory_xact_lock({p})"
        self.retire = (f"UPDATE reservations SET active = false, version = version + 1 WHERE therapist_id = {p} "
                       f"AND active = {true} AND blocked_start < {p} AND blocked_end > {p} "
                       f"AND hold_until IS NOT NULL AND hold_until <= {p}")
        self.recheck = (f"SELECT id FROM reservations WHERE therapist_id = {p} AND active = {true} "
                        f"AND blocked_start < {p} AND blocked_end > {p} LIMIT 1")
        self.insert_hold = f"INSERT INTO reservations ({', '.join(self.hold_columns)}) VALUES ({marks(len(hold))})"
        self.insert_order = (f"INSERT INTO orders (id, {', '.join(self.order_columns)}) "
                             f"VALUES ({marks(len(self.order_columns) + 1)})")
        self.insert_step = (f"INSERT INTO order_timeline ({', '.join(self.step_columns)}) "
                            f"VALUES ({marks(len(self.step_columns))})")
        step_values = ("position", "at", "action", "party", "actor", "from_state", "to_state", "note_enc")
        self.read_order: tuple[str, ...] = (
            (f"SELECT orders.*, {', '.join(f'array_agg(t.{c} ORDER BY t.position)' for c in step_values)} "
             f"FROM orders LEFT JOIN order_timeline t ON t.order_id = orders.id WHERE orders.id = {p} "
             f"GROUP BY orders.id",) if postgres else
            (f"SELECT * FROM orders WHERE id = {p}",
             f"SELECT * FROM order_timeline WHERE order_id = {p} ORDER BY position"))
        self.live = (f"SELECT * FROM reservations WHERE therapist_id = {p} AND blocked_start < {p} "
                     f"AND blocked_end > {p} AND released_at IS NULL AND (hold_until IS NULL OR hold_until > {p}) "
                     f"ORDER BY starts_at, id")
        self.confirm = (f"UPDATE reservations SET hold_until = {p}, released_at = {p}, version = {p} "
                        f"WHERE id = {p} AND version = {p}")
        self.release = (f"UPDATE reservations SET hold_until = {p}, released_at = {p}, active = {p}, version = {p} "
                        f"WHERE id = {p} AND version = {p}")
        self.update_order = (f"UPDATE orders SET {', '.join(f'{c} = {p}' for c in self.update_columns)} "
                             f"WHERE id = {p} AND version = {p}")
        self.recipients = (  # notification_preferences.recipients, one id (enqueue names one recipient here)
            "SELECT accounts.id, notification_preferences.account_id AS chose, notification_preferences.channels, "
            "notification_preferences.quiet_hours, notification_preferences.locale, therapist_profiles.time_zone "
            "FROM accounts LEFT OUTER JOIN notification_preferences ON notification_preferences.account_id = "
            "accounts.id LEFT OUTER JOIN therapist_profiles ON therapist_profiles.account_id = accounts.id "
            f"WHERE accounts.id IN ({p}) AND accounts.status = {p}")
        self.message_columns = list(next(iter(self.messages.values()))[0])
        self.insert_messages = {
            step: (f"INSERT INTO outbox_messages ({', '.join(self.message_columns)}) VALUES "
                   + ", ".join(f"({marks(len(self.message_columns))})" for _ in rows)
                   + " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id") for step, rows in self.messages.items()}
        self.template_order = order["id"]
        self.lock_key = therapist_lock_key(ids["therapist"])
        self.false: Any = False if postgres else 0
        self.true: Any = True if postgres else 1

    def post(self, event: str, oid: str, now: Any) -> None:
        """The ledger posting of ``event`` (the template order's entry under this order's key)."""
        x, sql = self.execute, self.ledger
        memo, currency, lines = self.entries[event]
        key, deltas = f"order:{oid}:{event}", effects(lines)
        if self.postgres:
            x(sql.lock, (f"ledger:{key}",))
            x(sql.pg_post, {
                "key": key, "at": now, "memo": memo, "currency": currency, "positions": list(range(len(lines))),
                "accounts": [a for a, _, _ in lines], "sides": [s for _, s, _ in lines],
                "amounts": [f for _, _, f in lines], "codes": [a for a, _ in deltas], "deltas": [d for _, d in deltas]})
            return
        [(entry_id, *_)] = x(sql.claim, (key,))
        x("SAVEPOINT post", ())
        x(sql.lines_sql(len(lines)), tuple(v for n, (a, s, f) in enumerate(lines) for v in (entry_id, n, a, s, f)))
        x(sql.entry, (entry_id, key, now, memo, currency))
        x(sql.upsert_sql(len(deltas)), tuple(v for a, d in deltas for v in (a, d, now)))
        x("RELEASE post", ())

    def notify(self, step: str, i: int, oid: str, now: Any) -> None:
        """``enqueue`` of the template order's messages of ``step`` (one recipient) under this order's ids."""
        x, rows = self.execute, self.messages[step]
        x(self.recipients, (rows[0]["recipient"], "active"))
        values: list[Any] = []
        for n, row in enumerate(rows):
            changed = dict(row, id=f"ntf_raw{i:021d}{STEP_CODES[step]}{n}", created_at=now, due_at=now,
                           dedupe_key=row["dedupe_key"].replace(self.template_order, oid))
            values += (changed[c] for c in self.message_columns)
        x(self.insert_messages[step], tuple(values))

    def lifecycle(self, i: int, start: dt.datetime) -> None:
        x, t = self.execute, self.instant
        oid, rid, tid = f"ord_raw{i:023d}", f"res_raw{i:023d}", self.ids["therapist"]
        now, end = t(start - LEAD), t(start + DURATION)
        visit = (t(start), end)
        blocked = (t(start - BUFFER), t(start + DURATION + BUFFER))
        row = dict(self.order, scheduled_start=visit[0], scheduled_end=end, placed_at=now, entered_at=now,
                   state="pending_payment", paid_fen=0, arrived_at=None, finished_at=None, version=1)

        def step(position: int) -> tuple[Any, ...]:
            return tuple(oid if c == "order_id" else now if c == "at" else self.steps[position][c]
                         for c in self.step_columns)

        def get() -> None:
            self.begin()
            for sql in self.read_order:
                x(sql, (oid,))

        def save(position: int, **changes: Any) -> None:
            version = row["version"]
            row.update(changes, entered_at=now, version=version + 1, state=self.steps[position]["to_state"])
            x(self.update_order, (*(row[c] for c in self.update_columns), oid, version))
            x(self.insert_step, step(position))

        def live() -> None:
            x(self.live, (tid, *visit, now))

        def profile() -> None:  # the therapist's profile: the booking's four reads of it
            for sql, key in self.reads[4:8]:
                x(sql, (self.ids[key],))

        self.begin()
        for sql, key in self.reads:
            x(sql, (self.ids[key],))
        if self.postgres:
            x(self.lock, (self.lock_key,))
        x("SAVEPOINT hold", ())
        x(self.retire, (tid, blocked[1], blocked[0], now))
        if not self.postgres:
            x(self.recheck, (tid, blocked[1], blocked[0]))
        hold = dict(self.hold, id=rid, reference=oid, starts_at=visit[0], ends_at=end, blocked_start=blocked[0],
                    blocked_end=blocked[1], created_at=now, hold_until=t(start - LEAD + WINDOW), released_at=None,
                    active=self.true, version=1)
        x(self.insert_hold, tuple(hold[c] for c in self.hold_columns))
        x("RELEASE SAVEPOINT hold", ())
        x("SAVEPOINT place", ())
        x(self.insert_order, (oid, *(row[c] for c in self.order_columns)))
        x(self.insert_step, step(0))
        x("RELEASE SAVEPOINT place", ())
        self.commit()
        # pay
        get()
        live()
        x(self.confirm, (None, None, 2, rid, 1))
        self.post("captured", oid, now)
        profile()
        for sql, key in self.reads[1:3]:  # the service and its prices (the offer names the service)
            x(sql, (self.ids[key],))
        self.notify("offer:1", i, oid, now)
        save(1, paid_fen=self.order["paid_fen"])
        self.commit()
        for position, told in ((2, "accept"), (3, "depart"), (4, "arrive"), (5, None)):  # ..., start
            get()
            if told is not None:
                profile()
                self.notify(told, i, oid, now)
            save(position, **({"arrived_at": now} if position == 4 else {}))
            self.commit()
        # finish
        get()
        live()
        x(self.release, (None, now, self.false, 3, rid, 2))
        self.notify("finish", i, oid, now)
        save(6, finished_at=now)
        self.commit()
        # complete
        get()
        live()
        self.post("completed", oid, now)
        save(7)
        self.commit()


def sqlite_instant(value: dt.datetime) -> str:
    """How the schema stores an instant on SQLite: fixed-width UTC text."""
    u = value.astimezone(dt.UTC)
    return (f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}"
            f".{u.microsecond:06d}Z")


def postgres_instant(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)


def templates(execute: Callable[[str, tuple[Any, ...]], Any], p: str) -> tuple[dict[str, str], dict[str, Any]]:
    """The seeded ids and the rows of the one order the library took through a lifecycle (see the docstring)."""
    def rows(sql: str, *params: Any) -> list[dict[str, Any]]:
        cursor = execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]

    [order] = rows("SELECT * FROM orders")
    steps = rows(f"SELECT * FROM order_timeline WHERE order_id = {p} ORDER BY position", order["id"])
    [hold] = rows(f"SELECT * FROM reservations WHERE reference = {p}", order["id"])
    [service] = rows(f"SELECT * FROM catalog_services WHERE id = {p}", order["service_id"])
    assert [s["action"] for s in steps] == ["place", "pay", "accept", "depart", "arrive", "start", "finish",
                                             "complete"], steps
    ids = {"therapist": order["therapist_id"], "customer": order["customer_id"], "service": order["service_id"],
           "category": service["category_id"]}
    entries = {}
    for kind in ("captured", "completed"):
        [head] = rows(f"SELECT id, memo, currency FROM ledger_entries WHERE key = {p}", f"order:{order['id']}:{kind}")
        lines = rows(f"SELECT account, side, amount_fen FROM ledger_lines WHERE entry_id = {p} ORDER BY position",
                     head["id"])
        entries[kind] = (head["memo"], head["currency"], [(ln["account"], ln["side"], ln["amount_fen"])
                                                           for ln in lines])
    messages: dict[str, list[dict[str, Any]]] = {}
    for message in rows(f"SELECT * FROM outbox_messages WHERE dedupe_key LIKE {p} ORDER BY dedupe_key",
                        f"order:{order['id']}:%"):
        messages.setdefault(message["dedupe_key"].split("|")[0].split(":", 2)[2], []).append(message)
    assert sorted(messages) == sorted(STEP_CODES), sorted(messages)
    return ids, {"order": order, "steps": steps, "reservation": hold, "entries": entries, "messages": messages}


# -- running and reporting -----------------------------------------------------------------------------------------


def alternate(count: int, rounds: int, library: Run, raw: Callable[[int, Sequence[pendulum.DateTime]], None],
              raw_first: pendulum.DateTime) -> tuple[float, float, list[float]]:
    """Run ``count`` lifecycles each in ``rounds`` alternating rounds; lifecycles/s of each and per-round ratios."""
    visits, raw_visits = starts(count), starts(count, raw_first)
    size = -(-count // rounds)
    lib_time = raw_time = 0.0
    ratios = []
    for first in range(0, count, size):
        began = time.perf_counter()
        library(visits[first:first + size])
        lib = time.perf_counter() - began
        began = time.perf_counter()
        raw(first, raw_visits[first:first + size])
        base = time.perf_counter() - began
        lib_time, raw_time = lib_time + lib, raw_time + base
        ratios.append(lib / base)
    return count / lib_time, count / raw_time, ratios


def report(count: int, rounds: int, lib_rate: float, raw_rate: float, ratios: list[float], lib_statements: float,
           raw_statements: float, driver: str, target: float) -> None:
    for label, rate, statements in (("library: platform.orders", lib_rate, lib_statements),
                                    (f"raw {driver}: same reads and writes", raw_rate, raw_statements)):
        print(f"  {label}: {rate:,.1f} lifecycles/s ({rate * TRANSITIONS:,.0f} transitions/s), "
              f"{statements:.0f} statements per lifecycle")
    verdict = "met" if raw_rate / lib_rate <= target else "missed"
    print(f"  ratio raw / library: {raw_rate / lib_rate:.1f}x over {count} lifecycles in {rounds} rounds "
          f"(median of rounds {statistics.median(ratios):.1f}x; target <= {target}x: {verdict})")


def bench_sqlite(count: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        counted = [0]

        def trace(dbapi_connection: Any) -> None:
            dbapi_connection.set_trace_callback(lambda _sql: counted.__setitem__(0, counted[0] + 1))

        # The statement count: a few lifecycles on a database of their own, every statement traced.
        url = f"sqlite:///{Path(tmp) / 'count.db'}"
        upgrade(url)
        platform, run = seeded(url, sqlite_normal=True, on_connect=trace)
        run(starts(1))
        counted[0] = 0
        run(starts(10, FIRST_DAY.add(days=1)))
        lib_statements = counted[0] / 10
        platform.close()

        url = f"sqlite:///{Path(tmp) / 'lib.db'}"
        upgrade(url)
        platform, library = seeded(url, sqlite_normal=True)
        raw_url = f"sqlite:///{Path(tmp) / 'raw.db'}"
        upgrade(raw_url)
        seed, template_run = seeded(raw_url, sqlite_normal=True)
        template_run([TEMPLATE_START])
        seed.close()

        conn = sqlite3.connect(Path(tmp) / "raw.db", isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000"):
            conn.execute(f"PRAGMA {pragma}")
        ids, rows = templates(conn.execute, "?")

        def execute(sql: str, params: tuple[Any, ...]) -> list[Any]:
            return conn.execute(sql, params).fetchall()

        def begin() -> None:
            conn.execute("BEGIN IMMEDIATE")

        def commit() -> None:
            conn.execute("COMMIT")

        script = RawScript(execute, begin, commit, False, sqlite_instant, ids, rows)
        trace(conn)
        counted[0] = 0
        script.lifecycle(10**6, FIRST_DAY.subtract(days=3).at(10))
        raw_statements = counted[0]
        conn.set_trace_callback(None)

        def raw(first: int, visits: Sequence[pendulum.DateTime]) -> None:
            for n, start in enumerate(visits, start=first):
                script.lifecycle(n, start)

        print(f"order lifecycles, SQLite file (WAL, synchronous=NORMAL), {count} sequential lifecycles each")
        try:
            lib_rate, raw_rate, ratios = alternate(count, rounds, library, raw, FIRST_DAY)
        finally:
            platform.close()
            conn.close()
        report(count, rounds, lib_rate, raw_rate, ratios, lib_statements, raw_statements, "sqlite3", 4.5)


def bench_postgres(count: int, rounds: int) -> None:
    with throwaway_postgres("order lifecycles", ("count", "bench", "raw")) as server:
        if server is None:
            return
        import psycopg

        # The statement count: what SQLAlchemy sends, plus the BEGIN and COMMIT psycopg sends per transaction.
        url = server.url("count")
        upgrade(url)
        platform, run = seeded(url, sqlite_normal=False)
        run(starts(1))
        counted = [0]
        event.listen(platform.engine, "before_cursor_execute",
                     lambda *_: counted.__setitem__(0, counted[0] + 1))
        event.listen(platform.engine, "commit", lambda *_: counted.__setitem__(0, counted[0] + 2))
        run(starts(10, FIRST_DAY.add(days=1)))
        lib_statements = counted[0] / 10
        platform.close()

        url = server.url("bench")
        upgrade(url)
        platform, library = seeded(url, sqlite_normal=False)
        raw_url = server.url("raw")
        upgrade(raw_url)
        seed, template_run = seeded(raw_url, sqlite_normal=False)
        template_run([TEMPLATE_START])
        seed.close()

        with psycopg.connect(f"host=127.0.0.1 port={server.port} user=postgres dbname=raw") as conn:
            ids, rows = templates(conn.execute, "%s")
            conn.commit()

            def execute(sql: str, params: tuple[Any, ...]) -> list[Any]:
                counted[0] += 1
                cursor = conn.execute(sql, params)
                return cursor.fetchall() if cursor.description else []

            def commit() -> None:
                counted[0] += 2  # BEGIN (sent by psycopg before the first statement) and COMMIT
                conn.commit()

            script = RawScript(execute, lambda: None, commit, True, postgres_instant, ids, rows)
            counted[0] = 0
            script.lifecycle(10**6, FIRST_DAY.subtract(days=3).at(10))
            raw_statements = counted[0]

            def raw(first: int, visits: Sequence[pendulum.DateTime]) -> None:
                for n, start in enumerate(visits, start=first):
                    script.lifecycle(n, start)

            print(f"order lifecycles, PostgreSQL 127.0.0.1, {count} sequential lifecycles each")
            try:
                lib_rate, raw_rate, ratios = alternate(count, rounds, library, raw, FIRST_DAY)
            finally:
                platform.close()
        report(count, rounds, lib_rate, raw_rate, ratios, lib_statements, raw_statements, "psycopg", 2.0)


# -- the posting share -----------------------------------------------------------------------------------------


class PostingClock:
    """Time spent in ``SqlLedgerRepository.post`` while ``timing()`` is open (the method is wrapped meanwhile)."""

    def __init__(self) -> None:
        self.seconds, self.calls = 0.0, 0

    @contextmanager
    def timing(self) -> Iterator[None]:
        original = SqlLedgerRepository.post

        def timed(repository: SqlLedgerRepository, entry: Any) -> Any:
            began = time.perf_counter()
            try:
                return original(repository, entry)
            finally:
                self.seconds += time.perf_counter() - began
                self.calls += 1

        SqlLedgerRepository.post = timed  # type: ignore[method-assign]
        try:
            yield
        finally:
            SqlLedgerRepository.post = original  # type: ignore[method-assign]


def posting_share(label: str, url: str, count: int, rounds: int, sqlite_normal: bool) -> None:
    upgrade(url)
    platform, run = seeded(url, sqlite_normal=sqlite_normal)
    try:
        run(starts(2, FIRST_DAY.subtract(days=2)))  # warm: compiled statements, pooled connection, balance rows
        visits = starts(count)
        size = -(-count // rounds)
        total = posted = 0.0
        calls, shares = 0, []
        print(f"posting share, {label}: {count} lifecycles in {rounds} rounds")
        for first in range(0, count, size):
            clock = PostingClock()
            with clock.timing():
                began = time.perf_counter()
                run(visits[first:first + size])
                elapsed = time.perf_counter() - began
            total, posted, calls = total + elapsed, posted + clock.seconds, calls + clock.calls
            shares.append(clock.seconds / (elapsed - clock.seconds))
        done = len(visits)
        print(f"  {calls / done:.0f} postings per lifecycle, {posted / calls * 1000:.3f} ms per posting; lifecycle "
              f"{total / done * 1000:.2f} ms, of which posting {posted / done * 1000:.2f} ms")
        print(f"  posting / rest of the lifecycle: {posted / (total - posted):.1%} (rounds: "
              f"{', '.join(f'{share:.1%}' for share in shares)}; target <= 15%)")
    finally:
        platform.close()


def bench_posting_share(count: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        posting_share("SQLite file (WAL, synchronous=NORMAL)", f"sqlite:///{Path(tmp) / 'share.db'}", count, rounds,
                      sqlite_normal=True)
    with throwaway_postgres("posting share", ("share",)) as server:
        if server is not None:
            posting_share("PostgreSQL 127.0.0.1", server.url("share"), count, rounds, sqlite_normal=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lifecycles", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=6, help="alternating library / raw rounds (default 6)")
    parser.add_argument("--posting-share", action="store_true",
                        help="time the ledger postings inside the library's lifecycles instead (issue 5)")
    args = parser.parse_args()
    if args.posting_share:
        bench_posting_share(args.lifecycles, args.rounds)
        return
    bench_sqlite(args.lifecycles, args.rounds)
    bench_postgres(args.lifecycles, args.rounds)


if __name__ == "__main__":
    main()
