"""Read models of the complaints context: what ``platform.complaints`` returns (decision 0038).

The parties (the customer and the therapist) see the whole complaint with its timeline, except who at the
platform acted: an admin's account id is shown as ``platform`` to them; mediators see everything.
"""

from __future__ import annotations

from attrs import frozen

from massage_core.domain.complaints import (
    Complaint,
    ComplaintAction,
    ComplaintCategory,
    ComplaintId,
    ComplaintParty,
    ComplaintState,
    ComplaintStep,
    Outcome,
)
from massage_core.domain.ids import AccountId
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderId
from massage_core.domain.time import Instant

PLATFORM = "platform"
"""What the parties see instead of an admin's account id."""


@frozen
class ComplaintView:
    """One complaint as a party or a mediator sees it.

    ``timeline``: every step (when, what, which party, who, from and to which state, the note: the description,
    the answer, a mediator's note); ``allowed``: what the workflow allows now (whoever may fire it);
    ``outcome``/``amount``/``resolution_note``/``resolved_at``: the resolution, None until resolved (``amount``
    is the refund or the penalty, zero for the other outcomes).
    """

    id: ComplaintId
    order_id: OrderId
    customer_id: AccountId
    therapist_id: AccountId
    category: ComplaintCategory
    description: str
    evidence: tuple[str, ...]
    state: ComplaintState
    filed_at: Instant
    answer_due: Instant
    answer: str | None
    answered_at: Instant | None
    mediator: str | None
    outcome: Outcome | None
    amount: Money | None
    resolution_note: str | None
    resolved_at: Instant | None
    timeline: tuple[ComplaintStep, ...]
    allowed: tuple[ComplaintAction, ...]

    @classmethod
    def of(cls, complaint: Complaint, *, staff: bool) -> ComplaintView:
        """The view of ``complaint``; ``staff`` False hides the admins' account ids."""

        def who(account: str | None) -> str | None:
            return account if staff or account is None else PLATFORM

        steps = complaint.timeline if staff else tuple(
            ComplaintStep(s.at, s.action, s.party, PLATFORM, s.from_state, s.to_state, s.note)
            if s.party is ComplaintParty.ADMIN else s for s in complaint.timeline)
        decided = complaint.resolution
        return cls(
            complaint.id, complaint.order_id, complaint.customer_id, complaint.therapist_id, complaint.category,
            complaint.description, complaint.evidence, complaint.state, complaint.filed_at, complaint.answer_due,
            complaint.answer, complaint.answered_at, who(complaint.mediator_id),
            decided.outcome if decided else None, decided.amount if decided else None,
            decided.note if decided else None, decided.at if decided else None, steps, complaint.allowed_actions())


@frozen
class ComplaintPage:
    """One page of complaints."""

    items: tuple[ComplaintView, ...]
    offset: int
    limit: int


@frozen
class Escalated:
    """What one escalation run did: the complaints moved to mediation, and those found overdue that another run
    (or the therapist's answer, or an admin) handled first."""

    fired: tuple[ComplaintId, ...]
    skipped: int
