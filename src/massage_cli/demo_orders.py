"""The orders chapter of ``massage demo``: quote, book, pay, serve and complete; a late cancellation; "any
therapist" matched automatically and a broadcast grabbed; a coupon; spending.

Rerunnable on the same database: every run books the fresh therapist of the catalogue chapter at her free
slots.  The cancellation "two hours before" moves the demo's clock forward for that one step (the clock
wraps the system clock with an offset, and goes back to real time afterwards).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable

import pendulum

from massage_core.adapters.memory.payments import SandboxPaymentGateway
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor
from massage_core.domain.time import Instant, local
from massage_core.ports.clock import Clock
from massage_cli.demo_messages import chat_story, inbox_story
from massage_cli.demo_reviews import reviews_story

LAT, LNG = 31.2400, 121.4800  # the customer's flat, 1.2 km north-east of People's Square


class ShiftedClock(Clock):
    """The system clock plus an offset the demo may move forward to play a later moment."""

    def __init__(self) -> None:
        self._offset = dt.timedelta(0)

    def now(self) -> Instant:
        """The current instant in UTC, shifted."""
        return pendulum.now("UTC") + self._offset

    def jump_to(self, when: Instant) -> None:
        """Make ``when`` the current instant (the clock keeps ticking from there)."""
        self._offset = when - pendulum.now("UTC")

    def reset(self) -> None:
        """Back to real time."""
        self._offset = dt.timedelta(0)


def _free_starts(platform: Platform, therapist_id: str, minutes: int) -> list[Instant]:
    today = pendulum.now("Asia/Shanghai").date()
    slots = platform.schedules.free_slots(Actor.anonymous(), therapist_id, minutes, today,
                                          today + dt.timedelta(days=6))
    return [s.start for s in slots.slots]


def order_story(platform: Platform, customer: Actor, therapist: Actor, service: str, clock: ShiftedClock,
                gateway: SandboxPaymentGateway, say: Callable[[str, str], None], admin: Actor) -> None:
    """Li Na books Chen Jing, pays through the sandbox, gets her massage; a second booking is cancelled late."""
    assert therapist.account_id is not None
    orders, tid = platform.orders, therapist.account_id
    minutes = platform.catalog.service(Actor.anonymous(), service).duration_minutes
    first = _free_starts(platform, tid, minutes)[0]
    quote = orders.quote(customer, therapist=tid, service=service, start=first, lat=LAT, lng=LNG)
    items = ", ".join(f"{line.kind.value} {line.amount}" for line in quote.lines)
    say("quote", f"Li Na asks for a quote for Chen Jing at {local(first):%a %H:%M} ({quote.distance_m} m away): "
        f"{items} = {quote.total}, valid until {local(quote.valid_until):%H:%M}")
    booked = orders.book(customer, therapist=tid, service=service, start=first, lat=LAT, lng=LNG)
    say("order", f"she books: order {booked.id} is {booked.state.value}; her time is held while she pays")
    headers, body = gateway.simulate_payment(booked.id)
    paid = orders.payment_callback(headers, body)
    again = orders.payment_callback(*gateway.simulate_payment(booked.id))
    say("payment", f"the sandbox gateway's signed callback paid {paid.paid} -> {paid.state.value}; a replayed "
        f"callback changes nothing ({'unchanged' if again == paid else 'CHANGED'}, still version {again.version})")
    for step in (orders.accept, orders.depart, orders.arrive, orders.start, orders.finish):
        step(therapist, booked.id)
    done = orders.complete(customer, booked.id)
    say("service", "Chen Jing accepts, departs, arrives, starts and finishes; Li Na confirms: "
        + " -> ".join(s.to_state.value for s in done.timeline))
    pending = platform.ledger.balance(admin, f"therapist_pending:{tid}")
    say("ledger", f"the books: the completion split {done.total} -- Chen Jing's pending earnings now {pending}, "
        f"the platform's commission at the policy's rate, every fen in a balanced journal entry")

    second = next(s for s in _free_starts(platform, tid, minutes) if s > first + dt.timedelta(hours=3))
    later = orders.book(customer, therapist=tid, service=service, start=second, lat=LAT, lng=LNG)
    orders.payment_callback(*gateway.simulate_payment(later.id))
    orders.accept(therapist, later.id)
    clock.jump_to(second - dt.timedelta(hours=2))
    try:
        cancelled = orders.cancel(customer, later.id, "a meeting came up")
    finally:
        clock.reset()
    split = cancelled.settlement
    assert split is not None
    say("cancel", f"Li Na books {local(second):%a %H:%M} too, pays {cancelled.paid}, and cancels 2 hours before: "
        f"the policy refunds {split.refund}, pays Chen Jing {split.therapist_compensation} and keeps "
        f"{split.platform_retained} -> {cancelled.state.value}")
    _payday(platform, therapist, admin, clock, say)
    grabbed = _dispatch_story(platform, customer, therapist, service, admin, gateway, say, after=second)
    chat_story(platform, customer, therapist, grabbed, say)
    reviews_story(platform, customer, therapist, admin, booked.id, grabbed, service, say)
    spent = orders.spending(customer)
    say("spending", f"Li Na's spending: paid {spent.paid} over {spent.orders} order(s), refunded {spent.refunded}, "
        f"net {spent.net}")
    inbox_story(platform, customer, therapist, admin, say)


def _dispatch_story(platform: Platform, customer: Actor, therapist: Actor, service: str, admin: Actor,
                    gateway: SandboxPaymentGateway, say: Callable[[str, str], None], after: Instant) -> str:
    """"Any therapist" with a coupon (best match), then a broadcast Chen Jing grabs; returns the grabbed order."""
    assert therapist.account_id is not None
    orders, tid = platform.orders, therapist.account_id
    minutes = platform.catalog.service(Actor.anonymous(), service).duration_minutes
    code = f"WELCOME{secrets.randbelow(10**6):06d}"
    now = pendulum.now("UTC")
    platform.coupons.create(admin, "Welcome 20", valid_from=now, valid_until=now.add(days=7), amount_off=2_000,
                            code=code, single_use=True)
    free = [s for s in _free_starts(platform, tid, minutes) if s > after + dt.timedelta(hours=3)]
    anyone = orders.book(customer, service=service, start=free[0], lat=LAT, lng=LNG, coupon=code,
                         address="黄浦区南京东路100号 3单元 1201")
    orders.payment_callback(*gateway.simulate_payment(anyone.id))
    say("dispatch", f"Li Na books 'any therapist' at {local(free[0]):%a %H:%M} with coupon {code} (-¥20.00): the "
        f"best match by distance, rating, load and acceptance rate is "
        f"{'Chen Jing' if anyone.therapist_id == tid else anyone.therapist_id}; she pays {anyone.total}")
    wide = next(s for s in free if s > free[0] + dt.timedelta(hours=3))
    broadcast = orders.book(customer, service=service, start=wide, lat=LAT, lng=LNG, dispatch="broadcast",
                            address="黄浦区南京东路100号 3单元 1201")
    orders.payment_callback(*gateway.simulate_payment(broadcast.id))
    offer = next(o for o in orders.offers(therapist) if o.order_id == broadcast.id)
    grabbed = orders.grab(therapist, broadcast.id)
    say("dispatch", f"a broadcast for {local(wide):%a %H:%M}: Chen Jing sees {offer.total}, {offer.distance_m} m, "
        f"'{offer.area}' (the door stays hidden) and grabs it first -> {grabbed.state.value}")
    return grabbed.id


def _payday(platform: Platform, therapist: Actor, admin: Actor, clock: ShiftedClock,
            say: Callable[[str, str], None]) -> None:
    """Eight days later the completed visit and the late cancellation's compensation settle; Chen Jing withdraws
    what is available and is paid."""
    clock.jump_to(clock.now() + dt.timedelta(days=8))
    try:
        report = platform.jobs.run_due(Actor.system())
        money = platform.earnings.summary(therapist)
        say("earnings", f"8 days later the timers settle what is due ({report.settle.fired} order(s) on the platform, her "
            f"visit and her cancellation compensation among them): Chen Jing has "
            f"{money.available} available, {money.pending} pending")
        if money.available.fen >= platform.deps.policies.withdrawals.min_amount.fen:
            asked = platform.withdrawals.request(therapist, money.available)
            platform.withdrawals.approve(admin, asked.id)
            paid = platform.withdrawals.pay(admin, asked.id)
            say("payout", f"she withdraws {asked.amount}; finance approves; the payout gateway pays {paid.net} "
                f"({paid.state.value}, {paid.payout_reference})")
    finally:
        clock.reset()
