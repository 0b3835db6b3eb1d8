"""The ledger's building blocks: accounts, lines, balanced entries, reversals and repeated postings."""

from __future__ import annotations

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from massage_core.domain.errors import ValidationError
from massage_core.domain.ledger import (
    Book,
    JournalEntry,
    JournalLine,
    LedgerAccount,
    Side,
    credit,
    debit,
)
from massage_core.domain.money import Money

AT = pendulum.datetime(2026, 3, 1, 9, tz="Asia/Shanghai")
THERAPIST = "acc_01JAAAAAAAAAAAAAAAAAAAAAAA"
CLEARING = LedgerAccount.of(Book.GATEWAY_CLEARING)
PREPAID = LedgerAccount.of(Book.CUSTOMER_PREPAYMENTS)
PAYABLE = LedgerAccount.of(Book.THERAPIST_PAYABLE, THERAPIST)
COMMISSION = LedgerAccount.of(Book.COMMISSION_REVENUE)


def test_a_captured_payment_grows_an_asset_and_a_liability() -> None:
    entry = JournalEntry("order:x:captured", AT, (debit(CLEARING, Money(25_800)), credit(PREPAID, Money(25_800))))
    assert entry.effects() == {CLEARING: 25_800, PREPAID: 25_800}
    assert entry.at.timezone_name == "UTC"


def test_a_completion_split_moves_the_liability() -> None:
    entry = JournalEntry("order:x:completed", AT, (
        debit(PREPAID, Money(25_800)), credit(PAYABLE, Money(18_060)), credit(COMMISSION, Money(7_740))))
    assert entry.effects() == {PREPAID: -25_800, PAYABLE: 18_060, COMMISSION: 7_740}


@pytest.mark.parametrize(("build", "code"), [
    (lambda: JournalEntry("k:1", AT, (debit(CLEARING, Money(100)), credit(PREPAID, Money(99)))), "ledger.unbalanced"),
    (lambda: JournalEntry("k:1", AT, (debit(CLEARING, Money(100)),)), "ledger.lines"),
    (lambda: JournalEntry("k:1", AT, ()), "ledger.lines"),
    (lambda: JournalEntry("k", AT, (debit(CLEARING, Money(1)), credit(PREPAID, Money(1)))), "ledger.key"),
    (lambda: JournalEntry("bad key!", AT, (debit(CLEARING, Money(1)), credit(PREPAID, Money(1)))), "ledger.key"),
    (lambda: JournalEntry("k:1", AT, (debit(CLEARING, Money(1)), credit(PREPAID, Money(1, "USD")))),
     "money.currency"),  # only CNY exists today; an entry would also refuse mixed currencies (ledger.currency)
    (lambda: JournalEntry("k:1", AT, (debit(CLEARING, Money(1)), credit(PREPAID, Money(1))), "x" * 201),
     "ledger.memo"),
    (lambda: debit(CLEARING, Money(0)), "ledger.amount"),
    (lambda: debit(CLEARING, Money(-5)), "ledger.amount"),
    (lambda: LedgerAccount.of(Book.THERAPIST_PAYABLE), "ledger.account"),
    (lambda: LedgerAccount.of(Book.GATEWAY_CLEARING, THERAPIST), "ledger.account"),
    (lambda: LedgerAccount.parse("petty_cash"), "ledger.account"),
    (lambda: LedgerAccount.of(Book.THERAPIST_PAYABLE, "acc_nope"), "invalid_id"),
])
def test_bad_entries_are_refused(build: object, code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        build()  # type: ignore[operator]
    assert caught.value.code == code


def test_codes_round_trip() -> None:
    for account in (CLEARING, PAYABLE):
        assert LedgerAccount.parse(account.code) == account
    assert PAYABLE.code == f"therapist_payable:{THERAPIST}"


def test_a_repeat_is_recognised_by_its_lines_not_their_order() -> None:
    first = JournalEntry("k:1", AT, (debit(CLEARING, Money(5)), credit(PREPAID, Money(5))))
    again = JournalEntry("k:1", AT.add(minutes=3), (credit(PREPAID, Money(5)), debit(CLEARING, Money(5))))
    other = JournalEntry("k:1", AT, (debit(CLEARING, Money(6)), credit(PREPAID, Money(6))))
    assert first.same_posting(again) and not first.same_posting(other)


accounts = st.sampled_from([CLEARING, PREPAID, PAYABLE, COMMISSION, LedgerAccount.of(Book.COUPON_EXPENSE),
                            LedgerAccount.of(Book.WITHDRAWAL_HOLDS, THERAPIST)])


@st.composite
def balanced(draw: st.DrawFn) -> JournalEntry:
    debits = draw(st.lists(st.tuples(accounts, st.integers(1, 10**9)), min_size=1, max_size=9))
    total = sum(amount for _, amount in debits)
    parts = draw(st.integers(1, min(9, total)))
    cuts = sorted(draw(st.lists(st.integers(1, total - 1), min_size=parts - 1, max_size=parts - 1, unique=True))) \
        if parts > 1 else []
    shares = [b - a for a, b in zip([0, *cuts], [*cuts, total])]
    lines = [debit(a, Money(n)) for a, n in debits] + [credit(draw(accounts), Money(n)) for n in shares]
    return JournalEntry("k:prop", AT, lines)


@given(balanced())
def test_every_entry_keeps_the_accounting_equation(entry: JournalEntry) -> None:
    """Assets + expenses change exactly as much as liabilities + revenue, and a reversal undoes everything."""
    left = sum(v for a, v in entry.effects().items() if a.book.kind.debit_normal)
    right = sum(v for a, v in entry.effects().items() if not a.book.kind.debit_normal)
    assert left == right
    assert entry.total(Side.DEBIT) == entry.total(Side.CREDIT)
    back = entry.reversal("k:prop:reversed", AT)
    combined: dict[LedgerAccount, int] = {}
    for e in (entry, back):
        for account, value in e.effects().items():
            combined[account] = combined.get(account, 0) + value
    assert set(combined.values()) == {0}


@given(st.lists(st.integers(1, 10**6), min_size=2, max_size=6), st.integers(1, 10**6))
def test_an_unbalanced_entry_cannot_be_built(amounts: list[int], extra: int) -> None:
    lines = [debit(CLEARING, Money(n)) for n in amounts] + [credit(PREPAID, Money(sum(amounts) + extra))]
    with pytest.raises(ValidationError):
        JournalEntry("k:1", AT, lines)
    assert JournalLine(CLEARING, "debit", Money(1)).side is Side.DEBIT
