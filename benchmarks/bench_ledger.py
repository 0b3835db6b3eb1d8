"""Ledger postings per second and ``ledger verify`` over N entries, on SQLite and PostgreSQL, each beside a
raw-driver script doing the same work in the same run.

Posting: ``--postings`` (default 3,000) postings, one unit of work (one transaction) each, through
``uow.ledger.post``: half "captured" entries (2 lines: gateway clearing / customer prepayments), half
"completed" splits (3 lines: prepayments / one of 1,000 therapists' payable accounts / commission).  The raw
script sends the library's statements with the driver alone.  SQLite: ``BEGIN IMMEDIATE``, the key look-up
carrying the next id (``max(id) + 1``), ``SAVEPOINT``, one multi-row INSERT of the lines, the entry row, one
multi-row balance upsert (``ON CONFLICT ... DO UPDATE SET balance_fen = balance_fen + excluded.balance_fen``),
``RELEASE``, ``COMMIT``.  PostgreSQL (``repositories/ledger_pg.py``): the key's ``pg_advisory_xact_lock``, then
the one statement whose data-modifying CTEs claim ``nextval`` when the key is free and write the lines, the
entry row and the balance upserts, then ``COMMIT`` (psycopg sends ``BEGIN`` itself).  Library and raw
alternate in rounds on two databases with the same schema (triggers included), so both see the same machine
load.

Verify: ``--entries`` (default 1,000,000) entries of the same two shapes (2.5 lines each on average) are
generated straight into the tables (SQLite: executemany inside one transaction, every trigger firing;
PostgreSQL: ``COPY`` with ``session_replication_role = replica``, i.e. with the triggers and the foreign key
off while loading -- they would cost more than the measurement -- and the balances written from the generated
sums).  Then ``platform.ledger.verify`` runs (the balance comparison: one grouped aggregate over lines and
balances; the unbalanced-entry scan: one grouped aggregate over the lines per entry; the completed-order check,
finding no orders; the audit entry) beside the raw script running the same three SELECTs with the driver and
comparing the balances in Python.  The SQLite file uses WAL with ``synchronous=NORMAL`` in both.

    .venv/bin/python benchmarks/bench_ledger.py [--entries 1000000] [--postings 3000] [--rounds 3] [--only sqlite|postgres]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pendulum
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from massage_core.adapters.crypto.field_cipher import AesGcmFieldCipher  # noqa: E402
from massage_core.adapters.crypto.keyring import KeyRing  # noqa: E402
from massage_core.adapters.crypto.passwords import Argon2idPasswordHasher  # noqa: E402
from massage_core.adapters.memory.ids import UlidGenerator  # noqa: E402
from massage_core.adapters.sql.engine import make_engine  # noqa: E402
from massage_core.adapters.sql.migrate import upgrade  # noqa: E402
from massage_core.adapters.sql.types import _to_text  # noqa: E402
from massage_core.adapters.sql.uow import SqlUnitOfWork  # noqa: E402
from massage_core.bootstrap import Platform  # noqa: E402
from massage_core.domain.access import Actor  # noqa: E402
from massage_core.domain.ledger import Book, JournalEntry, LedgerAccount, credit, debit  # noqa: E402
from massage_core.domain.money import Money  # noqa: E402
from throwaway_postgres import throwaway_postgres  # noqa: E402

AT = pendulum.datetime(2026, 1, 5, 2, tz="UTC")
THERAPISTS = [f"acc_{n:026d}" for n in range(1, 1_001)]
CLEARING, PREPAID, COMMISSION = "gateway_clearing", "customer_prepayments", "commission_revenue"
SIGN = {b.value: 1 if b.kind.debit_normal else -1 for b in Book}
SIGNED = "CASE side WHEN 'debit' THEN amount_fen ELSE -amount_fen END"
VERIFY_SQL = (
    f"SELECT account, sum(r), sum(s), sum(n) FROM (SELECT account, {SIGNED} AS r, 0 AS s, 0 AS n FROM ledger_lines "
    "UNION ALL SELECT account, 0, balance_fen, 1 FROM ledger_balances) AS both_sides GROUP BY account",
    f"SELECT e.key FROM ledger_entries e LEFT OUTER JOIN (SELECT entry_id, count(*) AS n, sum({SIGNED}) AS total "
    "FROM ledger_lines GROUP BY entry_id) l ON l.entry_id = e.id WHERE l.n IS NULL OR l.n < 2 OR l.total <> 0",
    "SELECT count(*) FROM ledger_entries",
)


def shape(n: int) -> list[tuple[str, str, int]]:
    """Entry n's lines as (account, side, fen): a capture (even n) or a completion split (odd n)."""
    paid = 10_000 + n % 9_000
    if n % 2 == 0:
        return [(CLEARING, "debit", paid), (PREPAID, "credit", paid)]
    share = paid * 7 // 10
    return [(PREPAID, "debit", paid), (f"therapist_payable:{THERAPISTS[n % len(THERAPISTS)]}", "credit", share),
            (COMMISSION, "credit", paid - share)]


