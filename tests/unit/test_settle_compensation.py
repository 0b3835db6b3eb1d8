"""Settlement of what is left pending besides a plain completion (decision 0032): a therapist's share of a
cancellation fee or of an absent customer's no-show, and what a partial refund after a dispute left of the
income, settle ``settlement_days`` after the order entered its state, once, keyed ``order:<id>:settled``, with
the amounts read from the stored entries; the earnings read side shows them."""

from __future__ import annotations

import datetime as dt

from conftest import Kit, Person
from massage_core.domain.ledger import Book, LedgerAccount, Side
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderState
from massage_core.services.jobs import RuleCount, cancelled_key, settled_key
from order_kit import START, SYSTEM, advance, book, pay
from search_support import Shop

SECOND = dt.timedelta(seconds=1)
DAYS = dt.timedelta(days=7)


def balances(kit: Kit, therapist: Person) -> tuple[int, int]:
    """(pending + tips, payable) in fen."""
    with kit.platform.deps.uow() as uow:
        b = uow.ledger.balance
        who = therapist.account_id
        return (b(LedgerAccount.of(Book.THERAPIST_PENDING, who)).fen + b(LedgerAccount.of(Book.TIPS_PAYABLE, who)).fen,
                b(LedgerAccount.of(Book.THERAPIST_PAYABLE, who)).fen)


def settle_runs(kit: Kit) -> RuleCount:
    counts: RuleCount = kit.platform.jobs.run_due(SYSTEM).settle
    return counts


def order_in(kit: Kit, shop: Shop, therapist: Person, customer: Person, state: str = "accepted") -> str:
    order = book(kit.platform, customer.actor, therapist.account_id, shop.tuina).id
    pay(kit.platform, order)
    advance(kit.platform, order, therapist.actor, customer.actor, state)
    return order


def compensation_of(kit: Kit, order: str, therapist: Person) -> int:
    with kit.platform.deps.uow() as uow:
        entry = uow.ledger.entry(cancelled_key(order))
    assert entry is not None
    return sum(ln.amount.fen for ln in entry.lines if ln.side is Side.CREDIT
               and ln.account == LedgerAccount.of(Book.THERAPIST_PENDING, therapist.account_id))


def expect_settles_once(kit: Kit, therapist: Person, order: str, owed: int) -> None:
    """Nothing at T+N exactly; at T+N plus a second the pending ``owed`` becomes payable, once."""
    assert owed > 0 and balances(kit, therapist) == (owed, 0)
    kit.clock.advance(DAYS)
    assert settle_runs(kit) == RuleCount()
    kit.clock.advance(SECOND)
    assert settle_runs(kit) == RuleCount(1, 0)
    assert balances(kit, therapist) == (0, owed)
    assert settle_runs(kit) == RuleCount()
    with kit.platform.deps.uow() as uow:
        entry = uow.ledger.entry(settled_key(order))
    assert entry is not None and entry.at == kit.clock.now()
    assert kit.platform.ledger.verify(SYSTEM).ok
    summary = kit.platform.earnings.summary(therapist.actor)
    assert (summary.pending, summary.available) == (Money(0), Money(owed))


def test_a_late_cancellation_fee_share_settles_after_n_days(kit: Kit, shop: Shop, therapist: Person,
                                                            customer: Person) -> None:
    order = order_in(kit, shop, therapist, customer)
    kit.clock.set(START.subtract(minutes=30))  # below every notice window: no refund, 80 % to the therapist
    view = kit.platform.orders.cancel(customer.actor, order, "changed my mind")
    assert view.state is OrderState.CANCELLED and view.refunded == Money(0)
    owed = compensation_of(kit, order, therapist)
    assert owed == view.paid.fen * 8_000 // 10_000
    [row] = kit.platform.earnings.orders(therapist.actor)
    assert (row.order_id, row.kind, row.income.fen, row.total, row.rate_bp, row.settled) == (
        order, "cancelled", owed, view.paid, None, False)
    assert row.commission.fen == view.paid.fen - owed
    expect_settles_once(kit, therapist, order, owed)
    [row] = kit.platform.earnings.orders(therapist.actor)
    assert row.settled and row.income.fen == owed
    [day] = kit.platform.earnings.totals(therapist.actor, since=START.subtract(days=2))
    assert day.income.fen == owed  # the settlement is no new income


def test_a_partly_refunded_cancellation_settles_the_share_after_n_days(kit: Kit, shop: Shop, therapist: Person,
                                                                       customer: Person) -> None:
    order = order_in(kit, shop, therapist, customer)
    kit.clock.set(START.subtract(hours=2))  # the 1 h window: half back, 40 % to the therapist
    view = kit.platform.orders.cancel(customer.actor, order)
    assert view.state is OrderState.REFUNDED and view.refunded.fen == view.paid.fen // 2
    expect_settles_once(kit, therapist, order, compensation_of(kit, order, therapist))


def test_an_absent_customers_no_show_settles_after_n_days(kit: Kit, shop: Shop, therapist: Person,
                                                          customer: Person) -> None:
    order = order_in(kit, shop, therapist, customer, "arrived")
    kit.clock.advance(dt.timedelta(minutes=21))
    view = kit.platform.orders.mark_no_show(therapist.actor, order)
    assert view.state is OrderState.NO_SHOW
    expect_settles_once(kit, therapist, order, compensation_of(kit, order, therapist))


