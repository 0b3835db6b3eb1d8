"""The order state machine: one explicit transition table, with the parties allowed to fire each action.

::

    pending_payment ──pay──▶ awaiting_acceptance ──accept──▶ accepted ──depart──▶ departed
    departed ──arrive──▶ arrived ──start──▶ in_service ──finish──▶ finished ──complete──▶ completed
    pending_payment ──expire_payment──▶ payment_expired
    awaiting_acceptance ──reject──▶ redispatching ──redispatch──▶ awaiting_acceptance
    pending_payment .. arrived ──cancel──▶ cancelled ──refund──▶ refunded   (in_service: admin only)
    accepted / departed / arrived ──mark_no_show──▶ no_show ──refund──▶ refunded
    finished / completed ──dispute──▶ disputed ──refund──▶ refunded
    disputed ──dismiss_dispute──▶ completed
    departed / arrived / in_service ──sos──▶ (the same state; an urgent event)
    accepted ──remind──▶ (the same state; the system's reminder before the start, decision 0021)

What each state means (decision 0016 has the full reasoning):

* ``pending_payment``: placed with a quote; the therapist's time is held until the payment window closes.
* ``awaiting_acceptance``: paid; offered to one therapist, or broadcast (no therapist yet) for the first to grab.
* ``redispatching``: the offer was rejected or timed out; the system looks for somebody else (no therapist).
* ``accepted`` / ``departed`` / ``arrived`` / ``in_service``: the assigned therapist's progress.
* ``finished``: the therapist says the massage is over; the customer confirms or disputes, or it auto-completes.
* ``completed``: confirmed; the money is the therapist's and the platform's.  May still be disputed.
* ``cancelled``: ended before the service by somebody (recorded); the settlement says who gets what.
* ``no_show``: the customer was absent after the therapist arrived, or the therapist never came.
* ``refunded``: money went back to the customer (in full or part); the end of the order.
* ``disputed``: the customer contests a finished visit; an admin refunds or dismisses.
* ``payment_expired``: never paid in time; nothing was charged.

Terminal (no action leaves them): ``payment_expired`` and ``refunded``.  ``cancelled`` and ``no_show`` only
leave through ``refund``, which needs a refund still due.
"""

from __future__ import annotations

import enum
from typing import NewType

from attrs import field, frozen

from massage_core.domain.errors import InvalidTransition, PermissionDenied, ValidationError
from massage_core.domain.ids import AccountId, check_id
from massage_core.domain.time import Instant

OrderId = NewType("OrderId", str)


def order_id(raw: object) -> OrderId:
    """Validate and type an order id (``ord_`` + 26 base32 characters)."""
    return OrderId(check_id("order", raw))


class OrderState(enum.StrEnum):
    """Where an order is; see the module docstring for what each state means."""

    PENDING_PAYMENT = "pending_payment"
    AWAITING_ACCEPTANCE = "awaiting_acceptance"
    REDISPATCHING = "redispatching"
    ACCEPTED = "accepted"
    DEPARTED = "departed"
    ARRIVED = "arrived"
    IN_SERVICE = "in_service"
    FINISHED = "finished"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    PAYMENT_EXPIRED = "payment_expired"
    NO_SHOW = "no_show"
    REFUNDED = "refunded"
    DISPUTED = "disputed"


class OrderAction(enum.StrEnum):
    """Everything that can happen to an order (``place`` only creates it and is not in the table)."""

    PLACE = "place"
    PAY = "pay"
    EXPIRE_PAYMENT = "expire_payment"
    ACCEPT = "accept"
    REJECT = "reject"
    REDISPATCH = "redispatch"
    DEPART = "depart"
    ARRIVE = "arrive"
    START = "start"
    FINISH = "finish"
    COMPLETE = "complete"
    CANCEL = "cancel"
    MARK_NO_SHOW = "mark_no_show"
    DISPUTE = "dispute"
    DISMISS_DISPUTE = "dismiss_dispute"
    REFUND = "refund"
    SOS = "sos"
    REMIND = "remind"