def entry(prefix: str, n: int) -> JournalEntry:
    lines = tuple((debit if side == "debit" else credit)(LedgerAccount.parse(account), Money(fen))
                  for account, side, fen in shape(n))
    return JournalEntry(f"{prefix}:{n}", AT.add(seconds=n), lines)


def effects(lines: list[tuple[str, str, int]]) -> list[tuple[str, int]]:
    out: dict[str, int] = {}
    for account, side, fen in lines:
        out[account] = out.get(account, 0) + (fen if side == "debit" else -fen) * SIGN[account.partition(":")[0]]
    return sorted(out.items())


# -- posting ---------------------------------------------------------------------------------------------------


def library_poster(url: str, sqlite_normal: bool) -> tuple[Any, Callable[[str, range], None]]:
    engine = make_engine(url)
    if sqlite_normal:
        event.listen(engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA synchronous=NORMAL"))
    uow = SqlUnitOfWork(engine, AesGcmFieldCipher(KeyRing.generate()), UlidGenerator())

    def post(prefix: str, numbers: range) -> None:
        for n in numbers:
            made = entry(prefix, n)
            with uow:
                uow.ledger.post(made)
                uow.commit()

    return engine, post


class RawPoster:
    """The library's posting statements through the driver alone (see the module docstring)."""

    def __init__(self, conn: Any, postgres: bool) -> None:
        self.conn, self.postgres = conn, postgres
        # SQLite: the key look-up carrying the next id; in a savepoint, the lines, the entry, the balances.
        self.claim = ("SELECT (SELECT coalesce(max(id), 0) + 1 FROM ledger_entries) AS next_id, e.id, e.at, e.memo "
                      "FROM (SELECT 1 AS one) AS one LEFT OUTER JOIN ledger_entries e ON e.key = ?")
        self.entry = "INSERT INTO ledger_entries (id, key, at, memo, currency) VALUES (?, ?, ?, ?, ?)"
        self.upsert_tail = ("ON CONFLICT (account) DO UPDATE SET balance_fen = ledger_balances.balance_fen + "
                            "excluded.balance_fen, updated_at = excluded.updated_at")
        # PostgreSQL: the key's advisory lock, then one statement (ledger_pg's, with psycopg's casts).
        self.lock = "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))"
        self.pg_post = (
            "WITH claimed AS (SELECT nextval('ledger_entries_id_seq') AS id WHERE NOT (EXISTS "
            "(SELECT * FROM ledger_entries WHERE ledger_entries.key = %(key)s::VARCHAR))), "
            "written AS (INSERT INTO ledger_lines (entry_id, position, account, side, amount_fen) "
            "SELECT claimed.id, v.position, v.account, v.side, v.amount_fen FROM claimed JOIN "
            "unnest(%(positions)s::SMALLINT[], %(accounts)s::VARCHAR(80)[], %(sides)s::VARCHAR(6)[], "
            "%(amounts)s::BIGINT[]) AS v(position, account, side, amount_fen) ON true "
            "RETURNING ledger_lines.entry_id), "
            "entry AS (INSERT INTO ledger_entries (id, key, at, memo, currency) SELECT max(written.entry_id), "
            "%(key)s::VARCHAR, %(at)s::TIMESTAMP WITH TIME ZONE, %(memo)s::VARCHAR, %(currency)s::VARCHAR FROM written "
            "HAVING count(*) > 0 RETURNING ledger_entries.id), "
            "balanced AS (INSERT INTO ledger_balances (account, balance_fen, updated_at) "
            "SELECT d.account, d.delta, %(at)s::TIMESTAMP WITH TIME ZONE FROM unnest(%(codes)s::VARCHAR(80)[], "
            "%(deltas)s::BIGINT[]) AS d(account, delta) WHERE EXISTS (SELECT entry.id FROM entry) ORDER BY d.account "
            f"{self.upsert_tail}) "
            "SELECT (SELECT entry.id FROM entry) AS posted, ledger_entries.id, ledger_entries.at, ledger_entries.memo "
            "FROM (SELECT 1 AS one) AS one LEFT OUTER JOIN ledger_entries ON ledger_entries.key = %(key)s::VARCHAR")

    def lines_sql(self, rows: int) -> str:
        return "INSERT INTO ledger_lines (entry_id, position, account, side, amount_fen) VALUES " + ", ".join(
            ["(?, ?, ?, ?, ?)"] * rows)

    def upsert_sql(self, rows: int) -> str:
        return ("INSERT INTO ledger_balances (account, balance_fen, updated_at) VALUES "
                + ", ".join(["(?, ?, ?)"] * rows) + " " + self.upsert_tail)

    def post(self, prefix: str, numbers: range) -> None:
        if self.postgres:
            self.post_pg(prefix, numbers)
            return
        cursor = self.conn.cursor()
        for n in numbers:
            lines, key = shape(n), f"{prefix}:{n}"
            stamp = _to_text(AT.add(seconds=n))
            cursor.execute("BEGIN IMMEDIATE")
            cursor.execute(self.claim, (key,))
            entry_id = cursor.fetchall()[0][0]
            cursor.execute("SAVEPOINT g")
            cursor.execute(self.lines_sql(len(lines)),
                           [v for i, (a, s, f) in enumerate(lines) for v in (entry_id, i, a, s, f)])
            cursor.execute(self.entry, (entry_id, key, stamp, "", "CNY"))
            deltas = effects(lines)
            cursor.execute(self.upsert_sql(len(deltas)), [v for a, d in deltas for v in (a, d, stamp)])
            cursor.execute("RELEASE g")
            cursor.execute("COMMIT")

    def post_pg(self, prefix: str, numbers: range) -> None:
        conn = self.conn
        cursor = conn.cursor()
        for n in numbers:
            lines, key, at = shape(n), f"{prefix}:{n}", AT.add(seconds=n)
            deltas = effects(lines)
            cursor.execute(self.lock, (f"ledger:{key}",))
            cursor.execute(self.pg_post, {
                "key": key, "at": at, "memo": "", "currency": "CNY", "positions": list(range(len(lines))),
                "accounts": [a for a, _, _ in lines], "sides": [s for _, s, _ in lines],
                "amounts": [f for _, _, f in lines], "codes": [a for a, _ in deltas], "deltas": [d for _, d in deltas]})
            posted = cursor.fetchone()[0]
            assert posted is not None
            conn.commit()


def alternate(count: int, rounds: int, library: Callable[[str, range], None],
              raw: Callable[[str, range], None]) -> tuple[float, float, list[float]]:
    lib_time = raw_time = 0.0
    ratios = []
    for r in range(rounds):
        numbers = range(r * count, (r + 1) * count)
        started = time.perf_counter()
        library("lib", numbers)
        lib = time.perf_counter() - started
        started = time.perf_counter()
        raw("raw", numbers)
        rw = time.perf_counter() - started
        lib_time, raw_time = lib_time + lib, raw_time + rw
        ratios.append(lib / rw)
    total = count * rounds
    return total / lib_time, total / raw_time, ratios


def report_posting(label: str, driver: str, lib_rate: float, raw_rate: float, ratios: list[float]) -> None:
    print(f"  postings/s: library {lib_rate:,.0f}, raw {driver} {raw_rate:,.0f}; "
          f"raw/library = {raw_rate / lib_rate:.2f}x (median of rounds {statistics.median(ratios):.2f}x) [{label}]")


# -- verify ----------------------------------------------------------------------------------------------------


def generated(count: int, postgres: bool) -> Iterator[tuple[list[Any], list[Any]]]:
    """Batches of (entry rows, line rows) for entries 1..count."""
    batch = 50_000
    for start in range(1, count + 1, batch):
        entries, lines = [], []
        for n in range(start, min(start + batch, count + 1)):
            at = AT.add(seconds=n)
            entries.append((n, f"gen:{n}", at if postgres else _to_text(at), "", "CNY"))
            lines.extend((n, i, a, s, f) for i, (a, s, f) in enumerate(shape(n)))
        yield entries, lines


def totals(count: int) -> dict[str, int]:
    out: dict[str, int] = {}
    for n in range(1, count + 1):
        for account, delta in effects(shape(n)):
            out[account] = out.get(account, 0) + delta
    return out


def raw_verify(execute: Callable[[str], list[Any]]) -> int:
    problems = 0
    for account, recomputed, stored, rows in execute(VERIFY_SQL[0]):
        if not rows or int(stored) != SIGN[account.partition(":")[0]] * int(recomputed):
            problems += 1
    problems += len(execute(VERIFY_SQL[1]))
    execute(VERIFY_SQL[2])
    return problems


def time_verify(url: str, raw: Callable[[], int], sqlite_normal: bool) -> None:
    platform = Platform.from_url(url, keyring=KeyRing.generate(), hasher=Argon2idPasswordHasher.for_tests())
    if sqlite_normal:
        event.listen(platform.engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA synchronous=NORMAL"))
    try:
        lib_times, raw_times = [], []
        for _ in range(2):
            started = time.perf_counter()
            report = platform.ledger.verify(Actor.system())
            lib_times.append(time.perf_counter() - started)
            assert report.ok, report.problems[:5]
            started = time.perf_counter()
            assert raw() == 0
            raw_times.append(time.perf_counter() - started)
        lib, rw = min(lib_times), min(raw_times)
        print(f"  verify of {report.entries:,} entries ({report.accounts:,} accounts): library {lib:.2f} s, "
              f"raw {rw:.2f} s; library/raw = {lib / rw:.2f}x (best of 2)")
    finally:
        platform.close()


# -- the two databases -----------------------------------------------------------------------------------------


def bench_sqlite(entries: int, postings: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        lib_url, raw_path, big = f"sqlite:///{tmp}/lib.db", f"{tmp}/raw.db", f"{tmp}/verify.db"
        for url in (lib_url, f"sqlite:///{raw_path}", f"sqlite:///{big}"):
            upgrade(url)
        engine, library = library_poster(lib_url, sqlite_normal=True)
        raw_conn = sqlite3.connect(raw_path, isolation_level=None)
        raw_conn.execute("PRAGMA synchronous=NORMAL")
        raw_conn.execute("PRAGMA foreign_keys=ON")
        print(f"ledger, SQLite (WAL, synchronous=NORMAL): {postings} postings per round, {rounds} rounds")
        try:
            report_posting("SQLite", "sqlite3", *alternate(postings, rounds, library, RawPoster(raw_conn, False).post))
        finally:
            engine.dispose()
            raw_conn.close()

        conn = sqlite3.connect(big, isolation_level=None)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        for rows, lines in generated(entries, postgres=False):
            conn.executemany("INSERT INTO ledger_lines VALUES (?, ?, ?, ?, ?)", lines)
            conn.executemany("INSERT INTO ledger_entries (id, key, at, memo, currency) VALUES (?, ?, ?, ?, ?)", rows)
        stamp = _to_text(AT)
        conn.executemany("INSERT INTO ledger_balances VALUES (?, ?, ?)",
                         [(a, fen, stamp) for a, fen in totals(entries).items()])
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        print(f"  generated {entries:,} entries in {time.perf_counter() - started:.1f} s (every trigger firing)")

        def raw() -> int:
            conn.execute("BEGIN IMMEDIATE")
            try:
                return raw_verify(lambda sql: conn.execute(sql).fetchall())
            finally:
                conn.execute("COMMIT")

        try:
            time_verify(f"sqlite:///{big}", raw, sqlite_normal=True)
        finally:
            conn.close()


def bench_postgres(entries: int, postings: int, rounds: int) -> None:
    with throwaway_postgres("ledger", ("lib", "raw", "big")) as server:
        if server is None:
            return
        import psycopg

        for name in ("lib", "raw", "big"):
            upgrade(server.url(name))
        engine, library = library_poster(server.url("lib"), sqlite_normal=False)
        dsn = f"host=127.0.0.1 port={server.port} user=postgres dbname="
        print(f"ledger, PostgreSQL 127.0.0.1: {postings} postings per round, {rounds} rounds")
        with psycopg.connect(dsn + "raw") as raw_conn:
            try:
                report_posting("PostgreSQL", "psycopg",
                               *alternate(postings, rounds, library, RawPoster(raw_conn, True).post))
            finally:
                engine.dispose()

        with psycopg.connect(dsn + "big") as conn:
            started = time.perf_counter()
            conn.execute("SET session_replication_role = replica")  # loading only: triggers and the FK off
            with conn.cursor() as cursor:
                for rows, lines in generated(entries, postgres=True):
                    with cursor.copy("COPY ledger_lines (entry_id, position, account, side, amount_fen) "
                                     "FROM STDIN") as copy:
                        for line in lines:
                            copy.write_row(line)
                    with cursor.copy("COPY ledger_entries (id, key, at, memo, currency) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                cursor.executemany("INSERT INTO ledger_balances VALUES (%s, %s, %s)",
                                   [(a, fen, AT) for a, fen in totals(entries).items()])
            conn.execute("SELECT setval('ledger_entries_id_seq', %s)", (entries,))
            conn.commit()
            conn.execute("SET session_replication_role = origin")
            conn.commit()
            print(f"  generated {entries:,} entries in {time.perf_counter() - started:.1f} s (COPY, triggers off)")
            conn.autocommit = True
            conn.execute("VACUUM ANALYZE")
            conn.autocommit = False

            def raw() -> int:
                try:
                    return raw_verify(lambda sql: conn.execute(sql).fetchall())
                finally:
                    conn.commit()

            time_verify(server.url("big"), raw, sqlite_normal=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000, help="entries verified (default 1,000,000)")
    parser.add_argument("--postings", type=int, default=3_000, help="postings per round (default 3,000)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating library / raw rounds (default 3)")
    parser.add_argument("--only", choices=["sqlite", "postgres"], help="run one database only")
    args = parser.parse_args()
    if args.only != "postgres":
        bench_sqlite(args.entries, args.postings, args.rounds)
    if args.only != "sqlite":
        bench_postgres(args.entries, args.postings, args.rounds)


if __name__ == "__main__":
    main()
