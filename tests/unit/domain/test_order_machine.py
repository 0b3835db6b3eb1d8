"""The order state machine on the domain aggregate.

A model of the table is written out here independently of ``domain.order_states``.  Table tests check
every illegal (state, action) pair and every wrong party; a Hypothesis stateful test drives random actions
by random parties (the rightful account or a stranger) at random times and checks after every step that
the state is legal, only permitted parties moved it, refused attempts changed nothing, the money balances
and the timeline grew by exactly one entry per accepted action.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pendulum
import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from massage_core.domain.cancellation import CancellationCause, CancellationPolicy
from massage_core.domain.errors import Conflict, InvalidTransition, PaymentError, PermissionDenied, ValidationError
from massage_core.domain.ids import AccountId, ServiceId
from massage_core.domain.intervals import Interval
from massage_core.domain.money import Money
from massage_core.domain.order_events import OrderPaid, OrderPlaced, OrderRefunded, OrderSettled, SosRaised
from massage_core.domain.order_states import (
    OrderAction,
    OrderParty,
    OrderState,
    Who,
    customer_status,
    is_terminal,
    order_id,
    order_transitions,
)
from massage_core.domain.orders import Order
from massage_core.domain.time import Instant

C, T, A, S = "customer", "therapist", "admin", "system"
MODEL: dict[str, dict[str, tuple[str, frozenset[str]]]] = {
    "pending_payment": {"pay": ("awaiting_acceptance", frozenset({S})),
                        "expire_payment": ("payment_expired", frozenset({S})),
                        "cancel": ("cancelled", frozenset({C, A}))},
    "awaiting_acceptance": {"accept": ("accepted", frozenset({T})),
                            "reject": ("redispatching", frozenset({T, S})),
                            "cancel": ("cancelled", frozenset({C, A}))},
    "redispatching": {"redispatch": ("awaiting_acceptance", frozenset({S, A})),
                      "cancel": ("cancelled", frozenset({C, A, S}))},
    "accepted": {"depart": ("departed", frozenset({T})), "cancel": ("cancelled", frozenset({C, T, A})),
                 "remind": ("accepted", frozenset({S})),
                 "mark_no_show": ("no_show", frozenset({C, A}))},
    "departed": {"arrive": ("arrived", frozenset({T})), "cancel": ("cancelled", frozenset({C, T, A})),
                 "mark_no_show": ("no_show", frozenset({C, A})), "sos": ("departed", frozenset({T}))},
    "arrived": {"start": ("in_service", frozenset({T})), "cancel": ("cancelled", frozenset({C, T, A})),
                "mark_no_show": ("no_show", frozenset({T, A})), "sos": ("arrived", frozenset({T}))},
    "in_service": {"finish": ("finished", frozenset({T})), "cancel": ("cancelled", frozenset({A})),
                   "sos": ("in_service", frozenset({T}))},
    "finished": {"complete": ("completed", frozenset({C, S})), "dispute": ("disputed", frozenset({C}))},
    "completed": {"dispute": ("disputed", frozenset({C}))},
    "disputed": {"refund": ("refunded", frozenset({A})), "dismiss_dispute": ("completed", frozenset({A}))},
    "cancelled": {"refund": ("refunded", frozenset({S, A}))},
    "no_show": {"refund": ("refunded", frozenset({S, A}))},
    "payment_expired": {},
    "refunded": {},
}
ACTIONS = [a.value for a in OrderAction if a is not OrderAction.PLACE]
PARTIES = [C, T, A, S]


def _acc(n: int) -> AccountId:
    return AccountId(f"acc_{n:026d}")


CUSTOMER, T1, T2, T3, ADMIN, STRANGER = (_acc(n) for n in range(1, 7))
THERAPISTS = [T1, T2, T3]
NOW = pendulum.datetime(2026, 3, 2, 8, tz="UTC")
POLICY = CancellationPolicy()


def place(total: int = 19_800, lead: dt.timedelta = dt.timedelta(hours=6),
          therapist: AccountId | None = T1) -> Order:
    scheduled = Interval(NOW + lead, NOW + lead + dt.timedelta(minutes=90))
    return Order.place(order_id("ord_" + "0" * 25 + "1"), CUSTOMER, ServiceId("svc_" + "0" * 25 + "1"),
                       scheduled, Money(total), NOW, therapist_id=therapist)


def who(party: str, account: AccountId | None) -> Who:
    return Who(OrderParty(party), None if party == S else account)


def fire(order: Order, action: str, by: Who, now: Instant, *, target: AccountId | None = None,
         amount: Money | None = None) -> Order:
    """Call the aggregate method of ``action`` with plausible arguments."""
    calls: dict[str, Callable[[], Order]] = {
        "pay": lambda: order.pay(by, order.total if amount is None else amount, now, "pay-1"),
        "expire_payment": lambda: order.expire_payment(by, now),
        "accept": lambda: order.accept(by, now),
        "reject": lambda: order.reject(by, now, "busy"),
        "redispatch": lambda: order.redispatch(by, now, target),
        "depart": lambda: order.depart(by, now),
        "arrive": lambda: order.arrive(by, now),
        "start": lambda: order.start(by, now),
        "finish": lambda: order.finish(by, now),
        "complete": lambda: order.complete(by, now),
        "cancel": lambda: order.cancel(by, now, POLICY, "plans changed"),
        "mark_no_show": lambda: order.mark_no_show(by, now, POLICY),
        "dispute": lambda: order.dispute(by, now, "too short"),
        "dismiss_dispute": lambda: order.dismiss_dispute(by, now, "full time served"),
        "refund": lambda: order.refund(by, now, amount),
        "sos": lambda: order.sos(by, now, "help"),
        "remind": lambda: order.remind(by, now, 30),
    }
    return calls[action]()


LATE = NOW + dt.timedelta(hours=10)
PATHS: dict[str, list[tuple[str, str]]] = {
    "pending_payment": [],
    "awaiting_acceptance": [("pay", S)],
    "redispatching": [("pay", S), ("reject", T)],
    "accepted": [("pay", S), ("accept", T)],
    "departed": [("pay", S), ("accept", T), ("depart", T)],
    "arrived": [("pay", S), ("accept", T), ("depart", T), ("arrive", T)],
    "in_service": [("pay", S), ("accept", T), ("depart", T), ("arrive", T), ("start", T)],
    "finished": [("pay", S), ("accept", T), ("depart", T), ("arrive", T), ("start", T), ("finish", T)],
    "completed": [("pay", S), ("accept", T), ("depart", T), ("arrive", T), ("start", T), ("finish", T),
                  ("complete", C)],
    "disputed": [("pay", S), ("accept", T), ("depart", T), ("arrive", T), ("start", T), ("finish", T),
                 ("dispute", C)],
    "cancelled": [("pay", S), ("cancel", A)],
    "payment_expired": [("expire_payment", S)],
    "no_show": [("pay", S), ("accept", T), ("mark_no_show", C)],
    "refunded": [("pay", S), ("cancel", A), ("refund", S)],
}
FORWARD = {"pending_payment": "pay", "awaiting_acceptance": "accept", "redispatching": "redispatch",
           "accepted": "depart", "departed": "arrive", "arrived": "start", "in_service": "finish",
           "finished": "complete"}
ACCOUNT = {C: CUSTOMER, T: T1, A: ADMIN, S: None}


def order_in(state: str, lead: dt.timedelta = dt.timedelta(hours=6)) -> Order:
    order = place(lead=lead)
    for action, party in PATHS[state]:
        order = fire(order, action, who(party, ACCOUNT[party]), LATE)
    assert order.state.value == state
    return order


def test_the_table_is_the_model() -> None:
    table = {(s.value, a.value): (t.value, frozenset(p.value for p in parties))
             for (s, a), (t, parties) in order_transitions().items()}
    assert table == {(s, a): step for s, steps in MODEL.items() for a, step in steps.items()}
    assert {s.value for s in OrderState if is_terminal(s)} == {"payment_expired", "refunded"}
    assert {customer_status(s) for s in OrderState} == {
        "pending_payment", "pending_service", "in_service", "completed", "cancelled", "refunded"}


@pytest.mark.parametrize("state", list(MODEL))
@pytest.mark.parametrize("action", ACTIONS)
def test_every_illegal_action_names_the_allowed_ones(state: str, action: str) -> None:
    if action in MODEL[state]:
        return
    order = order_in(state)
    for party in PARTIES:
        with pytest.raises(InvalidTransition) as err:
            fire(order, action, who(party, ACCOUNT[party]), LATE)
        assert (err.value.state, err.value.action) == (state, action)
        assert err.value.allowed == tuple(sorted(MODEL[state]))
        assert err.value.code == "invalid_transition"


@pytest.mark.parametrize(("state", "action"), [(s, a) for s, steps in MODEL.items() for a in steps])
def test_only_the_named_parties_may_fire(state: str, action: str) -> None:
    order = order_in(state)
    for party in set(PARTIES) - MODEL[state][action][1]:
        with pytest.raises(PermissionDenied) as err:
            fire(order, action, who(party, ACCOUNT[party]), LATE)
        assert err.value.code == "order.party"
    for party in MODEL[state][action][1] & {C, T}:
        if action == "accept" and order.therapist_id is None:
            continue  # a broadcast order may be grabbed by any therapist
        with pytest.raises(PermissionDenied) as err:
            fire(order, action, who(party, STRANGER), LATE)
        assert err.value.code == "order.not_yours"


def test_a_full_lifecycle_records_every_step() -> None:
    order = order_in("completed")
    assert [(s.action.value, s.party.value) for s in order.timeline] == [("place", C)] + PATHS["completed"]
    assert [type(e) for e in order.events][:2] == [OrderPlaced, OrderPaid]
    assert (order.paid, order.refunded, order.retained) == (Money(19_800), Money(0), Money(19_800))


def test_rejection_redispatches_and_nobody_left_cancels_and_refunds() -> None:
    order = order_in("redispatching")
    assert order.therapist_id is None and order.rejected_by == (T1,)
    with pytest.raises(Conflict) as err:
        order.redispatch(Who.system(), LATE, T1)
    assert err.value.code == "order.already_rejected"
    broadcast = order.redispatch(Who.system(), LATE, None)
    with pytest.raises(PermissionDenied):
        broadcast.accept(Who.therapist(T1), LATE)
    assert broadcast.accept(Who.therapist(T2), LATE).therapist_id == T2
    given_up = order.cancel(Who.system(), LATE, POLICY)
    assert given_up.settlement is not None and given_up.settlement.cause is CancellationCause.SYSTEM
    refunded = given_up.refund(Who.system(), LATE)
    assert (refunded.state, refunded.refunded, refunded.retained) == (OrderState.REFUNDED, Money(19_800), Money(0))
    assert isinstance(refunded.events[-2], OrderSettled) and isinstance(refunded.events[-1], OrderRefunded)


def test_sos_keeps_the_state_and_records_an_urgent_event() -> None:
    order = order_in("in_service")
    after = order.sos(Who.therapist(T1), LATE, "customer aggressive")
    assert after.state is OrderState.IN_SERVICE
    assert len(after.timeline) == len(order.timeline) + 1
    assert isinstance(after.events[-1], SosRaised) and after.events[-1].note == "customer aggressive"


def test_no_show_needs_the_grace_period() -> None:
    arrived = order_in("arrived", lead=LATE - NOW)  # arrived on time (late arrivals: test_late_arrival_policy)
    with pytest.raises(Conflict) as err:
        arrived.mark_no_show(Who.therapist(T1), LATE + dt.timedelta(minutes=19), POLICY)
    assert err.value.code == "order.no_show_too_early"
    absent = arrived.mark_no_show(Who.therapist(T1), LATE + dt.timedelta(minutes=20), POLICY)
    assert absent.settlement is not None and absent.settlement.cause is CancellationCause.CUSTOMER_ABSENT
    with pytest.raises(Conflict) as err:
        absent.refund(Who.system(), LATE)
    assert err.value.code == "order.nothing_to_refund"


def test_a_mismatched_payment_changes_nothing() -> None:
    order = place()
    with pytest.raises(PaymentError) as err:
        order.pay(Who.system(), Money(19_799), NOW)
    assert err.value.code == "payment.amount_mismatch"
    assert order.state is OrderState.PENDING_PAYMENT and order.paid == Money(0)


class OrderMachine(RuleBasedStateMachine):
    """Model: state, therapist, rejections, clock, arrival, money; the order must agree after every step."""

    @initialize(total=st.integers(0, 10_000_000), lead_minutes=st.integers(10, 480),
                therapist=st.sampled_from([None, T1]))
    def placed(self, total: int, lead_minutes: int, therapist: AccountId | None) -> None:
        self.order = place(total, dt.timedelta(minutes=lead_minutes), therapist)
        self.state = "pending_payment"
        self.therapist = therapist
        self.rejected: list[AccountId] = []
        self.clock = NOW
        self.arrived_at: Instant | None = None
        self.late = False
        self.paid = 0
        self.refunded = 0
        self.due = 0
        self.steps = 1

    def _expect(self, action: str, by: Who, target: AccountId | None, amount: Money | None) -> type[Exception] | None:
        """The model's verdict: None to accept, or the error class."""
        step = MODEL[self.state].get(action)
        if step is None:
            return InvalidTransition
        if by.party.value not in step[1]:
            return PermissionDenied
        if by.party is OrderParty.CUSTOMER and by.account_id != CUSTOMER:
            return PermissionDenied
        if by.party is OrderParty.THERAPIST:
            if action == "accept" and self.therapist is None:
                if by.account_id in self.rejected or by.account_id == CUSTOMER:
                    return PermissionDenied
            elif by.account_id != self.therapist:
                return PermissionDenied
        if action == "pay" and amount is not None and amount.fen != self.order.total.fen:
            return PaymentError
        if action == "redispatch" and target in self.rejected:
            return Conflict
        if action == "mark_no_show":
            arrived, start = self.arrived_at, self.order.scheduled.start
            ready = (arrived + dt.timedelta(minutes=20) if self.state == "arrived" and arrived is not None
                     else start + dt.timedelta(minutes=30))
            if self.clock < ready:
                return Conflict
        if action == "refund":
            if self.state == "disputed":
                wanted = self.paid - self.refunded if amount is None else amount.fen
                if not 1 <= wanted <= self.paid - self.refunded:
                    return ValidationError
            elif self.due == 0:
                return Conflict
            elif amount is not None and amount.fen != self.due:
                return ValidationError
        return None

    def _refund_bp(self, action: str, by: Who) -> int:
        if action == "mark_no_show":
            return 0 if self.state == "arrived" and not self.late else 10_000
        if by.party is not OrderParty.CUSTOMER or self.state in ("pending_payment", "awaiting_acceptance",
                                                                   "redispatching"):
            return 10_000
        if self._therapist_late():
            return 10_000
        notice = self.order.scheduled.start - self.clock
        return 10_000 if notice >= dt.timedelta(hours=4) else 5_000 if notice >= dt.timedelta(hours=1) else 0

    def _therapist_late(self) -> bool:
        """Arrived more than 15 min after the start, or not arrived (accepted, departed) and it is later than that."""
        if self.state == "arrived":
            return self.late
        grace_end = self.order.scheduled.start + dt.timedelta(minutes=15)
        return self.state in ("accepted", "departed") and self.clock > grace_end

    @rule(minutes=st.integers(0, 720))
    def tick(self, minutes: int) -> None:
        self.clock = self.clock + dt.timedelta(minutes=minutes)

    @rule(action=st.sampled_from(ACTIONS), party=st.sampled_from(PARTIES),
          account=st.sampled_from([CUSTOMER, T1, T2, T3, ADMIN, STRANGER]),
          offer=st.sampled_from([None, T1, T2, T3]), amount=st.none() | st.integers(-1, 10_000_001))
    def act(self, action: str, party: str, account: AccountId, offer: AccountId | None,
            amount: int | None) -> None:
        self._attempt(action, who(party, account), offer, None if amount is None else Money(amount))

    @rule(data=st.data())
    def a_rightful_party_acts(self, data: st.DataObject) -> None:
        if MODEL[self.state]:
            action = data.draw(st.sampled_from(sorted(MODEL[self.state])))
            self._rightfully(action, data)

    @rule(data=st.data())
    def the_visit_moves_on(self, data: st.DataObject) -> None:
        action = FORWARD.get(self.state)
        if action is not None:
            self._rightfully(action, data)

    def _rightfully(self, action: str, data: st.DataObject) -> None:
        party = data.draw(st.sampled_from(sorted(MODEL[self.state][action][1])))
        account = {C: CUSTOMER, A: ADMIN, S: None, T: self.therapist}[party]
        if account is None and party == T:
            account = data.draw(st.sampled_from(THERAPISTS))
        offer = data.draw(st.sampled_from([None, T1, T2, T3]))
        held = self.paid - self.refunded
        amount = data.draw(st.none() | st.integers(1, max(held, 1))) if self.state == "disputed" else None
        self._attempt(action, who(party, account), offer, None if amount is None else Money(amount))

    def _attempt(self, action: str, by: Who, offer: AccountId | None, money: Money | None) -> None:
        party = by.party.value
        expected = self._expect(action, by, offer, money)
        before = self.order
        try:
            after = fire(before, action, by, self.clock, target=offer, amount=money)
        except (InvalidTransition, PermissionDenied, Conflict, PaymentError, ValidationError) as err:
            assert expected is not None and isinstance(err, expected), f"{action} by {party}: {err}"
            if isinstance(err, InvalidTransition):
                assert set(err.allowed) == set(MODEL[self.state])
            assert self.order is before and len(before.timeline) == self.steps
            return
        assert expected is None, f"{action} by {party} accepted in {self.state}"
        self._accepted(action, by, offer, after)

    def _accepted(self, action: str, by: Who, target: AccountId | None, after: Order) -> None:
        if action in ("cancel", "mark_no_show"):
            outcome = after.settlement
            assert outcome is not None and outcome.total.fen == self.paid
            assert abs(outcome.refund.fen * 10_000 - self.paid * self._refund_bp(action, by)) < 10_000
            therapist_at_fault = outcome.cause in (CancellationCause.THERAPIST_CANCELLED,
                                                   CancellationCause.THERAPIST_NO_SHOW) or (
                outcome.cause is CancellationCause.THERAPIST_LATE and not self.late)
            assert (outcome.penalty is not None) == therapist_at_fault
            late_rule = self._therapist_late() and ((action == "cancel" and by.party is OrderParty.CUSTOMER)
                                                    or (action == "mark_no_show" and self.state == "arrived"))
            assert (outcome.cause is CancellationCause.THERAPIST_LATE) == late_rule
            if late_rule:
                event(f"{action} after the therapist was late")
            self.due = outcome.refund.fen
        if action == "pay":
            self.paid = self.order.total.fen
        if action == "refund":
            self.refunded = after.refunded.fen
            self.due = 0
        if action == "accept":
            self.therapist = by.account_id
        if action == "reject":
            if self.therapist is not None:
                self.rejected.append(self.therapist)
            self.therapist = None
        if action == "redispatch":
            self.therapist = target
        if action == "arrive":
            self.arrived_at = self.clock
            self.late = self.clock > self.order.scheduled.start + dt.timedelta(minutes=15)
            assert (after.late_arrival is not None) == self.late
        self.state = MODEL[self.state][action][0]
        event(f"reached {self.state}")
        self.steps += 1
        self.order = after

    @invariant()
    def agrees_with_the_model(self) -> None:
        order = self.order
        assert order.state.value == self.state
        assert order.therapist_id == self.therapist
        assert list(order.rejected_by) == self.rejected

    @invariant()
    def money_balances(self) -> None:
        order = self.order
        assert (order.paid.fen, order.refunded.fen) == (self.paid, self.refunded)
        assert order.paid == order.refunded + order.retained
        assert 0 <= order.refunded.fen <= order.paid.fen
        assert order.refund_due.fen == (self.due if self.state in ("cancelled", "no_show") else 0)

    @invariant()
    def timeline_has_one_entry_per_accepted_action_by_permitted_parties(self) -> None:
        timeline = self.order.timeline
        assert len(timeline) == self.steps == len(self.order.events)
        assert timeline[0].action is OrderAction.PLACE and timeline[-1].to_state.value == self.state
        for earlier, later in zip(timeline, timeline[1:]):
            assert later.from_state is earlier.to_state
            target, parties = MODEL[later.from_state.value][later.action.value]
            assert later.to_state.value == target and later.party.value in parties


OrderMachine.TestCase.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)
TestOrderMachine = OrderMachine.TestCase
