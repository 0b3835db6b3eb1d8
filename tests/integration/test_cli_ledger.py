"""``massage ledger`` end to end on a SQLite file, through click's CliRunner."""

from __future__ import annotations

import pendulum
from sqlalchemy import text

from massage_core.adapters.crypto.field_cipher import AesGcmFieldCipher
from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.adapters.memory.ids import UlidGenerator
from massage_core.adapters.sql.engine import make_engine
from massage_core.adapters.sql.uow import SqlUnitOfWork
from massage_core.domain.ledger import Book, JournalEntry, LedgerAccount, credit, debit
from massage_core.domain.money import Money
from test_cli_therapists import as_json, env, ok, run, token

__all__ = ["env", "token"]  # fixtures

AT = pendulum.datetime(2026, 3, 1, 9, tz="Asia/Shanghai")
THERAPIST = "acc_01JAAAAAAAAAAAAAAAAAAAAAAA"
PAYABLE = LedgerAccount.of(Book.THERAPIST_PAYABLE, THERAPIST)
PREPAID = LedgerAccount.of(Book.CUSTOMER_PREPAYMENTS)
CLEARING = LedgerAccount.of(Book.GATEWAY_CLEARING)
COMMISSION = LedgerAccount.of(Book.COMMISSION_REVENUE)


def post_some(url: str) -> None:
    engine = make_engine(url)
    try:
        with SqlUnitOfWork(engine, AesGcmFieldCipher(KeyRing.generate()), UlidGenerator()) as uow:
            uow.ledger.post(JournalEntry("order:x:captured", AT, (debit(CLEARING, Money(25_800)),
                                                                  credit(PREPAID, Money(25_800)))))
            uow.ledger.post(JournalEntry("order:x:completed", AT, (
                debit(PREPAID, Money(25_800)), credit(PAYABLE, Money(18_060)), credit(COMMISSION, Money(7_740)))))
            uow.commit()
    finally:
        engine.dispose()


def tamper(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE ledger_balances SET balance_fen = 99999 WHERE account = :a"),
                               {"a": PAYABLE.code})
    finally:
        engine.dispose()


def test_balance_entries_and_a_clean_verify(env: dict[str, str], token: str) -> None:
    post_some(env["MASSAGE_DB"])
    shown = ok(run(env, "ledger", "balance", PAYABLE.code, token=token))
    assert "¥180.60" in shown and "18060" in shown
    assert as_json(run(env, "--format", "json", "ledger", "balance", "commission_revenue", token=token)) == [
        {"account": "commission_revenue", "balance": "¥77.40", "fen": 7_740}]
    listed = as_json(run(env, "--format", "json", "ledger", "entries", PAYABLE.code, token=token))
    assert isinstance(listed, list) and [e["key"] for e in listed] == ["order:x:completed"]
    assert listed[0]["credits"] == f"{PAYABLE.code} ¥180.60,commission_revenue ¥77.40"
    report = ok(run(env, "ledger", "verify", token=token))
    assert "ok" in report and "entries           2" in report


def test_verify_prints_each_problem_and_exits_1(env: dict[str, str], token: str) -> None:
    post_some(env["MASSAGE_DB"])
    tamper(env["MASSAGE_DB"])
    bad = run(env, "ledger", "verify", token=token)
    assert bad.exit_code == 1
    assert f"balance_mismatch  {PAYABLE.code}  stored ¥999.99, recomputed from the entries ¥180.60" in bad.output
    assert "1 problem(s) in 2 entries" in bad.output


def test_ledger_errors_are_one_line_and_non_zero(env: dict[str, str], token: str) -> None:
    bad = run(env, "ledger", "balance", "piggy_bank", token=token)
    assert bad.exit_code == 1 and "ledger.account" in bad.output and len(bad.output.strip().splitlines()) == 1
    assert "auth.required" in run(env, "ledger", "verify").output
