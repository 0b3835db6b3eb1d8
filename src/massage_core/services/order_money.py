"""Orders -> ledger (issue 5): the journal entries an order's new timeline steps post, in the same unit of work
as the step (decision 0031).

Every order change goes through one place (``post_new_steps``), called with the order as loaded and as it is
about to be saved; each *new* step posts what it means for the money:

* ``pay``: the capture (``postings.captured``);
* ``refund``: the refund, keyed by the gateway refund number (``<order>-r<position>``); after a completion it
  takes the amount back from what the completion credited, read from the stored completion entry itself, so a
  later change of the commission policy cannot make the two disagree; after the settlement, no more than the
  therapist's available balance (the platform bears the rest, decision 0032);
* ``complete`` / ``dismiss_dispute`` reaching ``completed``: the completion split of the order's bill at the
  commission rate for the level it was priced at (posted once: a second completion after a dismissed dispute
  posts the same lines under the same key, which the ledger ignores);
* ``cancel`` / ``mark_no_show``: the settlement's kept part (therapist compensation, platform revenue).

The business keys make a replay of the same step (a retried unit of work) a no-op.
"""

from __future__ import annotations

from massage_core.domain.ids import AccountId
from massage_core.domain.ledger import Book, JournalEntry, LedgerAccount, Side
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderAction, OrderState
from massage_core.domain.orders import Order
from massage_core.domain.postings import (
    Charges,
    CommissionPolicy,
    Split,
    cancellation_split,
    captured,
    completed,
    refunded,
    refunded_after_completion,
)
from massage_core.domain.quotes import LineKind
from massage_core.domain.time import Instant
from massage_core.ports.unit_of_work import UnitOfWork


def charges_of(order: Order) -> Charges:
    """The order's charges from its bill; an order without one (booked before bills were kept) is all
    commissionable."""
    if not order.bill:
        zero = Money.zero(order.total.currency)
        return Charges(order.total, zero, zero, zero)

    def amount(*kinds: LineKind) -> Money:
        return Money(sum(line.amount.fen for line in order.bill if line.kind in kinds), order.total.currency)

    return Charges(amount(LineKind.SERVICE, LineKind.NIGHT, LineKind.HOLIDAY), amount(LineKind.TRAVEL),
                   -amount(LineKind.DISCOUNT), amount(LineKind.TIP))


def _completion_split(uow: UnitOfWork, order: Order) -> tuple[Split, bool] | None:
    """The split the stored completion entry made, and whether the order was settled since."""
    entry = uow.ledger.entry(f"order:{order.id}:completed")
    if entry is None or order.therapist_id is None:
        return None

    def credited(book: Book) -> Money:
        return Money(sum(ln.amount.fen for ln in entry.lines if ln.side is Side.CREDIT and ln.account.book is book),
                     order.total.currency)

    share = Split(0, credited(Book.COMMISSION_REVENUE), credited(Book.THERAPIST_PENDING), credited(Book.TIPS_PAYABLE))
    return share, uow.ledger.entry(f"order:{order.id}:settled") is not None


def _entry_for(uow: UnitOfWork, order: Order, position: int, commission: CommissionPolicy) -> JournalEntry | None:
    step = order.timeline[position]
    at: Instant = step.at
    if step.action is OrderAction.PAY:
        return captured(order.id, order.paid, at)
    if step.action is OrderAction.REFUND:
        moved = Money.parse_yuan(step.note)  # the refund step's note is the amount it moved
        if any(s.to_state is OrderState.COMPLETED for s in order.timeline[:position]) \
                or _served_then_disputed(order, position):
            found = _completion_split(uow, order)
            if found is not None and order.therapist_id is not None:
                share, settled_already = found
                therapist = AccountId(order.therapist_id)
                recoverable = None
                if settled_already:  # never claw the payable balance below zero (serialised with withdrawals)
                    uow.withdrawals.lock_therapist(therapist)
                    recoverable = uow.ledger.balance(LedgerAccount.of(Book.THERAPIST_PAYABLE, therapist))
                return refunded_after_completion(order.id, f"{order.id}-r{position}", therapist, share, moved, at,
                                                 settled_already=settled_already, recoverable=recoverable)
        return refunded(order.id, f"{order.id}-r{position}", moved, at)
    if step.to_state is OrderState.COMPLETED and step.from_state is not OrderState.COMPLETED:
        if order.therapist_id is None or order.paid.fen == 0:
            return None
        rate = commission.rate(order.level, order.service_id)
        return completed(order.id, AccountId(order.therapist_id), charges_of(order), rate, at)
    if step.action in (OrderAction.CANCEL, OrderAction.MARK_NO_SHOW) and order.settlement is not None:
        outcome = order.settlement
        if order.paid.fen == 0:
            return None
        return cancellation_split(order.id, order.therapist_id, outcome.therapist_compensation,
                                  outcome.platform_retained, at)
    return None


def _served_then_disputed(order: Order, position: int) -> bool:
    """Whether the refund step at ``position`` refunds a visit that was finished, disputed and never completed:
    the visit took place, so what the refund leaves is the therapist's and the platform's like a completion's."""
    step, earlier = order.timeline[position], order.timeline[:position]
    return (step.action is OrderAction.REFUND and step.from_state is OrderState.DISPUTED
            and any(s.to_state is OrderState.FINISHED for s in earlier)
            and not any(s.to_state is OrderState.COMPLETED for s in earlier))


def post_new_steps(uow: UnitOfWork, before: Order | None, after: Order, commission: CommissionPolicy) -> None:
    """Post the entries of the steps ``after`` has beyond ``before`` (all of them for a new order).

    A refund of a disputed visit that was never completed first posts the completion split (keyed like any
    completion, so once), then takes the refund back from it like a refund after completion: the part the
    customer does not get back is split and settles, instead of staying in customer prepayments."""
    first = len(before.timeline) if before is not None else 0
    for position in range(first, len(after.timeline)):
        if (_served_then_disputed(after, position) and after.therapist_id is not None and after.paid.fen > 0
                and uow.ledger.entry(f"order:{after.id}:completed") is None):
            rate = commission.rate(after.level, after.service_id)
            uow.ledger.post(completed(after.id, AccountId(after.therapist_id), charges_of(after), rate,
                                      after.timeline[position].at))
        entry = _entry_for(uow, after, position, commission)
        if entry is not None:
            uow.ledger.post(entry)
