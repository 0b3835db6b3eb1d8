"""The late-arrival rule of the cancellation policy (decision 0025), by table at its boundaries: when an arrival
is late and by how many minutes, what the order records and emits, and how a customer's cancellation or an
absent-customer no-show after it is settled -- fen-exactly, for any amount and any ``late_therapist`` shares."""

from __future__ import annotations

import datetime as dt

import attrs
import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from massage_core.domain.cancellation import (
    FULL_REFUND,
    CancellationCause,
    CancellationPolicy,
    LateArrival,
    Penalty,
    Shares,
    late_arrival,
    settle_cancellation,
)
from massage_core.domain.errors import Conflict, PermissionDenied, ValidationError
from massage_core.domain.ids import AccountId, ServiceId
from massage_core.domain.intervals import Interval
from massage_core.domain.money import Money
from massage_core.domain.order_events import OrderTransitioned, TherapistArrivedLate
from massage_core.domain.order_states import OrderState, Who, order_id
from massage_core.domain.orders import Order

CUSTOMER, THERAPIST, ADMIN = (AccountId(f"acc_{n:026d}") for n in (1, 2, 3))
START = pendulum.datetime(2026, 3, 2, 14, tz="UTC")
POLICY = CancellationPolicy()
FEN = 19_801  # odd: any rounding would show
S, M = dt.timedelta(seconds=1), dt.timedelta(minutes=1)


def departed(fen: int = FEN) -> Order:
    placed = Order.place(order_id("ord_" + "0" * 25 + "1"), CUSTOMER, ServiceId("svc_" + "0" * 25 + "1"),
                         Interval(START, START + dt.timedelta(hours=1)), Money(fen), START - dt.timedelta(days=1),
                         therapist_id=THERAPIST)
    t = Who.therapist(THERAPIST)
    paid = placed.pay(Who.system(), Money(fen), START - dt.timedelta(hours=20))
    return paid.accept(t, START - dt.timedelta(hours=19)).depart(t, START - dt.timedelta(minutes=30))


def arrived(after_start: dt.timedelta, policy: CancellationPolicy = POLICY, fen: int = FEN) -> Order:
    return departed(fen).arrive(Who.therapist(THERAPIST), START + after_start, policy)


# -- when is an arrival late -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("after_start", "minutes"), [
    (-10 * M, None),                       # early
    (dt.timedelta(0), None),               # on the dot
    (15 * M - S, None),
    (15 * M, None),                        # exactly at the grace: on time
    (15 * M + dt.timedelta(microseconds=1), 16),  # any part of a minute counts
    (15 * M + S, 16),                      # one second more: late
    (16 * M, 16),
    (16 * M + S, 17),
    (45 * M, 45),
    (dt.timedelta(hours=3), 180),
])
def test_an_arrival_is_late_beyond_the_grace_by_whole_minutes_rounded_up(
        after_start: dt.timedelta, minutes: int | None) -> None:
    assert POLICY.late_by(START, START + after_start) == minutes
    order = arrived(after_start)
    assert order.state is OrderState.ARRIVED and order.arrived_at == START + after_start
    assert order.late_minutes == minutes
    if minutes is None:
        assert order.late_arrival is None
        assert type(order.events[-1]) is OrderTransitioned and order.timeline[-1].note == ""
    else:
        penalty = Penalty(THERAPIST, CancellationCause.THERAPIST_LATE, START + after_start)
        assert order.late_arrival == LateArrival(minutes, penalty)
        event = order.events[-1]
        assert isinstance(event, TherapistArrivedLate) and event.late == order.late_arrival
        assert (event.action.value, event.to_state, event.actor) == ("arrive", OrderState.ARRIVED, THERAPIST)
        assert order.timeline[-1].note == f"{minutes} min late"
    assert len(order.events) == len(order.timeline)  # still one event per step


def test_the_grace_is_policy_data_and_the_default_policy_applies_without_one() -> None:
    strict = CancellationPolicy(late_arrival_grace=dt.timedelta(0))
    assert arrived(dt.timedelta(0), strict).late_arrival is None
    assert arrived(dt.timedelta(microseconds=1), strict).late_minutes == 1
    assert arrived(30 * M, CancellationPolicy(late_arrival_grace=30 * M)).late_arrival is None
    assert departed().arrive(Who.therapist(THERAPIST), START + 15 * M + S).late_minutes == 16  # default policy


@pytest.mark.parametrize("grace", [-S, 30 * M + S, dt.timedelta(hours=2)])
def test_a_late_arrival_grace_outside_zero_to_the_no_show_grace_is_refused(grace: dt.timedelta) -> None:
    with pytest.raises(ValidationError) as err:
        CancellationPolicy(late_arrival_grace=grace)
    assert err.value.code == "cancellation.policy"


def test_a_late_arrival_record_is_well_formed() -> None:
    with pytest.raises(ValidationError):
        LateArrival(0, Penalty(THERAPIST, CancellationCause.THERAPIST_LATE, START))
    with pytest.raises(ValidationError):
        LateArrival(16, Penalty(THERAPIST, CancellationCause.THERAPIST_NO_SHOW, START))
    unassigned = attrs.evolve(departed(), therapist_id=None)
    assert late_arrival(unassigned, START + M * 20, POLICY) is None


# -- settling after it -------------------------------------------------------------------------------------------


def parts(order: Order) -> tuple[str, int, int, int, str | None]:
    outcome = order.settlement
    assert outcome is not None and outcome.total == order.paid
    penalty = outcome.penalty.cause.value if outcome.penalty else None
    return (outcome.cause.value, outcome.refund.fen, outcome.therapist_compensation.fen,
            outcome.platform_retained.fen, penalty)


