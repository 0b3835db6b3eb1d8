"""The money outcomes of a complaint's resolution (decision 0038): a refund through the order's own refund path,
or a penalty posted once under the complaint's key.  Part of ``platform.complaints``."""

from __future__ import annotations

from massage_core.domain import postings
from massage_core.domain.access import Actor
from massage_core.domain.complaints import Complaint, Outcome
from massage_core.domain.errors import Conflict, ValidationError
from massage_core.domain.ids import AccountId
from massage_core.domain.ledger import Book, LedgerAccount
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderState, Who
from massage_core.domain.orders import Order
from massage_core.domain.time import Instant
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.deductions import exceeds_available
from massage_core.services.order_money import post_new_steps
from massage_core.services.order_payments import OrderFlows, refund_number

REFUNDABLE = frozenset({OrderState.FINISHED, OrderState.COMPLETED, OrderState.DISPUTED})
"""Order states from which a refund outcome may still move money (what the order retains)."""
NOTHING_TO_REFUND = "complaint.nothing_to_refund"


def money_or_fen(value: Money | int | None) -> Money | None:
    """An amount given as Money or integer fen (None stays None); ValidationError ``complaint.amount``."""
    if value is None or isinstance(value, Money):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Money(value)
    raise ValidationError("amount must be Money or integer fen", code="complaint.amount", field="amount")


def refundable(order: Order) -> Money:
    """What a refund outcome may still give back on ``order``: all it retains while finished, completed or
    disputed; nothing once cancelled, no-show or refunded (their refunds are settled by the order itself)."""
    if order.state in REFUNDABLE:
        return order.retained
    return Money.zero(order.paid.currency)



class ComplaintOutcomes(OrderFlows):
    """Base of ``ComplaintsService``: what a resolution does to the money."""

    def _refund_outcome(self, uow: UnitOfWork, complaint: Complaint, outcome: Outcome, wanted: Money | None,
                        me: AccountId, now: Instant, details: dict[str, str]) -> Money:
        """Dispute (for the customer, when not disputed yet) and refund the order in this unit of work."""
        order = uow.orders.get(complaint.order_id)
        left = refundable(order)
        if left.fen == 0:
            raise Conflict(f"order {order.id} has nothing left to refund", code=NOTHING_TO_REFUND)
        if outcome is Outcome.FULL_REFUND:
            if wanted is not None and wanted != left:
                raise ValidationError(f"a full refund is {left}", code="complaint.amount", field="amount")
            wanted = left
        elif wanted is None or not 1 <= wanted.fen <= left.fen or wanted.currency != left.currency:
            raise ValidationError(f"a partial refund is ¥0.01..{left}", code="complaint.amount", field="amount")
        changed = order
        if order.state is OrderState.FINISHED:  # served, not confirmed yet: complete it so what is left is split
            changed = changed.complete(Who.system(), now)
        if order.state is not OrderState.DISPUTED:
            changed = changed.dispute(Who.customer(order.customer_id), now, f"complaint {complaint.id}")
        details.update(order=order.id, refund=refund_number(changed))
        changed = self._refund(changed, Who.admin(me), now, f"complaint {complaint.id}", wanted)
        post_new_steps(uow, order, changed, self._deps.policies.commission)
        self._notify(uow, order, changed, now)
        uow.record(changed.events)
        uow.orders.save(changed)
        return wanted

    def _penalty_outcome(self, uow: UnitOfWork, actor: Actor, complaint: Complaint, wanted: Money | None,
                         now: Instant) -> Money:
        cap = self._deps.policies.adjustment_cap_fen
        if wanted is None or wanted.currency != "CNY" or not 1 <= wanted.fen <= cap:
            raise ValidationError(f"a penalty is ¥0.01..{Money(cap)}", code="complaint.amount", field="amount")
        therapist = complaint.therapist_id
        uow.withdrawals.lock_therapist(therapist)  # serialised with withdrawal requests (decision 0033)
        available = uow.ledger.balance(LedgerAccount.of(Book.THERAPIST_PAYABLE, therapist))
        if available < wanted:  # the figure only for ledger.read holders (support mediates without it)
            raise exceeds_available(actor, available, "complaint.exceeds_available")
        # the memo names the complaint only: the note stays encrypted with it, never in the immutable ledger
        uow.ledger.post(postings.penalty(complaint.id, therapist, wanted, now, f"complaint {complaint.id}"))
        return wanted
