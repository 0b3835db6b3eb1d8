"""``platform.earnings`` on memory (decision 0032): balances, per-order earnings and period totals read from the
ledger, in the therapist's own zone; bonuses and penalties by finance, audited; access and bad input."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest

from conftest import Kit, Person
from massage_core.domain.access import Actor
from massage_core.domain.audit import AuditOutcome
from massage_core.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from massage_core.domain.ledger import Book, LedgerAccount
from massage_core.domain.money import Money
from massage_core.services.earnings import PeriodTotals
from order_kit import advance, book, pay
from search_support import Shop

SYSTEM = Actor.system()


def completed_order(kit: Kit, shop: Shop, therapist: Person, customer: Person, **changes: object) -> str:
    order = book(kit.platform, customer.actor, therapist.account_id, shop.tuina, **changes).id
    pay(kit.platform, order)
    advance(kit.platform, order, therapist.actor, customer.actor, "completed")
    return order


def test_a_completed_order_shows_its_split_and_settles_into_available(kit: Kit, shop: Shop, therapist: Person,
                                                                     customer: Person) -> None:
    earnings = kit.platform.earnings
    assert earnings.summary(therapist.actor) == earnings.summary(SYSTEM, therapist.account_id)
    order = completed_order(kit, shop, therapist, customer)
    paid = kit.platform.orders.get(SYSTEM, order).paid
    [row] = earnings.orders(therapist.actor)
    assert (row.order_id, row.total, row.rate_bp, row.settled) == (order, paid, 3_000, False)
    assert row.commission + row.income + row.tip == paid
    assert row.commission.fen > 0 and row.income.fen > 0
    summary = earnings.summary(therapist.actor)
    assert (summary.pending, summary.available, summary.on_hold) == (row.income + row.tip, Money(0), Money(0))
    kit.clock.advance(dt.timedelta(days=8))
    assert kit.platform.jobs.run_due(SYSTEM).settle.fired == 1
    summary = earnings.summary(therapist.actor)
    assert (summary.pending, summary.available) == (Money(0), row.income + row.tip)
    assert earnings.orders(therapist.actor)[0].settled


def test_orders_page_newest_first(kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    orders = []
    for hour in range(3):
        orders.append(completed_order(kit, shop, therapist, customer,
                                      start=pendulum.datetime(2026, 1, 6, 10 + 2 * hour, tz="Asia/Shanghai")))
        kit.clock.advance(dt.timedelta(minutes=1))
    earnings = kit.platform.earnings
    assert [r.order_id for r in earnings.orders(therapist.actor)] == orders[::-1]
    assert [r.order_id for r in earnings.orders(therapist.actor, offset=1, limit=1)] == [orders[1]]


def test_totals_by_day_week_and_month_with_bonuses_and_penalties(kit: Kit, shop: Shop, therapist: Person,
                                                                  customer: Person) -> None:
    earnings = kit.platform.earnings
    order = completed_order(kit, shop, therapist, customer)
    [row] = earnings.orders(therapist.actor)
    finance = kit.finance()
    earnings.grant_bonus(finance.actor, therapist.account_id, Money(5_000), "five-star week")
    earnings.deduct_penalty(finance.actor, therapist.account_id, Money(1_000), "late arrival")
    [day] = earnings.totals(therapist.actor)
    local_day = pendulum.instance(kit.clock.now()).in_timezone("Asia/Shanghai").date()
    assert day == PeriodTotals(local_day, row.income, row.tip, row.commission, Money(5_000), Money(1_000))
    [week] = earnings.totals(therapist.actor, period="week")
    assert week.start == local_day - dt.timedelta(days=local_day.weekday()) and week.income == row.income
    [month] = earnings.totals(SYSTEM, therapist.account_id, period="month")
    assert month.start == local_day.replace(day=1) and month.bonuses == Money(5_000)
    kit.clock.advance(dt.timedelta(days=8))
    kit.platform.jobs.run_due(SYSTEM)
    assert earnings.totals(therapist.actor) == [day]  # a settlement is no new income
    assert order


def test_totals_use_the_therapists_zone(kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    """A completion at 23:30 UTC is the next day in Shanghai."""
    kit.clock.set(pendulum.datetime(2026, 1, 5, 23, 30, tz="UTC"))
    completed_order(kit, shop, therapist, customer)
    [day] = kit.platform.earnings.totals(therapist.actor)
    assert day.start == dt.date(2026, 1, 6)


def test_bonus_and_penalty_are_finance_only_audited_and_validated(kit: Kit, therapist: Person) -> None:
    earnings = kit.platform.earnings
    finance = kit.finance()
    done = earnings.grant_bonus(finance.actor, therapist.account_id, Money(2_000), "  referral  ")
    assert done.reason == "referral" and done.reference.startswith("adj_")
    assert earnings.summary(therapist.actor).available == Money(2_000)
    [entry] = [e for e in kit.audit_entries() if e.action == "earnings.bonus"]
    assert (entry.actor, entry.outcome, entry.target) == (finance.account_id, AuditOutcome.OK, therapist.account_id)
    assert dict(entry.details)["reference"] == done.reference
    for actor in (therapist.actor, kit.support().actor, kit.auditor().actor, Actor.anonymous()):
        with pytest.raises(PermissionDenied):
            earnings.grant_bonus(actor, therapist.account_id, Money(100), "x")
        with pytest.raises(PermissionDenied):
            earnings.deduct_penalty(actor, therapist.account_id, Money(100), "x")
    assert earnings.summary(therapist.actor).available == Money(2_000)
    bad: list[tuple[object, object, object, str]] = [
        ("acc_nope", Money(100), "x", "invalid_id"),
        (therapist.account_id, Money(0), "x", "earnings.amount"),
        (therapist.account_id, Money(1_000_001), "x", "earnings.amount"),
        (therapist.account_id, 100, "x", "earnings.amount"),
        (therapist.account_id, Money(100), "   ", "earnings.reason"),
        (therapist.account_id, Money(100), "x" * 201, "earnings.reason"),
        (therapist.account_id, Money(100), None, "earnings.reason"),
    ]
    for who, amount, reason, code in bad:
        with pytest.raises(ValidationError) as refused:
            earnings.grant_bonus(finance.actor, who, amount, reason)  # type: ignore[arg-type]
        assert refused.value.code == code, (who, amount, reason)
    with pytest.raises(ValidationError) as refused:
        earnings.deduct_penalty(finance.actor, therapist.account_id, Money(2_001), "too much")
    assert refused.value.code == "earnings.exceeds_available"
    with pytest.raises(NotFound):
        earnings.grant_bonus(finance.actor, kit.customer().account_id, Money(100), "not a therapist")
    earnings.deduct_penalty(kit.superadmin().actor, therapist.account_id, Money(2_000), "no-show")
    assert earnings.summary(therapist.actor).available == Money(0)
    assert kit.platform.ledger.verify(SYSTEM).ok


def test_a_therapist_reads_only_their_own_and_staff_reads_are_audited(kit: Kit, therapist: Person) -> None:
    earnings = kit.platform.earnings
    other = kit.therapist()
    with pytest.raises(NotFound):
        earnings.summary(other.actor, therapist.account_id)
    with pytest.raises(NotFound):
        earnings.orders(other.actor, therapist.account_id)
    with pytest.raises(NotFound):
        earnings.totals(other.actor, therapist.account_id)
    for actor in (kit.support().actor, kit.customer().actor, Actor.anonymous()):
        with pytest.raises(PermissionDenied):
            earnings.summary(actor, therapist.account_id)
    finance = kit.finance()
    earnings.summary(finance.actor, therapist.account_id)
    earnings.orders(kit.auditor().actor, therapist.account_id)
    reads = [(e.action, e.outcome) for e in kit.audit_entries() if e.action.startswith("earnings.")]
    assert ("earnings.summary", AuditOutcome.OK) in reads and ("earnings.orders", AuditOutcome.OK) in reads
    assert ("earnings.summary", AuditOutcome.DENIED) in reads


def test_bad_read_input_has_stable_codes(kit: Kit, therapist: Person) -> None:
    earnings = kit.platform.earnings
    me = therapist.actor
    cases = [
        (lambda: earnings.totals(me, period="year"), "earnings.period"),
        (lambda: earnings.totals(me, since=kit.clock.now(), until=kit.clock.now()), "earnings.range"),
        (lambda: earnings.totals(me, since=kit.clock.now() - dt.timedelta(days=401), until=kit.clock.now()),
         "earnings.range"),
        (lambda: earnings.totals(me, since=dt.datetime(2026, 1, 1)), "time.naive"),
        (lambda: earnings.orders(me, limit=0), "page.limit"),
        (lambda: earnings.orders(me, limit=501), "page.limit"),
        (lambda: earnings.orders(me, offset=-1), "page.offset"),
        (lambda: earnings.summary(me, "nope"), "invalid_id"),
        (lambda: earnings.summary(SYSTEM), "earnings.therapist"),
    ]
    for call, code in cases:
        with pytest.raises(ValidationError) as refused:
            call()
        assert refused.value.code == code


def payable_keys(kit: Kit, who: str) -> list[str]:
    with kit.platform.deps.uow() as uow:
        return [e.key for e in uow.ledger.entries(LedgerAccount.of(Book.THERAPIST_PAYABLE, who))]


def test_a_retried_adjustment_with_a_request_id_posts_once(kit: Kit, therapist: Person) -> None:
    earnings, finance = kit.platform.earnings, kit.finance()
    first = earnings.grant_bonus(finance.actor, therapist.account_id, Money(3_000), "referral", request_id="bonus-1")
    kit.clock.advance(dt.timedelta(minutes=5))
    again = earnings.grant_bonus(finance.actor, therapist.account_id, Money(3_000), " referral ", request_id="bonus-1")
    assert again == first and first.reference.startswith("adj_")
    cut = earnings.deduct_penalty(finance.actor, therapist.account_id, Money(2_000), "late", request_id="pen-1")
    # the retry is answered although the first deduction left less than its amount available
    assert earnings.deduct_penalty(finance.actor, therapist.account_id, Money(2_000), "late",
                                   request_id="pen-1") == cut
    assert earnings.summary(therapist.actor).available == Money(1_000)
    assert sorted(payable_keys(kit, therapist.account_id)) == sorted([f"bonus:{first.reference}",
                                                                      f"penalty:{cut.reference}"])
    audited = [dict(e.details) for e in kit.audit_entries() if e.action in ("earnings.bonus", "earnings.penalty")]
    assert [(d["reference"], d["request"]) for d in audited] == [(first.reference, "bonus-1"),
                                                                 (cut.reference, "pen-1")]
    other = kit.another_superadmin()  # request ids are per actor: the same id of another admin is a new request
    theirs = earnings.grant_bonus(other.actor, therapist.account_id, Money(3_000), "referral", request_id="bonus-1")
    assert theirs.reference != first.reference
    plain = earnings.grant_bonus(finance.actor, therapist.account_id, Money(3_000), "referral")
    assert plain.reference not in (first.reference, theirs.reference)  # without a request id: a new one each time
    assert earnings.summary(therapist.actor).available == Money(7_000)
    assert kit.platform.ledger.verify(SYSTEM).ok


def test_a_request_id_reused_for_another_adjustment_is_refused(kit: Kit, therapist: Person) -> None:
    earnings, finance, other = kit.platform.earnings, kit.finance(), kit.therapist()
    earnings.grant_bonus(finance.actor, therapist.account_id, Money(3_000), "referral", request_id="r_1")
    earnings.grant_bonus(finance.actor, other.account_id, Money(3_000), "referral")
    before = payable_keys(kit, therapist.account_id), payable_keys(kit, other.account_id)
    attempts = [
        lambda: earnings.grant_bonus(finance.actor, therapist.account_id, Money(3_001), "referral", request_id="r_1"),
        lambda: earnings.grant_bonus(finance.actor, other.account_id, Money(3_000), "referral", request_id="r_1"),
        lambda: earnings.grant_bonus(finance.actor, therapist.account_id, Money(3_000), "another", request_id="r_1"),
        lambda: earnings.deduct_penalty(finance.actor, therapist.account_id, Money(3_000), "referral",
                                        request_id="r_1"),
    ]
    for attempt in attempts:
        with pytest.raises(Conflict) as refused:
            attempt()
        assert refused.value.code == "request.reused"
    assert (payable_keys(kit, therapist.account_id), payable_keys(kit, other.account_id)) == before
    for bad in ("", "x" * 65, "has space", "émoji", 7):
        with pytest.raises(ValidationError) as invalid:
            earnings.grant_bonus(finance.actor, therapist.account_id, Money(1), "x",
                                 request_id=bad)  # type: ignore[arg-type]
        assert (invalid.value.code, invalid.value.field) == ("request.id", "request_id")
    longest = earnings.grant_bonus(finance.actor, therapist.account_id, Money(1), "x", request_id="A-z_0" * 12 + "abcd")
    assert longest.reference.startswith("adj_")


def test_exceeds_available_names_the_balance_to_ledger_readers(kit: Kit, therapist: Person) -> None:
    finance = kit.finance()  # money.manage always comes with ledger.read (finance, superadmin, the system)
    kit.platform.earnings.grant_bonus(finance.actor, therapist.account_id, Money(1_234), "referral")
    with pytest.raises(ValidationError) as refused:
        kit.platform.earnings.deduct_penalty(finance.actor, therapist.account_id, Money(1_235), "no-show")
    assert refused.value.code == "earnings.exceeds_available" and "¥12.34" in refused.value.message