class OrderParty(enum.StrEnum):
    """Who fires an action: the order's customer, its assigned therapist, an admin, or the system (timers,
    verified payment callbacks)."""

    CUSTOMER = "customer"
    THERAPIST = "therapist"
    ADMIN = "admin"
    SYSTEM = "system"


Step = tuple[OrderState, frozenset[OrderParty]]


def order_transitions() -> dict[tuple[OrderState, OrderAction], Step]:
    """The whole machine: (state, action) -> (next state, the parties who may fire it)."""
    s, a = OrderState, OrderAction
    customer, therapist = frozenset({OrderParty.CUSTOMER}), frozenset({OrderParty.THERAPIST})
    admin, system = frozenset({OrderParty.ADMIN}), frozenset({OrderParty.SYSTEM})
    table: dict[tuple[OrderState, OrderAction], Step] = {
        (s.PENDING_PAYMENT, a.PAY): (s.AWAITING_ACCEPTANCE, system),
        (s.PENDING_PAYMENT, a.EXPIRE_PAYMENT): (s.PAYMENT_EXPIRED, system),
        (s.PENDING_PAYMENT, a.CANCEL): (s.CANCELLED, customer | admin),
        (s.AWAITING_ACCEPTANCE, a.ACCEPT): (s.ACCEPTED, therapist),
        (s.AWAITING_ACCEPTANCE, a.REJECT): (s.REDISPATCHING, therapist | system),
        (s.AWAITING_ACCEPTANCE, a.CANCEL): (s.CANCELLED, customer | admin),
        (s.REDISPATCHING, a.REDISPATCH): (s.AWAITING_ACCEPTANCE, system | admin),
        (s.REDISPATCHING, a.CANCEL): (s.CANCELLED, customer | admin | system),
        (s.ACCEPTED, a.DEPART): (s.DEPARTED, therapist),
        (s.DEPARTED, a.ARRIVE): (s.ARRIVED, therapist),
        (s.ARRIVED, a.START): (s.IN_SERVICE, therapist),
        (s.IN_SERVICE, a.FINISH): (s.FINISHED, therapist),
        (s.IN_SERVICE, a.CANCEL): (s.CANCELLED, admin),
        (s.FINISHED, a.COMPLETE): (s.COMPLETED, customer | system),
        (s.FINISHED, a.DISPUTE): (s.DISPUTED, customer),
        (s.COMPLETED, a.DISPUTE): (s.DISPUTED, customer),
        (s.DISPUTED, a.REFUND): (s.REFUNDED, admin),
        (s.DISPUTED, a.DISMISS_DISPUTE): (s.COMPLETED, admin),
        (s.CANCELLED, a.REFUND): (s.REFUNDED, system | admin),
        (s.NO_SHOW, a.REFUND): (s.REFUNDED, system | admin),
    }
    for booked in (s.ACCEPTED, s.DEPARTED, s.ARRIVED):
        table[(booked, a.CANCEL)] = (s.CANCELLED, customer | therapist | admin)
    for waiting_for_therapist in (s.ACCEPTED, s.DEPARTED):
        table[(waiting_for_therapist, a.MARK_NO_SHOW)] = (s.NO_SHOW, customer | admin)
    table[(s.ARRIVED, a.MARK_NO_SHOW)] = (s.NO_SHOW, therapist | admin)
    for visiting in (s.DEPARTED, s.ARRIVED, s.IN_SERVICE):
        table[(visiting, a.SOS)] = (visiting, therapist)
    table[(s.ACCEPTED, a.REMIND)] = (s.ACCEPTED, system)
    return table


def allowed_actions(state: OrderState) -> tuple[OrderAction, ...]:
    """The actions the table allows in ``state``, in declaration order."""
    return tuple(action for (source, action) in order_transitions() if source is state)


