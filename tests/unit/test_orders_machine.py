"""A Hypothesis state machine driving ``platform.orders``: random actions by random actors at random times.

Orders are booked with a chosen therapist, auto-matched or broadcast; therapists accept, grab, reject (so
dispatch re-offers), mark no-shows; the timers run.  After every step: every order is in a legal state, every
step was fired by a party the transition table allows, money balances (paid = refunded + retained) and agrees
with the sandbox gateway's own ledger, and each therapist's live reservations are exactly those of the orders
that hold their time.  A refused action changes no order.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from conftest import Kit, fast_hasher
from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.memory.ids import SequentialIdGenerator
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor
from massage_core.domain.errors import MassageError
from massage_core.domain.order_states import OrderState, order_transitions
from massage_core.domain.ledger import Book, LedgerAccount
from massage_core.domain.orders import Order
from massage_core.domain.payments import PaymentStatus
from order_kit import LAT, LNG, START, SYSTEM, advance, catalogue, gateway, make_public

ACTORS = ("customer", "stranger", "therapist", "rival", "support", "system")
ACTIONS = ("accept", "grab", "reject", "depart", "arrive", "start", "finish", "sos", "complete", "cancel",
           "dispute", "refund", "mark_no_show")
MODES = ("chosen", "auto", "broadcast")



class OrderMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = FixedClock()
        self.platform = Platform.in_memory(clock=self.clock, ids=SequentialIdGenerator(), hasher=fast_hasher())
        kit = Kit(self.platform, self.clock)
        self.shop = catalogue(self.platform)
        therapist, rival = kit.therapist(), kit.therapist()
        for person in (therapist, rival):
            make_public(self.platform, person.account_id, self.shop)
        self.therapist_id = therapist.account_id
        self.serving = (therapist.account_id, rival.account_id)
        self.actors: dict[str, Actor] = {
            "customer": kit.customer_by_phone().actor, "stranger": kit.customer_by_phone().actor,
            "therapist": therapist.actor, "rival": rival.actor, "support": kit.support().actor, "system": SYSTEM}
        self.orders: list[str] = []

    def _orders(self) -> dict[str, Order]:
        return dict(self.platform.deps.uow().__dict__["_store"].tables.orders)  # type: ignore[no-any-return]

    def _attempt(self, call: Any) -> None:
        before = self._orders()
        try:
            call()
        except MassageError:
            assert self._orders() == before, "a refused action changed an order"

    @rule(who=st.sampled_from(ACTORS), slot=st.integers(0, 3), service=st.booleans(), mode=st.sampled_from(MODES))
    def book(self, who: str, slot: int, service: bool, mode: str) -> None:
        def go() -> None:
            chosen = {"therapist": self.therapist_id} if mode == "chosen" else {"dispatch": mode}
            view = self.platform.orders.book(self.actors[who], service=self.shop.tuina if service else self.shop.spa,
                                             start=START.add(hours=2 * slot), lat=LAT, lng=LNG, **chosen)
            self.orders.append(view.id)
        self._attempt(go)

    @rule(data=st.data())
    def pay(self, data: st.DataObject) -> None:
        if not self.orders:
            return
        order = data.draw(st.sampled_from(self.orders))
        if gateway(self.platform).query(order).status is not PaymentStatus.PENDING:
            return
        headers, body = gateway(self.platform).simulate_payment(order)
        self._attempt(lambda: self.platform.orders.payment_callback(headers, body))
        self._attempt(lambda: self.platform.orders.payment_callback(headers, body))  # a replay

    @rule(data=st.data(), who=st.sampled_from(ACTORS), action=st.sampled_from(ACTIONS))
    def act(self, data: st.DataObject, who: str, action: str) -> None:
        if not self.orders:
            return
        order = data.draw(st.sampled_from(self.orders))
        args: tuple[Any, ...] = {"reject": ("too far",), "dispute": ("too short",), "sos": ("help",),
                                 "refund": (data.draw(st.integers(1, 30_000)),)}.get(action, ())
        self._attempt(lambda: getattr(self.platform.orders, action)(self.actors[who], order, *args))

    @rule(data=st.data(), action=st.sampled_from(ACTIONS + ("dismiss_dispute",)))
    def party_acts(self, data: st.DataObject, action: str) -> None:
        """The party an action is meant for fires it on one of the orders (so money moves often)."""
        if not self.orders:
            return
        order = self._orders().get(data.draw(st.sampled_from(self.orders)))
        if order is None:
            return
        if action in ("refund", "dismiss_dispute"):
            actor = self.actors["support"]
        elif action in ("cancel", "complete", "dispute") or (action == "mark_no_show" and data.draw(st.booleans())):
            actor = next(a for a in self.actors.values() if a.account_id == order.customer_id)
        else:
            actor = self.actors["therapist" if order.therapist_id != self.serving[1] else "rival"]
        args: tuple[Any, ...] = {"reject": ("too far",), "dispute": ("too short",), "sos": ("help",),
                                 "dismiss_dispute": ("served in full",),
                                 "refund": (data.draw(st.integers(1, 30_000)),)}.get(action, ())
        self._attempt(lambda: getattr(self.platform.orders, action)(actor, order.id, *args))

    @rule(data=st.data(), upto=st.sampled_from(("arrived", "finished", "completed")))
    def serve(self, data: st.DataObject, upto: str) -> None:
        """Walk a paid order along the happy path (so deep states are reached often)."""
        if not self.orders:
            return
        order = self._orders().get(data.draw(st.sampled_from(self.orders)))
        if order is None or order.therapist_id is None or order.state is not OrderState.AWAITING_ACCEPTANCE:
            return
        serving = self.actors["therapist" if order.therapist_id == self.therapist_id else "rival"]
        customer = next(a for a in self.actors.values() if a.account_id == order.customer_id)
        self._attempt(lambda: advance(self.platform, order.id, serving, customer, upto))

    @rule()
    def timers(self) -> None:
        self.platform.jobs.run_due(SYSTEM)

    @rule(minutes=st.integers(1, 40))
    def wait(self, minutes: int) -> None:
        if self.clock.now() + dt.timedelta(minutes=minutes) < START.subtract(hours=2):
            self.clock.advance(dt.timedelta(minutes=minutes))

    @invariant()
    def orders_are_legal_and_balanced(self) -> None:
        table = order_transitions()
        now = self.clock.now()
        live = {(who, r.reference) for who in self.serving for r in self.platform.schedules.reservations(
            SYSTEM, who, start=START.subtract(days=1), end=START.add(days=1))}
        window = dt.timedelta(minutes=self.platform.deps.policies.payment_window_minutes)
        holding = set()
        for order in self._orders().values():
            assert isinstance(order.state, OrderState)
            for step in order.timeline[1:]:
                assert step.from_state is not None
                target, parties = table[(step.from_state, step.action)]
                assert step.to_state is target and step.party in parties
            assert order.paid == order.refunded + order.retained and not order.retained.is_negative
            record = gateway(self.platform).query(order.id)
            captured = record.amount.fen if record.status is PaymentStatus.PAID else 0
            assert captured - record.refunded.fen == order.retained.fen
            lapsed = order.state is OrderState.PENDING_PAYMENT and now >= order.placed_at + window
            if order.holds_therapist_time and not lapsed:
                holding.add((order.therapist_id, order.id))
        assert live == holding
        self._ledger_agrees(self._orders().values())

    def _ledger_agrees(self, orders: Any) -> None:
        """The books: the gateway clearing account holds exactly what orders kept of their payments; customer
        prepayments hold what orders kept that was neither split by a completion nor by a cancellation; every
        order that was ever completed was split exactly once."""
        with self.platform.deps.uow() as uow:
            clearing = uow.ledger.balance(LedgerAccount.of(Book.GATEWAY_CLEARING)).fen
            owed = uow.ledger.balance(LedgerAccount.of(Book.CUSTOMER_PREPAYMENTS)).fen
            completions = {o.id for o in orders if uow.ledger.entry(f"order:{o.id}:completed") is not None}
        assert clearing == sum(o.retained.fen for o in orders)
        unsplit = sum(o.retained.fen for o in orders if o.settlement is None and not any(
            s.to_state is OrderState.COMPLETED for s in o.timeline))
        assert owed == unsplit
        assert completions == {o.id for o in orders if o.paid.fen and any(
            s.to_state is OrderState.COMPLETED for s in o.timeline)}


OrderMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=30, deadline=None,
                                          suppress_health_check=[HealthCheck.too_slow])
TestOrderMachine = OrderMachine.TestCase
