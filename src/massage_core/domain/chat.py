"""Order chat and virtual numbers: the messages, the read marks, the number bindings and the window (T7).

The customer and the assigned therapist of an order talk from the acceptance until
``Policies.chat_after_completion_hours`` after the order completed (decision 0045):

* ``accepted`` .. ``finished``: open;
* ``completed`` / ``disputed``: open until that many hours after the visit ended (a later dispute or its
  dismissal does not reopen it);
* before acceptance (``pending_payment``, ``awaiting_acceptance``, ``redispatching``): not open yet
  (Conflict ``chat.not_open``);
* ended without a visit or refunded (``cancelled``, ``no_show``, ``refunded``, ``payment_expired``): closed at
  once (Conflict ``chat.closed``).

A message is stored only as its masked text (``Screener.screen(text).masked()``), with the kinds of what the
screener masked; the original text is never stored.  Each message of an order has a sequence number
(1, 2, ...); a read mark is the highest sequence number a party has read.
"""

from __future__ import annotations

import datetime as dt
import enum

from attrs import frozen

from massage_core.domain.errors import Conflict, ValidationError
from massage_core.domain.ids import AccountId
from massage_core.domain.order_states import OrderId, OrderState
from massage_core.domain.orders import Order
from massage_core.domain.time import Instant

TEXT_MAX = 500
"""The longest message, in characters (after trimming)."""

VISIT_STATES = frozenset({OrderState.ACCEPTED, OrderState.DEPARTED, OrderState.ARRIVED, OrderState.IN_SERVICE,
                   OrderState.FINISHED})
"""The states in which the chat is open whatever the time (the visit is on)."""
AFTER_STATES = frozenset({OrderState.COMPLETED, OrderState.DISPUTED})
"""The states after the visit in which the chat stays open for ``chat_after_completion_hours``."""
_NOT_YET = frozenset({OrderState.PENDING_PAYMENT, OrderState.AWAITING_ACCEPTANCE, OrderState.REDISPATCHING})


class ChatParty(enum.StrEnum):
    """Who wrote a message."""

    CUSTOMER = "customer"
    THERAPIST = "therapist"


@frozen
class ChatMessage:
    """One message of an order's chat: ``text`` is already masked; ``findings`` names what was masked
    (the screener's kinds, e.g. ``phone``, ``contact_id``); ``seq`` is 0 until the repository stored it."""

    order_id: OrderId
    seq: int
    sender_id: AccountId
    party: ChatParty
    text: str
    findings: tuple[str, ...]
    sent_at: Instant

    @property
    def masked(self) -> bool:
        """True when the screener hid something in the text."""
        return bool(self.findings)


@frozen
class NumberBinding:
    """A virtual number bound for an order's two parties: either dials ``number`` and reaches the other.

    ``reference`` is the provider's id of the binding (what ``VirtualNumbers.release`` takes)."""

    order_id: OrderId
    number: str
    reference: str
    customer_id: AccountId
    therapist_id: AccountId
    bound_at: Instant
    expires_at: Instant
    released_at: Instant | None = None

    def live_at(self, now: Instant) -> bool:
        """Not released and not expired at ``now``."""
        return self.released_at is None and now < self.expires_at


def chat_text(value: object) -> str:
    """A message: 1..TEXT_MAX characters after trimming (ValidationError ``chat.text``)."""
    text = value.strip() if isinstance(value, str) else None
    if not text or len(text) > TEXT_MAX:
        raise ValidationError(f"a message must be 1..{TEXT_MAX} characters", code="chat.text", field="text")
    return text


def entered(order: Order) -> Instant:
    """When ``order`` entered its current state (the last step that changed it; ``placed_at`` without one)."""
    for step in reversed(order.timeline):
        if step.from_state is not step.to_state:
            return step.at
    return order.placed_at


def visit_ended(order: Order) -> Instant:
    """When the visit ended: the step that took the order out of the visit into ``completed`` or ``disputed``
    (a dispute raised days after the completion, or its dismissal, is not a new end); ``entered`` without one."""
    for step in order.timeline:
        if step.from_state in VISIT_STATES and step.to_state in AFTER_STATES:
            return step.at
    return entered(order)


def closes_at(order: Order, after_hours: int) -> Instant | None:
    """When the chat of a completed or disputed order closes, ``after_hours`` after the visit ended; None while
    the visit is still on (or the chat never opened / is closed: ``check_open`` tells those apart)."""
    if order.state in AFTER_STATES:
        return visit_ended(order) + dt.timedelta(hours=after_hours)
    return None


def is_open(order: Order, now: Instant, after_hours: int) -> bool:
    """True when the order's parties may chat at ``now``."""
    if order.therapist_id is None:
        return False
    if order.state in VISIT_STATES:
        return True
    closes = closes_at(order, after_hours)
    return closes is not None and now < closes


def check_open(order: Order, now: Instant, after_hours: int) -> None:
    """Raise Conflict ``chat.not_open`` before the acceptance, ``chat.closed`` once the chat closed."""
    if is_open(order, now, after_hours):
        return
    if order.state in _NOT_YET:
        raise Conflict(f"the chat of order {order.id} opens when a therapist accepts it", code="chat.not_open")
    raise Conflict(f"the chat of order {order.id} is closed", code="chat.closed")


def binding_expiry(order: Order, now: Instant, after_hours: int, auto_complete_hours: int) -> Instant:
    """How long a number bound at ``now`` should live: the chat's closing time once known, else the visit's
    end (or now, if later) plus the auto-completion delay plus the chat's hours after completion."""
    closes = closes_at(order, after_hours)
    if closes is not None:
        return closes
    base = max(order.scheduled.end, now)
    return base + dt.timedelta(hours=auto_complete_hours + after_hours)
