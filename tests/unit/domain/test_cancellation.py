"""Cancellation and no-show settlements: the defaults by example, and for any amount, notice and policy the
three parts conserve every fen and each is within one fen of its exact share."""

from __future__ import annotations

import datetime as dt

import attrs
import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from massage_core.domain.cancellation import (
    CancellationCause,
    CancellationOutcome,
    CancellationPolicy,
    NoticeWindow,
    Shares,
    settle_cancellation,
    settle_no_show,
)
from massage_core.domain.errors import Conflict, ValidationError
from massage_core.domain.ids import AccountId, ServiceId
from massage_core.domain.intervals import Interval
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderParty, OrderState, Who, order_id
from massage_core.domain.orders import Order

CUSTOMER, THERAPIST, ADMIN = AccountId("acc_" + "0" * 25 + "1"), AccountId("acc_" + "0" * 25 + "2"), AccountId(
    "acc_" + "0" * 25 + "3")
START = pendulum.datetime(2026, 3, 2, 14, tz="UTC")
POLICY = CancellationPolicy()
PARTIES = {OrderParty.CUSTOMER: Who.customer(CUSTOMER), OrderParty.THERAPIST: Who.therapist(THERAPIST),
           OrderParty.ADMIN: Who.admin(ADMIN), OrderParty.SYSTEM: Who.system()}


def paid_order(fen: int, state: OrderState = OrderState.ACCEPTED) -> Order:
    placed = Order.place(order_id("ord_" + "0" * 25 + "1"), CUSTOMER, ServiceId("svc_" + "0" * 25 + "1"),
                         Interval(START, START + dt.timedelta(hours=1)), Money(fen), START - dt.timedelta(days=1),
                         therapist_id=THERAPIST)
    return attrs.evolve(placed, state=state, paid=Money(fen))


def customer_cancels(fen: int, notice: dt.timedelta, policy: CancellationPolicy = POLICY) -> CancellationOutcome:
    return settle_cancellation(paid_order(fen), Who.customer(CUSTOMER), START - notice, policy)


@pytest.mark.parametrize(("notice", "refund", "therapist", "platform"), [
    (dt.timedelta(hours=5), 19_800, 0, 0),
    (dt.timedelta(hours=4), 19_800, 0, 0),
    (dt.timedelta(hours=4) - dt.timedelta(seconds=1), 9_900, 7_920, 1_980),
    (dt.timedelta(hours=1), 9_900, 7_920, 1_980),
    (dt.timedelta(minutes=59), 0, 15_840, 3_960),
    (-dt.timedelta(minutes=15), 0, 15_840, 3_960),  # after the start, within the late-arrival grace
])
def test_the_default_notice_windows(notice: dt.timedelta, refund: int, therapist: int, platform: int) -> None:
    outcome = customer_cancels(19_800, notice)
    assert (outcome.refund.fen, outcome.therapist_compensation.fen, outcome.platform_retained.fen) == (
        refund, therapist, platform)
    assert outcome.cause is CancellationCause.CUSTOMER_NOTICE and outcome.penalty is None


@pytest.mark.parametrize("state", [OrderState.PENDING_PAYMENT, OrderState.AWAITING_ACCEPTANCE,
                                   OrderState.REDISPATCHING])
def test_cancelling_before_acceptance_is_free_even_at_the_last_minute(state: OrderState) -> None:
    outcome = settle_cancellation(paid_order(19_800, state), Who.customer(CUSTOMER), START, POLICY)
    assert (outcome.cause, outcome.refund) == (CancellationCause.CUSTOMER_FREE, Money(19_800))
    strict = attrs.evolve(POLICY, free_before_acceptance=False)
    assert settle_cancellation(paid_order(19_800, state), Who.customer(CUSTOMER), START, strict).refund == Money(0)


def test_a_therapist_cancellation_refunds_in_full_and_records_a_penalty() -> None:
    outcome = settle_cancellation(paid_order(19_800), Who.therapist(THERAPIST), START, POLICY)
    assert outcome.refund == Money(19_800) and outcome.cause is CancellationCause.THERAPIST_CANCELLED
    assert outcome.penalty is not None and outcome.penalty.therapist_id == THERAPIST


@pytest.mark.parametrize("party", [OrderParty.ADMIN, OrderParty.SYSTEM])
def test_admin_and_system_cancellations_refund_in_full_without_penalty(party: OrderParty) -> None:
    outcome = settle_cancellation(paid_order(19_800), PARTIES[party], START, POLICY)
    assert (outcome.refund, outcome.penalty, outcome.by) == (Money(19_800), None, party)


