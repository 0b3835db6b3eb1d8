"""Posting rules: hand-computed entries, and properties -- every entry balances, every split conserves every fen,
and the money of a whole story ends where it should."""

from __future__ import annotations

from collections import Counter

import pendulum
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from massage_core.domain import postings as p
from massage_core.domain.errors import ValidationError
from massage_core.domain.ids import AccountId, ServiceId
from massage_core.domain.ledger import Book, JournalEntry, LedgerAccount
from massage_core.domain.money import Money

AT = pendulum.datetime(2026, 3, 1, 9, tz="Asia/Shanghai")
ORDER = "ord_01JAAAAAAAAAAAAAAAAAAAAAAA"
T = AccountId("acc_01JTTTTTTTTTTTTTTTTTTTTTTT")
TUINA = ServiceId("svc_01JSSSSSSSSSSSSSSSSSSSSSSS")


def balances(*entries: JournalEntry | None) -> Counter[str]:
    out: Counter[str] = Counter()
    for entry in entries:
        if entry is not None:
            for account, value in entry.effects().items():
                out[account.code] += value
    return Counter({code: value for code, value in out.items() if value})


def test_a_completion_split_by_hand() -> None:
    charges = p.Charges(Money(25_800), Money(1_000), Money(3_000), Money(500))
    entry = p.completed(ORDER, T, charges, 3_000, AT)
    assert charges.total == Money(24_300)
    assert {(ln.account.code, ln.side.value, ln.amount.fen) for ln in entry.lines} == {
        ("customer_prepayments", "debit", 24_300), ("coupon_expense", "debit", 3_000),
        (f"therapist_pending:{T}", "credit", 19_060), (f"tips_payable:{T}", "credit", 500),
        ("commission_revenue", "credit", 7_740)}
    assert entry.key == f"order:{ORDER}:completed"


def test_commission_rates_prefer_the_service_then_the_level() -> None:
    policy = p.CommissionPolicy(default_bp=3_000, by_level={"senior": 2_500}, by_service={TUINA: 2_000})
    assert policy.rate("senior", TUINA) == 2_000
    assert policy.rate("senior", ServiceId("svc_01JXXXXXXXXXXXXXXXXXXXXXXX")) == 2_500
    assert policy.rate(None, ServiceId("svc_01JXXXXXXXXXXXXXXXXXXXXXXX")) == 3_000
    for bad in ({"default_bp": 10_001}, {"by_level": {"senior": -1}}, {"by_service": {TUINA: True}}):
        with pytest.raises(ValidationError):
            p.CommissionPolicy(**bad)


def test_bad_charges_are_refused() -> None:
    with pytest.raises(ValidationError):
        p.Charges(Money(100), Money(0), Money(101), Money(0))
    with pytest.raises(ValidationError):
        p.Charges(Money(100), Money(-1), Money(0), Money(0))
    with pytest.raises(ValidationError):
        p.withdrawal_sent("w1", T, Money(100), Money(101), AT)


money = st.integers(0, 10**7).map(Money)


@st.composite
def charges(draw: st.DrawFn) -> p.Charges:
    commissionable = draw(st.integers(1, 10**7))
    return p.Charges(Money(commissionable), draw(money), Money(draw(st.integers(0, commissionable))), draw(money))


@given(charges(), st.integers(0, 10_000), st.integers(0, 10**9))
def test_a_served_order_ends_in_the_right_accounts(c: p.Charges, rate: int, refund_seed: int) -> None:
    assume(c.total.fen > 0)  # a free order is never paid, so never captured
    share = p.split(c, rate)
    assert share.commission + share.income + share.tip == c.commissionable + c.travel + c.tip
    story: list[JournalEntry | None] = [p.captured(ORDER, c.total, AT), p.completed(ORDER, T, c, rate, AT),
             p.settled(ORDER, T, share.income, share.tip, AT)]
    got = balances(*story)
    assert got["gateway_clearing"] == c.total.fen and got["customer_prepayments"] == 0
    assert got[f"therapist_payable:{T}"] == share.income.fen + share.tip.fen
    assert got[f"therapist_pending:{T}"] == got[f"tips_payable:{T}"] == 0
    assert got["commission_revenue"] - got["coupon_expense"] == share.commission.fen - c.discount.fen
    if c.total.fen:
        back = Money(refund_seed % c.total.fen + 1)
        after = balances(*story, p.refunded_after_completion(ORDER, f"{ORDER}-r9", T, share, back, AT,
                                                             settled_already=True))
        assert after["gateway_clearing"] == c.total.fen - back.fen
        taken = (got[f"therapist_payable:{T}"] - after[f"therapist_payable:{T}"]) \
            + (got["commission_revenue"] - after["commission_revenue"])
        assert taken == back.fen


@given(st.integers(1, 10**7), st.integers(0, 10_000), st.integers(0, 10_000), st.booleans())
def test_a_cancellation_accounts_for_every_fen(paid: int, refund_bp: int, therapist_bp: int, assigned: bool) -> None:
    therapist_bp = min(therapist_bp, 10_000 - refund_bp)
    refund, compensation, retained = Money(paid).allocate([refund_bp, therapist_bp, 10_000 - refund_bp - therapist_bp])
    entries = [p.captured(ORDER, Money(paid), AT),
               p.refunded(ORDER, f"{ORDER}-r3", refund, AT) if refund.fen else None,
               p.cancellation_split(ORDER, T if assigned else None, compensation, retained, AT)]
    got = balances(*entries)
    assert got["customer_prepayments"] == 0
    assert got["gateway_clearing"] == paid - refund.fen
    assert got[f"therapist_pending:{T}"] + got["cancellation_revenue"] == compensation.fen + retained.fen


@given(st.integers(1, 10**7), st.integers(0, 10**7), st.booleans())
def test_withdrawals_move_the_money_once_and_a_bounce_puts_it_back(amount: int, fee_seed: int, bounce: bool) -> None:
    cash, fee = Money(amount), Money(fee_seed % (amount + 1))
    earned = p.bonus("b1", T, cash, AT, "top rated")
    story: list[JournalEntry | None] = [earned, p.withdrawal_held("w1", T, cash, AT),
                                        p.withdrawal_sent("w1", T, cash, fee, AT)]
    story.append(p.payout_failed("w1", T, cash, fee, AT) if bounce else p.payout_confirmed("w1", cash - fee, AT))
    got = balances(*story)
    assert got[f"withdrawal_holds:{T}"] == 0 and got["payout_clearing"] == 0
    if bounce:
        assert got[f"therapist_payable:{T}"] == amount and got["fee_revenue"] == 0
    else:
        assert got[f"therapist_payable:{T}"] == 0
        assert got["gateway_clearing"] == -(amount - fee.fen) and got["fee_revenue"] == fee.fen
    assert all(e.key.startswith(("bonus:", "withdrawal:w1:")) for e in story if e is not None)


def test_a_penalty_and_release_are_plain_moves() -> None:
    got = balances(p.bonus("b1", T, Money(5_000), AT, "x"), p.penalty("p1", T, Money(2_000), AT, "late"),
                   p.withdrawal_held("w2", T, Money(1_000), AT), p.withdrawal_released("w2", T, Money(1_000), AT))
    assert got == Counter({f"therapist_payable:{T}": 3_000, "bonus_expense": 5_000, "penalty_revenue": 2_000})
    assert p.cancellation_split(ORDER, T, Money(0), Money(0), AT) is None
    assert LedgerAccount.parse(f"therapist_payable:{T}").book is Book.THERAPIST_PAYABLE