def next_state(state: OrderState, action: OrderAction, by: OrderParty) -> OrderState:
    """The state after ``action``.  InvalidTransition when the table has no such step (naming the allowed
    actions); PermissionDenied (``order.party``) when ``by`` may not fire it."""
    step = order_transitions().get((state, action))
    if step is None:
        raise InvalidTransition(state.value, action.value, [a.value for a in allowed_actions(state)])
    target, parties = step
    if by not in parties:
        names = " or ".join(sorted(p.value for p in parties))
        raise PermissionDenied(f"only the {names} may {action.value} in state {state.value}", code="order.party")
    return target


def is_terminal(state: OrderState) -> bool:
    """True when no action leaves ``state``."""
    return not allowed_actions(state)


VISIT_STATES = frozenset({OrderState.DEPARTED, OrderState.ARRIVED, OrderState.IN_SERVICE})
"""An active visit: the therapist may raise an SOS."""

BEFORE_ACCEPTANCE = frozenset({OrderState.PENDING_PAYMENT, OrderState.AWAITING_ACCEPTANCE,
                               OrderState.REDISPATCHING})
"""No therapist has committed yet: a customer cancels for free (when the policy says so)."""

TIME_HOLDING_STATES = frozenset({OrderState.PENDING_PAYMENT, OrderState.AWAITING_ACCEPTANCE, OrderState.ACCEPTED,
                                 OrderState.DEPARTED, OrderState.ARRIVED, OrderState.IN_SERVICE})
"""States in which the order's therapist (when it has one) keeps a live reservation for the visit."""


class CustomerStatus(enum.StrEnum):
    """The coarse groups a customer filters their orders by."""

    PENDING_PAYMENT = "pending_payment"
    PENDING_SERVICE = "pending_service"
    IN_SERVICE = "in_service"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


def customer_status(state: OrderState) -> CustomerStatus:
    """The customer-facing group of a state (a disputed order stays 'completed' until resolved)."""
    s, c = OrderState, CustomerStatus
    groups: dict[OrderState, CustomerStatus] = {
        s.PENDING_PAYMENT: c.PENDING_PAYMENT,
        s.AWAITING_ACCEPTANCE: c.PENDING_SERVICE, s.REDISPATCHING: c.PENDING_SERVICE, s.ACCEPTED: c.PENDING_SERVICE,
        s.DEPARTED: c.IN_SERVICE, s.ARRIVED: c.IN_SERVICE, s.IN_SERVICE: c.IN_SERVICE,
        s.FINISHED: c.COMPLETED, s.COMPLETED: c.COMPLETED, s.DISPUTED: c.COMPLETED,
        s.CANCELLED: c.CANCELLED, s.PAYMENT_EXPIRED: c.CANCELLED, s.NO_SHOW: c.CANCELLED,
        s.REFUNDED: c.REFUNDED,
    }
    return groups[state]


def _account_for(instance: Who, _attribute: object, value: AccountId | None) -> None:
    if (value is None) != (instance.party is OrderParty.SYSTEM):
        raise ValidationError("the system acts without an account; everybody else with one", code="order.who")


@frozen
class Who:
    """The party acting on an order and, unless it is the system, the acting account."""

    party: OrderParty
    account_id: AccountId | None = field(default=None, validator=_account_for)

    @classmethod
    def customer(cls, account: AccountId) -> Who:
        return cls(OrderParty.CUSTOMER, account)

    @classmethod
    def therapist(cls, account: AccountId) -> Who:
        return cls(OrderParty.THERAPIST, account)

    @classmethod
    def admin(cls, account: AccountId) -> Who:
        return cls(OrderParty.ADMIN, account)

    @classmethod
    def system(cls) -> Who:
        return cls(OrderParty.SYSTEM)

    @property
    def label(self) -> str:
        """``system`` or the acting account id, as kept in the timeline."""
        return self.account_id or "system"


@frozen
class OrderStep:
    """One timeline entry: when, what, by which party and account, from which state to which, and a note."""

    at: Instant
    action: OrderAction
    party: OrderParty
    actor: str
    from_state: OrderState | None
    to_state: OrderState
    note: str = ""