def test_no_shows_depend_on_who_was_absent() -> None:
    arrived = attrs.evolve(paid_order(19_800, OrderState.ARRIVED), arrived_at=START)
    with pytest.raises(Conflict):
        settle_no_show(arrived, Who.therapist(THERAPIST), START + dt.timedelta(minutes=19), POLICY)
    absent = settle_no_show(arrived, Who.therapist(THERAPIST), START + dt.timedelta(minutes=20), POLICY)
    assert (absent.cause, absent.refund, absent.therapist_compensation) == (
        CancellationCause.CUSTOMER_ABSENT, Money(0), Money(15_840))
    departed = paid_order(19_800, OrderState.DEPARTED)
    with pytest.raises(Conflict):
        settle_no_show(departed, Who.customer(CUSTOMER), START + dt.timedelta(minutes=29), POLICY)
    missing = settle_no_show(departed, Who.customer(CUSTOMER), START + dt.timedelta(minutes=30), POLICY)
    assert (missing.cause, missing.refund) == (CancellationCause.THERAPIST_NO_SHOW, Money(19_800))
    assert missing.penalty is not None and missing.penalty.cause is CancellationCause.THERAPIST_NO_SHOW


def test_a_policy_is_validated() -> None:
    with pytest.raises(ValidationError):
        Shares(6_000, 5_000)
    with pytest.raises(ValidationError):
        Shares(-1, 0)
    with pytest.raises(ValidationError):
        CancellationPolicy(windows=(NoticeWindow(dt.timedelta(hours=1), Shares(0, 0)),
                                    NoticeWindow(dt.timedelta(hours=2), Shares(0, 0))))
    with pytest.raises(ValidationError):
        CancellationPolicy(customer_grace=dt.timedelta(0))


amounts = st.integers(0, 10**10)
notices = st.timedeltas(min_value=-dt.timedelta(days=2), max_value=dt.timedelta(days=30))


@st.composite
def shares(draw: st.DrawFn) -> Shares:
    refund = draw(st.integers(0, 10_000))
    return Shares(refund, draw(st.integers(0, 10_000 - refund)))


@st.composite
def policies(draw: st.DrawFn) -> CancellationPolicy:
    bounds = sorted(set(draw(st.lists(st.integers(-120, 10_000), max_size=5))), reverse=True)
    windows = tuple(NoticeWindow(dt.timedelta(minutes=m), draw(shares())) for m in bounds)
    return CancellationPolicy(windows=windows, late=draw(shares()), absent=draw(shares()),
                              late_arrival_grace=dt.timedelta(seconds=draw(st.integers(0, 1800))),
                              late_therapist=draw(shares()))


def _conserves(outcome: CancellationOutcome, fen: int) -> None:
    parts = (outcome.refund, outcome.therapist_compensation, outcome.platform_retained)
    assert sum(p.fen for p in parts) == fen == outcome.total.fen
    exact = (outcome.shares.refund_bp, outcome.shares.therapist_bp, outcome.shares.platform_bp)
    for part, bp in zip(parts, exact):
        assert part.fen >= 0 and abs(part.fen * 10_000 - fen * bp) < 10_000


@given(fen=amounts, notice=notices, policy=policies(), party=st.sampled_from(list(OrderParty)),
       state=st.sampled_from([OrderState.AWAITING_ACCEPTANCE, OrderState.ACCEPTED, OrderState.DEPARTED,
                              OrderState.ARRIVED, OrderState.IN_SERVICE]))
def test_every_cancellation_conserves_every_fen(fen: int, notice: dt.timedelta, policy: CancellationPolicy,
                                                 party: OrderParty, state: OrderState) -> None:
    outcome = settle_cancellation(paid_order(fen, state), PARTIES[party], START - notice, policy)
    _conserves(outcome, fen)
    waited = party is OrderParty.CUSTOMER and state in (OrderState.ACCEPTED, OrderState.DEPARTED) and (
        -notice > policy.late_arrival_grace)  # the therapist is late and not there (decision 25)
    assert (outcome.penalty is not None) == (party is OrderParty.THERAPIST or waited)


@given(fen=amounts, late_by=st.timedeltas(min_value=dt.timedelta(hours=1), max_value=dt.timedelta(days=1)),
       policy=policies(), arrived=st.booleans())
def test_every_no_show_conserves_every_fen(fen: int, late_by: dt.timedelta, policy: CancellationPolicy,
                                           arrived: bool) -> None:
    state = OrderState.ARRIVED if arrived else OrderState.ACCEPTED
    order = attrs.evolve(paid_order(fen, state), arrived_at=START if arrived else None)
    outcome = settle_no_show(order, Who.admin(ADMIN), START + late_by, policy)
    _conserves(outcome, fen)
    assert (outcome.penalty is None) == arrived


@given(fen=amounts, notice=notices, later=st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=1)))
def test_more_notice_never_refunds_less(fen: int, notice: dt.timedelta, later: dt.timedelta) -> None:
    # Past start + late_arrival_grace the therapist is late and the refund is full (decision 25).
    notice = max(notice, -POLICY.late_arrival_grace)
    assert customer_cancels(fen, notice).refund.fen <= customer_cancels(fen, notice + later).refund.fen
