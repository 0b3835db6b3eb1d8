"""What an order tells the people on it (issue 7, decision 0043): one ``Note`` per new timeline step.

Every order change goes through a few single places (``OrderFlows._act``, the payment callback, the jobs'
``_one``, the broadcast grab, a complaint's refund); each calls ``notify_order`` with the order as loaded and as
it is about to be saved, *inside* the unit of work, before the commit -- so a rollback writes nothing and a
replayed callback or a rerun timer, which adds no new step, writes nothing either.

What the steps send (recipient; urgency; business key):

* an offer (``pay`` or ``redispatch`` leaving the order ``awaiting_acceptance``): the offered therapist, or on a
  broadcast every eligible therapist (``order.offered``; urgent: the offer lapses after
  ``Policies.acceptance_timeout_minutes``, so quiet hours must not hold it; ``order:<id>:offer:<n>``, n = offers
  made);
* ``reject`` followed by a new offer: the customer (``order.rejected``; normal; ``order:<id>:rejected:<n>``);
* ``accept``: the customer (``order.accepted``; normal; ``order:<id>:accept``);
* ``depart`` / ``arrive``: the customer (``order.departed`` / ``order.arrived``; urgent);
* ``finish``: the customer, asked to confirm and review (``order.finished``; normal);
* ``cancel`` / ``mark_no_show``: customer and therapist, with the fee and the refund (``order.cancelled`` /
  ``order.no_show``; urgent) -- the therapist only when the order had been offered to them (paid), the customer
  not when they cancelled it themselves before paying;
* ``refund``: the customer (``order.refunded``; normal; ``order:<id>:refunded``);
* ``remind``: customer and therapist (``order.reminder``; urgent: held by quiet hours it could
  arrive after the visit began; ``order:<id>:remind:<lead>``);
* the payment about to expire (the expiry rule's look-ahead, no step): the customer (``order.payment_expiring``;
  urgent; ``order:<id>:payment_expiring``; once by the outbox's dedupe key).

Values carry only what a recipient may see: the therapist's name masked (``王**``), the service's name, the visit's
time (rendered in the recipient's zone) and money; never a phone number, the address or an ID number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

from massage_core.domain.ids import AccountId
from massage_core.domain.masking import mask_name
from massage_core.domain.money import Money
from massage_core.domain.notifications import Category, Urgency
from massage_core.domain.order_states import OrderAction, OrderParty, OrderState
from massage_core.domain.orders import Order
from massage_core.domain.pricing import distance_m
from massage_core.domain.templates import Value
from massage_core.domain.therapists import TherapistProfile
from massage_core.domain.time import Instant
from massage_core.ports.orders import entered_state_at
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.base import Dependencies
from massage_core.services.notify import Note, enqueue

Broadcast = Callable[[UnitOfWork, Order, Instant], Sequence[TherapistProfile]]
"""Who a broadcast order is offered to now (dispatch's eligible therapists)."""

ORDERS, URGENT, NORMAL = Category.ORDERS, Urgency.URGENT, Urgency.NORMAL
SIMPLE: Mapping[OrderAction, tuple[str, Urgency]] = {
    OrderAction.ACCEPT: ("order.accepted", NORMAL),
    OrderAction.DEPART: ("order.departed", URGENT),
    OrderAction.ARRIVE: ("order.arrived", URGENT),
    OrderAction.FINISH: ("order.finished", NORMAL),
}
"""Steps that tell the customer only, keyed ``order:<id>:<action>`` (each happens once per order)."""


def therapist_name(uow: UnitOfWork, therapist: AccountId | None) -> str:
    """The therapist as a customer sees them in a message: the real name masked to its first character."""
    profile = None if therapist is None else uow.therapists.find(therapist)
    return mask_name(profile.real_name) if profile is not None else "-"


def service_name(uow: UnitOfWork, order: Order) -> str:
    """The name of the order's service, as the catalogue shows it."""
    return uow.catalog_services.get(order.service_id).name


def _km(profile: TherapistProfile, order: Order) -> str:
    if order.address is None:
        return "-"
    return f"{distance_m(profile.area, order.address.point) / 1000:.1f} km"


def _fee_and_refund(order: Order) -> dict[str, Value]:
    zero = Money.zero(order.paid.currency)
    settled = order.settlement
    if settled is None:
        return {"order": order.id, "fee": zero, "refund": zero}
    return {"order": order.id, "fee": settled.therapist_compensation + settled.platform_retained,
            "refund": settled.refund}


def _told_of_end(order: Order, by: OrderParty, was: OrderState | None) -> tuple[AccountId, ...]:
    """Who hears that an order was cancelled or closed as a no-show: the customer, unless they cancelled it
    themselves before paying (nothing happened that they do not know); the therapist, when the order was offered
    to them (it had been paid)."""
    unpaid = was is OrderState.PENDING_PAYMENT
    told: tuple[AccountId, ...] = () if unpaid and by is OrderParty.CUSTOMER else (order.customer_id,)
    if order.therapist_id is not None and not unpaid:
        told += (order.therapist_id,)
    return told


def order_notes(uow: UnitOfWork, before: Order, after: Order, broadcast: Broadcast | None,
                now: Instant) -> list[Note]:
    """The notes of the steps ``after`` added to ``before`` (see the module docstring)."""
    notes: list[Note] = []
    oid, customer = after.id, after.customer_id
    for step in after.timeline[len(before.timeline):]:
        action = step.action
        if action in SIMPLE:
            event, urgency = SIMPLE[action]
            values: dict[str, Value] = {"order": oid}
            if action is OrderAction.ACCEPT:
                values |= {"therapist": therapist_name(uow, after.therapist_id), "start": after.scheduled.start}
            elif action is OrderAction.DEPART:
                values = {"therapist": therapist_name(uow, after.therapist_id), "eta": after.scheduled.start}
            elif action is OrderAction.ARRIVE:
                values["therapist"] = therapist_name(uow, after.therapist_id)
            notes.append(Note(event, f"order:{oid}:{action.value}", (customer,), values, ORDERS, urgency))
        elif action in (OrderAction.CANCEL, OrderAction.MARK_NO_SHOW):
            event = "order.cancelled" if action is OrderAction.CANCEL else "order.no_show"
            parties = _told_of_end(after, step.party, step.from_state)
            if parties:
                notes.append(Note(event, f"order:{oid}:{action.value}", parties, _fee_and_refund(after), ORDERS,
                                  URGENT))
        elif action is OrderAction.REFUND:
            notes.append(Note("order.refunded", f"order:{oid}:refunded", (customer,),
                              {"order": oid, "amount": after.refunded}, ORDERS))
        elif action is OrderAction.REMIND:
            parties = (customer,) if after.therapist_id is None else (customer, after.therapist_id)
            notes.append(Note("order.reminder", f"order:{oid}:remind:{step.note}", parties,
                              {"order": oid, "start": after.scheduled.start, "service": service_name(uow, after)},
                              ORDERS, URGENT))
        elif action is OrderAction.REJECT and after.state is OrderState.AWAITING_ACCEPTANCE:
            notes.append(Note("order.rejected", f"order:{oid}:rejected:{after.offers_made}", (customer,),
                              {"order": oid}, ORDERS))
    last = after.timeline[-1].action if len(after.timeline) > len(before.timeline) else None
    if after.state is OrderState.AWAITING_ACCEPTANCE and last in (OrderAction.PAY, OrderAction.REDISPATCH):
        notes += _offer(uow, after, broadcast, now)
    return notes


def _offer(uow: UnitOfWork, order: Order, broadcast: Broadcast | None, now: Instant) -> list[Note]:
    if order.therapist_id is not None:
        found = uow.therapists.find(order.therapist_id)
        profiles: Sequence[TherapistProfile] = () if found is None else (found,)
    else:
        profiles = () if broadcast is None else broadcast(uow, order, now)
    if not profiles:
        return []
    by_id = {p.id: p for p in profiles}
    common: dict[str, Value] = {"order": order.id, "service": service_name(uow, order),
                                "start": order.scheduled.start}

    def values(recipient: AccountId) -> Mapping[str, Value]:
        return common | {"distance": _km(by_id[recipient], order)}

    return [Note("order.offered", f"order:{order.id}:offer:{order.offers_made}", tuple(by_id), values, ORDERS,
                 URGENT)]


def notify_order(uow: UnitOfWork, deps: Dependencies, before: Order, after: Order, now: Instant,
                 broadcast: Broadcast | None = None) -> int:
    """Write the notes of ``after``'s new steps to the outbox in ``uow``; returns how many messages were new."""
    return sum(enqueue(uow, deps, note, now) for note in order_notes(uow, before, after, broadcast, now))


def warn_expiring_payments(uow: UnitOfWork, deps: Dependencies, now: Instant, limit: int) -> int:
    """The expiry rule's look-ahead: tell the customer of each unpaid order whose payment window closes within
    ``Policies.payment_expiry_notice_minutes`` that it must be paid before then; once per order (the outbox
    ignores the dedupe key the second time).  Returns how many messages were new."""
    policies = deps.policies
    window = dt.timedelta(minutes=policies.payment_window_minutes)
    notice = dt.timedelta(minutes=policies.payment_expiry_notice_minutes)
    written = 0
    for order in uow.orders.due(OrderState.PENDING_PAYMENT, now - window + notice, limit=limit):
        deadline = entered_state_at(order) + window
        if order.state is OrderState.PENDING_PAYMENT and now < deadline:
            written += enqueue(uow, deps, Note("order.payment_expiring", f"order:{order.id}:payment_expiring",
                                               (order.customer_id,), {"order": order.id, "deadline": deadline},
                                               ORDERS, URGENT), now)
    return written


def late_refund(uow: UnitOfWork, deps: Dependencies, order: Order, amount: Money, now: Instant) -> int:
    """A payment that arrived for an order no longer payable was refunded in full: tell the customer."""
    return enqueue(uow, deps, Note("order.refunded", f"order:{order.id}:late_refund", (order.customer_id,),
                                   {"order": order.id, "amount": amount}, ORDERS), now)
