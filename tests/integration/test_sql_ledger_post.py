"""What ``ledger.post`` sends (issue 5, Performance: posting must add at most 15% to an order transition): on
SQLite the key look-up with the next id, then in a savepoint one multi-row INSERT of the lines, the entry row
and one multi-row balance upsert; on PostgreSQL the key's advisory lock and one statement (lines, entry row,
balance upserts in data-modifying CTEs), no savepoint -- and that a replay, a reused key and a key posted by
two units at once still behave."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from massage_core.adapters.crypto.field_cipher import AesGcmFieldCipher
from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.adapters.memory.ids import UlidGenerator
from massage_core.adapters.sql.engine import make_engine
from massage_core.adapters.sql.uow import SqlUnitOfWork
from massage_core.domain.errors import Conflict
from massage_core.domain.ledger import Book, JournalEntry, LedgerAccount, credit, debit
from massage_core.domain.money import Money
from massage_core.ports.ledger import KEY_REUSED
from storage_support import T0, Backend
from test_sql_hot_path import kinds, sent

CLEARING = LedgerAccount(Book.GATEWAY_CLEARING)
REVENUE = LedgerAccount(Book.COMMISSION_REVENUE)
PREPAID = LedgerAccount(Book.CUSTOMER_PREPAYMENTS)


def split(key: str, fen: int = 1_000) -> JournalEntry:
    return JournalEntry(key, T0, (debit(CLEARING, Money(fen)), credit(REVENUE, Money(fen - 300)),
                                  credit(PREPAID, Money(300))), "test")


def sent_once(statements: list[str]) -> list[str]:
    """The statements without the SQLite trace's repeats (the driver reports a statement again for each row
    a trigger fires on)."""
    return [s for n, s in enumerate(statements) if n == 0 or statements[n - 1] != s]


def test_a_posting_sends_one_insert_per_table(sql_backend: Backend) -> None:
    with sql_backend.new_uow() as uow:
        uow.ledger.post(split("warm"))  # balance rows exist for the second posting's upsert to update
        with sent(uow) as statements:
            result = uow.ledger.post(split("count"))
        uow.commit()
    assert result.posted
    sent_kinds = kinds(sent_once(statements))
    if sql_backend.name == "sqlite":  # the key look-up with the next id; three inserts in a savepoint
        assert sent_kinds[0].startswith("SELECT") and sent_kinds[1].startswith("SAVEPOINT")
        assert sent_kinds[2:5] == ["INSERT INTO", "INSERT INTO", "INSERT INTO"]
        assert sent_kinds[5].startswith("RELEASE") and len(sent_kinds) == 6
        inserts = [s for s in sent_once(statements) if s.startswith("INSERT")]
        assert [s.split()[2] for s in inserts] == ["ledger_lines", "ledger_entries", "ledger_balances"]
        assert "ON CONFLICT" in inserts[2]
    else:  # two round trips: the key's advisory lock, then one statement writing all three tables; no savepoint
        assert sent_kinds == ["SELECT PG_ADVISORY_XACT_LOCK(HASHTEXTEXTENDED(%(KEY)S,", "WITH CLAIMED"]
        written = statements[1]
        order = [written.index(f"INSERT INTO {table} ") for table in ("ledger_lines", "ledger_entries",
                                                                      "ledger_balances")]
        assert order == sorted(order) and written.count("INSERT INTO") == 3
        assert "ON CONFLICT (account) DO UPDATE" in written and "ORDER BY d.account" in written
    with sql_backend.new_uow() as uow:
        assert uow.ledger.entry("count") == split("count")
        assert [uow.ledger.balance(a) for a in (CLEARING, REVENUE, PREPAID)] == [Money(2_000), Money(1_400),
                                                                                Money(600)]


def test_a_replay_reads_only_and_a_reused_key_is_refused(sql_backend: Backend) -> None:
    with sql_backend.new_uow() as uow:
        uow.ledger.post(split("once"))
        uow.commit()
    with sql_backend.new_uow() as uow:
        with sent(uow) as statements:
            assert not uow.ledger.post(split("once")).posted
        if sql_backend.name == "sqlite":
            assert all(s.lstrip().upper().startswith("SELECT") for s in statements)
        else:  # the lock, the posting statement (it finds the key and writes nothing), the stored lines
            assert kinds(statements)[1:] == ["WITH CLAIMED", "SELECT LEDGER_LINES.ACCOUNT,"]
            connection = uow.connection  # type: ignore[attr-defined]
            xid = connection.execute(text("SELECT pg_current_xact_id_if_assigned()")).scalar_one()
            assert xid is None  # nothing written: the transaction has no id
        with pytest.raises(Conflict):
            uow.ledger.post(split("once", 2_000))
        uow.ledger.post(split("after"))  # the unit is still usable
        uow.commit()
    with sql_backend.new_uow() as uow:
        assert uow.ledger.balance(CLEARING) == Money(2_000)


@pytest.fixture
def pg_backend(pg_url: str) -> Iterator[Backend]:
    engine = make_engine(pg_url)
    cipher, ids = AesGcmFieldCipher(KeyRing.generate()), UlidGenerator()
    try:
        yield Backend("postgres", lambda: SqlUnitOfWork(engine, cipher, ids), engine=engine, cipher=cipher, url=pg_url)
    finally:
        engine.dispose()


def waiting_for_a_lock(backend: Backend) -> bool:
    with backend.engine.connect() as watcher:
        return bool(watcher.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                         "AND NOT granted")).scalar_one())


@pytest.mark.postgres
@pytest.mark.parametrize("same", [True, False], ids=["same-lines", "other-lines"])
def test_a_second_unit_posting_a_key_waits_for_the_first_and_answers_from_its_entry(pg_backend: Backend,
                                                                                    same: bool) -> None:
    outcome: list[object] = []
    with pg_backend.new_uow() as first:
        assert first.ledger.post(split("race")).posted

        def second() -> None:
            with pg_backend.new_uow() as uow:
                try:
                    outcome.append(uow.ledger.post(split("race", 1_000 if same else 2_000)).posted)
                except Conflict as refused:
                    outcome.append(refused.code)
                uow.ledger.post(split("race-after"))  # no savepoint, yet the unit is still usable
                uow.commit()

        worker = threading.Thread(target=second)
        worker.start()
        for _ in range(2_000):  # until the second unit queues on the key's lock (the first holds it)
            if waiting_for_a_lock(pg_backend) or not worker.is_alive():
                break
            time.sleep(0.005)
        assert waiting_for_a_lock(pg_backend) and not outcome
        first.commit()
    worker.join(30)
    assert outcome == [False if same else KEY_REUSED]
    with pg_backend.new_uow() as uow:
        assert uow.ledger.entry_count() == 2
        assert uow.ledger.balance(CLEARING) == Money(2_000)
        assert list(uow.ledger.unbalanced_entries()) == []