def test_what_a_partial_refund_after_a_dispute_left_settles_n_days_after_the_refund(
        kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    order = order_in(kit, shop, therapist, customer, "completed")
    [row] = kit.platform.earnings.orders(therapist.actor)
    kit.clock.advance(dt.timedelta(days=3))
    kit.platform.orders.dispute(customer.actor, order, "too short")
    view = kit.platform.orders.refund(kit.support().actor, order, 10_000)
    assert view.state is OrderState.REFUNDED
    left, _ = balances(kit, therapist)
    assert 0 < left < row.income.fen + row.tip.fen
    expect_settles_once(kit, therapist, order, left)


def test_nothing_to_settle_after_a_full_refund_or_a_free_cancellation(kit: Kit, shop: Shop, therapist: Person,
                                                                      customer: Person) -> None:
    free = order_in(kit, shop, therapist, customer)
    kit.platform.orders.cancel(customer.actor, free)  # a day's notice: everything back, no entry
    order = book(kit.platform, customer.actor, therapist.account_id, shop.tuina, start=START.add(hours=2)).id
    pay(kit.platform, order)
    advance(kit.platform, order, therapist.actor, customer.actor, "completed")
    kit.platform.orders.dispute(customer.actor, order, "never came")
    assert kit.platform.orders.refund(kit.support().actor, order).refunded.fen > 0  # all of it
    assert balances(kit, therapist) == (0, 0)
    kit.clock.advance(dt.timedelta(days=8))
    assert settle_runs(kit) == RuleCount()
    with kit.platform.deps.uow() as uow:
        assert uow.ledger.posted_keys([settled_key(free), settled_key(order), cancelled_key(free)]) == set()
    assert kit.platform.ledger.verify(SYSTEM).ok


def test_a_refund_after_the_settlement_never_takes_the_available_balance_below_zero(
        kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    """The therapist withdrew most of what settled; a full refund after a dispute takes back only what is
    still available and the platform bears the rest (``bonus_expense``)."""
    order = order_in(kit, shop, therapist, customer, "completed")
    kit.clock.advance(DAYS + SECOND)
    assert settle_runs(kit) == RuleCount(1, 0)
    _, available = balances(kit, therapist)
    kit.platform.withdrawals.request(therapist.actor, available - 500)
    kit.platform.orders.dispute(customer.actor, order, "never came")
    view = kit.platform.orders.refund(kit.support().actor, order)
    assert view.refunded == view.paid
    assert balances(kit, therapist) == (0, 0)
    with kit.platform.deps.uow() as uow:
        refund = uow.ledger.entry(f"refund:{order}-r{len(view.timeline) - 1}")
        borne = uow.ledger.balance(LedgerAccount.of(Book.BONUS_EXPENSE)).fen
    assert refund is not None
    taken = {ln.account.book: ln.amount.fen for ln in refund.lines if ln.side is Side.DEBIT}
    assert taken[Book.THERAPIST_PAYABLE] == 500 and taken[Book.BONUS_EXPENSE] == borne == available - 500
    assert kit.platform.ledger.verify(SYSTEM).ok


def test_a_disputed_visit_refunded_in_part_is_split_like_a_completion_and_settles(kit: Kit, shop: Shop,
                                                                                 therapist: Person,
                                                                                 customer: Person) -> None:
    order = order_in(kit, shop, therapist, customer, "finished")
    kit.platform.orders.dispute(customer.actor, order, "the pressure was too strong")
    admin = kit.support().actor
    view = kit.platform.orders.refund(admin, order, Money.yuan(10))
    assert view.state is OrderState.REFUNDED and view.refunded == Money.yuan(10)
    with kit.platform.deps.uow() as uow:
        prepaid = uow.ledger.balance(LedgerAccount.of(Book.CUSTOMER_PREPAYMENTS))
        completion = uow.ledger.entry(f"order:{order}:completed")
    assert prepaid == Money(0)  # nothing the customer paid is left unassigned
    assert completion is not None
    owed = balances(kit, therapist)[0]
    income = sum(ln.amount.fen for ln in completion.lines if ln.side is Side.CREDIT
                 and ln.account.owner == therapist.account_id)
    assert 0 < owed < income  # the refund took its share back from the therapist's part
    assert kit.platform.ledger.verify(SYSTEM).ok
    expect_settles_once(kit, therapist, order, owed)


def test_a_disputed_visit_refunded_in_full_leaves_nothing_to_settle(kit: Kit, shop: Shop, therapist: Person,
                                                                    customer: Person) -> None:
    order = order_in(kit, shop, therapist, customer, "finished")
    kit.platform.orders.dispute(customer.actor, order, "no-show of the therapist's skills")
    view = kit.platform.orders.refund(kit.support().actor, order)
    assert view.refunded == view.paid
    with kit.platform.deps.uow() as uow:
        assert uow.ledger.balance(LedgerAccount.of(Book.CUSTOMER_PREPAYMENTS)) == Money(0)
    assert balances(kit, therapist) == (0, 0)
    kit.clock.advance(DAYS + SECOND)
    assert settle_runs(kit) == RuleCount()
    assert kit.platform.ledger.verify(SYSTEM).ok
