"""The ledger's storage rules on SQLite and PostgreSQL, from raw SQL below the repository (decision 0029):
unbalanced entries, orphan lines, lines added later, updates and deletes are refused; tampered balances and
entries are found by ``verify``; ``metadata.create_all`` makes the same triggers as the migration."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pendulum
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.adapters.crypto.passwords import Argon2idPasswordHasher
from massage_core.adapters.sql.engine import make_engine
from massage_core.adapters.sql.migrate import upgrade
from massage_core.adapters.sql.tables import metadata
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor
from massage_core.domain.ledger import Book, JournalEntry, LedgerAccount, credit, debit
from massage_core.domain.money import Money
from massage_core.services.ledger import ProblemKind
from storage_support import Backend

AT = pendulum.datetime(2026, 1, 5, 2, tz="UTC")
CLEARING = LedgerAccount.of(Book.GATEWAY_CLEARING)
PREPAID = LedgerAccount.of(Book.CUSTOMER_PREPAYMENTS)
ENTRY = 900_000_001
"""Raw entries use ids far above what the sequence hands out."""

_INSERT_LINE = ("INSERT INTO ledger_lines (entry_id, position, account, side, amount_fen) "
                "VALUES (:e, :p, :a, :s, :f)")
_INSERT_ENTRY = "INSERT INTO ledger_entries (id, key, at, memo, currency) VALUES (:e, :k, :at, '', 'CNY')"


def _at(engine: Any) -> Any:
    # SQLite stores UtcInstant as text; PostgreSQL as timestamptz.
    return AT.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if engine.dialect.name == "sqlite" else AT


def raw_entry(connection: Any, entry_id: int, key: str, lines: list[tuple[str, str, int]]) -> None:
    for n, (account, side, fen) in enumerate(lines):
        connection.execute(text(_INSERT_LINE), {"e": entry_id, "p": n, "a": account, "s": side, "f": fen})
    connection.execute(text(_INSERT_ENTRY), {"e": entry_id, "k": key, "at": _at(connection.engine)})


def refused(engine: Any, *statements: tuple[str, dict[str, Any]], lines: list[tuple[str, str, int]] | None = None,
            key: str = "raw:refused") -> None:
    """Run the writes in one transaction and expect the database to refuse them (at once or at commit)."""
    with pytest.raises(DBAPIError), engine.begin() as connection:
        if lines is not None:
            raw_entry(connection, ENTRY + 1, key, lines)
        for sql, params in statements:
            connection.execute(text(sql), params)


def counts(engine: Any) -> tuple[int, int]:
    with engine.connect() as connection:
        return (connection.execute(text("SELECT count(*) FROM ledger_entries")).scalar_one(),
                connection.execute(text("SELECT count(*) FROM ledger_lines")).scalar_one())


BALANCED = [("gateway_clearing", "debit", 500), ("customer_prepayments", "credit", 500)]


def test_a_balanced_raw_entry_is_accepted(sql_backend: Backend) -> None:
    with sql_backend.engine.begin() as connection:
        raw_entry(connection, ENTRY, "raw:balanced", BALANCED)
    assert counts(sql_backend.engine) == (1, 2)


@pytest.mark.parametrize("lines", [
    [("gateway_clearing", "debit", 500), ("customer_prepayments", "credit", 499)],
    [("gateway_clearing", "debit", 500)],
    [],
    [("gateway_clearing", "debit", 500), ("customer_prepayments", "credit", 500), ("fee_revenue", "credit", 1)],
], ids=["unbalanced", "one-line", "no-lines", "three-unbalanced"])
def test_an_unbalanced_raw_entry_is_refused(sql_backend: Backend, lines: list[tuple[str, str, int]]) -> None:
    refused(sql_backend.engine, lines=lines)
    assert counts(sql_backend.engine) == (0, 0)


def test_bad_lines_are_refused_by_checks(sql_backend: Backend) -> None:
    for lines in ([("gateway_clearing", "debit", 0), ("customer_prepayments", "credit", 0)],
                  [("gateway_clearing", "debit", -5), ("customer_prepayments", "debit", 5)],
                  [("gateway_clearing", "sideways", 5), ("customer_prepayments", "credit", 5)]):
        refused(sql_backend.engine, lines=lines)
    assert counts(sql_backend.engine) == (0, 0)


def test_orphan_lines_and_lines_added_later_are_refused(sql_backend: Backend) -> None:
    engine = sql_backend.engine
    with engine.begin() as connection:
        raw_entry(connection, ENTRY, "raw:balanced", BALANCED)
    line = {"e": ENTRY + 7, "p": 0, "a": "gateway_clearing", "s": "debit", "f": 5}
    refused(engine, (_INSERT_LINE, line))  # no entry ever comes: the deferred foreign key fails the commit
    refused(engine, (_INSERT_LINE, {**line, "e": ENTRY, "p": 2}),
            (_INSERT_LINE, {**line, "e": ENTRY, "p": 3, "s": "credit"}))  # balanced, but the entry is closed
    assert counts(engine) == (1, 2)


@pytest.mark.parametrize("statement", [
    "UPDATE ledger_lines SET amount_fen = 600",
    "UPDATE ledger_lines SET account = 'fee_revenue' WHERE side = 'credit'",
    "DELETE FROM ledger_lines",
    "UPDATE ledger_entries SET memo = 'edited'",
    "DELETE FROM ledger_entries",
    "TRUNCATE ledger_lines",
    "TRUNCATE ledger_entries",
])
def test_entries_and_lines_are_immutable(sql_backend: Backend, statement: str) -> None:
    engine = sql_backend.engine
    if statement.startswith("TRUNCATE") and engine.dialect.name == "sqlite":
        statement = statement.replace("TRUNCATE", "DELETE FROM")  # SQLite has no TRUNCATE
    with engine.begin() as connection:
        raw_entry(connection, ENTRY, "raw:balanced", BALANCED)
    refused(engine, (statement, {}))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT sum(amount_fen), min(memo) FROM ledger_lines "
                                       "JOIN ledger_entries ON id = entry_id")).one() == (1_000, "")


@pytest.fixture
def platform(sql_backend: Backend) -> Iterator[Platform]:
    assert sql_backend.url is not None
    p = Platform.from_url(sql_backend.url, keyring=KeyRing.generate(), hasher=Argon2idPasswordHasher.for_tests())
    try:
        yield p
    finally:
        p.close()


def _post(platform: Platform, *entries: JournalEntry) -> None:
    with platform.deps.uow() as uow:
        for entry in entries:
            uow.ledger.post(entry)
        uow.commit()


def test_verify_names_a_tampered_balance_row(platform: Platform, sql_backend: Backend) -> None:
    therapist = LedgerAccount.of(Book.THERAPIST_PAYABLE, "acc_01JAAAAAAAAAAAAAAAAAAAAAAA")
    _post(platform, JournalEntry("order:x:captured", AT, (debit(CLEARING, Money(9_000)), credit(PREPAID, Money(9_000)))),
          JournalEntry("order:x:completed", AT, (debit(PREPAID, Money(9_000)), credit(therapist, Money(9_000)))))
    assert platform.ledger.verify(Actor.system()).ok
    with sql_backend.engine.begin() as connection:
        connection.execute(text("UPDATE ledger_balances SET balance_fen = balance_fen + 100 WHERE account = :a"),
                           {"a": therapist.code})
        connection.execute(text("UPDATE ledger_balances SET balance_fen = -1 WHERE account = :a"),
                           {"a": CLEARING.code})
    report = platform.ledger.verify(Actor.system())
    assert {(p.kind, p.subject) for p in report.problems} == {(ProblemKind.BALANCE_MISMATCH, therapist.code),
                                                              (ProblemKind.BALANCE_MISMATCH, CLEARING.code)}
    assert platform.ledger.balance(Actor.system(), therapist.code) == Money(9_100)  # what the row says


def test_verify_finds_an_unbalanced_entry_once_the_triggers_are_gone(platform: Platform,
                                                                      sql_backend: Backend) -> None:
    engine = sql_backend.engine
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER ledger_entries_balanced"))
        else:
            connection.execute(text("DROP TRIGGER ledger_entries_balanced ON ledger_entries"))
            connection.execute(text("DROP TRIGGER ledger_lines_balanced ON ledger_lines"))
        raw_entry(connection, ENTRY, "raw:lopsided", [("gateway_clearing", "debit", 500),
                                                       ("therapist_payable:acc_01JAAAAAAAAAAAAAAAAAAAAAAA", "debit", 1)])
    report = platform.ledger.verify(Actor.system())
    found = {(p.kind, p.subject) for p in report.problems}
    assert (ProblemKind.UNBALANCED_ENTRY, "raw:lopsided") in found
    assert (ProblemKind.BALANCE_MISMATCH, "gateway_clearing") in found  # written below the balances too
    assert (ProblemKind.NEGATIVE_BALANCE, "therapist_payable:acc_01JAAAAAAAAAAAAAAAAAAAAAAA") in found


def _triggers(engine: Any) -> set[str]:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            return set(connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
        return set(connection.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")).scalars())


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def two_blank_urls(request: pytest.FixtureRequest, tmp_path: Any) -> tuple[str, str]:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    cluster = request.getfixturevalue("postgres_server")
    names = [cluster.create_database("template0") for _ in range(2)]
    for name in names:
        request.addfinalizer(lambda name=name: cluster.drop_later(name))
    return cluster.server.url(names[0]), cluster.server.url(names[1])


def test_create_all_makes_the_same_triggers_as_the_migration(two_blank_urls: tuple[str, str]) -> None:
    migrated, created = (make_engine(url) for url in two_blank_urls)
    try:
        upgrade(migrated)
        if created.dialect.name == "postgresql":
            with created.begin() as connection:  # the reservations' exclusion constraint needs it
                connection.execute(text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
        metadata.create_all(created)
        assert _triggers(created) == _triggers(migrated) >= {"ledger_entries_balanced", "ledger_lines_entry_open"}
        refused(created, lines=[("gateway_clearing", "debit", 500), ("customer_prepayments", "credit", 499)])
    finally:
        migrated.dispose()
        created.dispose()