@pytest.mark.parametrize(("after_start", "who", "cancel_at", "expected"), [
    # the customer, after a late arrival: a full refund, nothing to the therapist, the lateness already recorded
    (15 * M + S, "customer", 15 * M + S, ("therapist_late", FEN, 0, 0, None)),
    (40 * M, "customer", 55 * M, ("therapist_late", FEN, 0, 0, None)),
    # on time (exactly at the grace): the usual notice rule -- after the start, the late shares
    (15 * M, "customer", 16 * M, ("customer_notice", 0, 15_841, 3_960, None)),
    (-5 * M, "customer", -4 * M, ("customer_notice", 0, 15_841, 3_960, None)),
    # the therapist walks away after arriving late: a second, separate fault
    (20 * M, "therapist", 25 * M, ("therapist_cancelled", FEN, 0, 0, "therapist_cancelled")),
    (20 * M, "admin", 25 * M, ("admin", FEN, 0, 0, None)),
])
def test_cancelling_after_the_arrival(after_start: dt.timedelta, who: str, cancel_at: dt.timedelta,
                                      expected: tuple[str, int, int, int, str | None]) -> None:
    by = {"customer": Who.customer(CUSTOMER), "therapist": Who.therapist(THERAPIST), "admin": Who.admin(ADMIN)}[who]
    before = arrived(after_start)
    cancelled = before.cancel(by, START + cancel_at, POLICY, "too late")
    assert parts(cancelled) == expected
    assert cancelled.late_arrival == before.late_arrival  # the late record stays beside the settlement
    assert cancelled.refund_due.fen == expected[1]
    if expected[1]:
        refunded = cancelled.refund(Who.system(), START + cancel_at + S)
        assert (refunded.state, refunded.refunded, refunded.retained) == (OrderState.REFUNDED, Money(FEN), Money(0))
        assert refunded.late_arrival == before.late_arrival


@pytest.mark.parametrize(("cancel_at", "expected"), [
    (-M, ("customer_notice", 0, 15_841, 3_960, None)),
    (15 * M, ("customer_notice", 0, 15_841, 3_960, None)),           # exactly at the grace: not late yet
    (15 * M + S, ("therapist_late", FEN, 0, 0, "therapist_late")),  # one second more: the therapist's fault
    (29 * M, ("therapist_late", FEN, 0, 0, "therapist_late")),
])
def test_the_customer_cancelling_while_the_therapist_is_still_on_the_way(
        cancel_at: dt.timedelta, expected: tuple[str, int, int, int, str | None]) -> None:
    for waiting in (departed(), attrs.evolve(departed(), state=OrderState.ACCEPTED)):
        cancelled = waiting.cancel(Who.customer(CUSTOMER), START + cancel_at, POLICY)
        assert parts(cancelled) == expected and cancelled.late_arrival is None
        if expected[4]:
            assert cancelled.settlement is not None and cancelled.settlement.penalty == Penalty(
                THERAPIST, CancellationCause.THERAPIST_LATE, START + cancel_at)


def test_a_late_therapist_cannot_claim_the_absent_customers_compensation() -> None:
    late = arrived(20 * M)
    with pytest.raises(Conflict) as err:
        late.mark_no_show(Who.therapist(THERAPIST), START + 40 * M - S, POLICY)
    assert err.value.code == "order.no_show_too_early"  # the customer's grace still runs from the arrival
    absent = late.mark_no_show(Who.therapist(THERAPIST), START + 40 * M, POLICY)
    assert parts(absent) == ("therapist_late", FEN, 0, 0, None)
    on_time = arrived(15 * M).mark_no_show(Who.therapist(THERAPIST), START + 35 * M, POLICY)
    assert parts(on_time) == ("customer_absent", 0, 15_841, 3_960, None)


def test_no_cancellation_by_the_customer_once_the_service_started() -> None:
    started = arrived(30 * M).start(Who.therapist(THERAPIST), START + 31 * M)
    assert started.late_minutes == 30
    with pytest.raises(PermissionDenied) as err:
        started.cancel(Who.customer(CUSTOMER), START + 32 * M, POLICY)
    assert err.value.code == "order.party"
    assert started.finish(Who.therapist(THERAPIST), START + 90 * M).late_minutes == 30


@given(fen=st.integers(0, 10_000_000), refund_bp=st.integers(0, 10_000), therapist_bp=st.integers(0, 10_000),
       late_seconds=st.integers(15 * 60 + 1, 6 * 3600))
def test_late_settlements_conserve_every_fen(fen: int, refund_bp: int, therapist_bp: int, late_seconds: int) -> None:
    therapist_bp = min(therapist_bp, 10_000 - refund_bp)
    policy = CancellationPolicy(late_therapist=Shares(refund_bp, therapist_bp))
    order = arrived(dt.timedelta(seconds=late_seconds), policy, fen)
    assert order.late_minutes == -(-late_seconds // 60)
    outcome = settle_cancellation(order, Who.customer(CUSTOMER), START + dt.timedelta(seconds=late_seconds), policy)
    assert outcome.total == Money(fen) and outcome.penalty is None
    for part, bp in ((outcome.refund, refund_bp), (outcome.therapist_compensation, therapist_bp)):
        assert abs(part.fen * 10_000 - fen * bp) < 10_000
    assert FULL_REFUND == POLICY.late_therapist
