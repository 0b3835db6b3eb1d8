"""What ``ledger.post`` sends (issue 5, Performance: posting must add at most 15% to an order transition): on
SQLite the key look-up with the next id, then in a savepoint one multi-row INSERT of the lines, the entry row
and one multi-row balance upsert -- and that a replay and a reused key still behave."""

from __future__ import annotations

import pytest

from massage_core.domain.errors import Conflict
from massage_core.domain.ledger import Book, JournalEntry, LedgerAccount, credit, debit
from massage_core.domain.money import Money
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
    else:  # the look-up; nextval and three inserts (lines and upserts pipelined by executemany) in a savepoint
        assert sent_kinds[0].startswith("SELECT") and sent_kinds[1].startswith("SAVEPOINT")
        assert sent_kinds[2] == "SELECT NEXTVAL('LEDGER_ENTRIES_ID_SEQ')"
        assert sent_kinds[3:6] == ["INSERT INTO", "INSERT INTO", "INSERT INTO"]
        assert sent_kinds[6].startswith("RELEASE") and len(sent_kinds) == 7
    inserts = [s for s in sent_once(statements) if s.startswith("INSERT")]
    assert [s.split()[2] for s in inserts] == ["ledger_lines", "ledger_entries", "ledger_balances"]
    assert "ON CONFLICT" in inserts[2]
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
        assert all(s.lstrip().upper().startswith("SELECT") for s in statements)
        with pytest.raises(Conflict):
            uow.ledger.post(split("once", 2_000))
        uow.ledger.post(split("after"))  # the unit is still usable
        uow.commit()
    with sql_backend.new_uow() as uow:
        assert uow.ledger.balance(CLEARING) == Money(2_000)
