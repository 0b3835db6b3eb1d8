"""Read models of the reviews context: what each kind of reader may see of a review (decision 0037).

* the public (anybody, also the therapist reviewed): approved, no longer blind reviews -- no customer id, no
  moderation details, the reply only once approved;
* the author (the customer): everything of their own review, including its moderation outcome (state and
  reason) and whether it is still blind; the reply only once approved;
* the therapist reviewed: the public view plus the customer id and their own reply with its outcome;
* moderators: everything.
"""

from __future__ import annotations

from attrs import frozen

from massage_core.domain.ids import AccountId
from massage_core.domain.order_states import OrderId
from massage_core.domain.reviews import ModerationState, Reply, Review, ReviewId, Tag
from massage_core.domain.time import Instant


@frozen
class ReplyView:
    """The therapist's reply; ``state``/``reason``/``findings`` only for the therapist and moderators."""

    text: str
    at: Instant
    state: ModerationState
    reason: str | None = None
    findings: tuple[str, ...] = ()


@frozen
class ReviewView:
    """One review as its reader may see it (see the module docstring).

    ``state``/``reason`` are the moderation outcome (``approved``/None for the public), ``findings`` the
    screener's finding kinds (moderators and the author), ``visible`` whether the double blind is lifted."""

    id: ReviewId
    order_id: OrderId | None
    therapist_id: AccountId
    customer_id: AccountId | None
    attitude: int
    skill: int
    pressure: int
    overall: float
    text: str
    tags: tuple[Tag, ...]
    submitted_at: Instant
    state: ModerationState
    reason: str | None
    visible: bool
    masked: bool = False
    findings: tuple[str, ...] = ()
    reply: ReplyView | None = None


def _reply(reply: Reply | None, *, details: bool) -> ReplyView | None:
    if reply is None:
        return None
    if details:
        m = reply.moderation
        return ReplyView(reply.text, reply.at, m.state, m.reason, m.findings)
    if not reply.moderation.approved:
        return None
    return ReplyView(reply.text, reply.at, ModerationState.APPROVED)


def _view(review: Review, now: Instant, *, order: bool, customer: bool, moderation: bool,
          reply_details: bool) -> ReviewView:
    s, m = review.scores, review.moderation
    return ReviewView(
        id=review.id, order_id=review.order_id if order else None, therapist_id=review.therapist_id,
        customer_id=review.customer_id if customer else None, attitude=s.attitude, skill=s.skill,
        pressure=s.pressure, overall=round(s.overall, 3), text=review.text, tags=review.tags,
        submitted_at=review.submitted_at, state=m.state if moderation else ModerationState.APPROVED,
        reason=m.reason if moderation else None, visible=review.visible_at(now),
        masked=m.masked, findings=m.findings if moderation else (),
        reply=_reply(review.reply, details=reply_details))


def public_view(review: Review, now: Instant) -> ReviewView:
    """What anybody sees of a public review."""
    return _view(review, now, order=False, customer=False, moderation=False, reply_details=False)


def author_view(review: Review, now: Instant) -> ReviewView:
    """What the customer who wrote it sees."""
    return _view(review, now, order=True, customer=True, moderation=True, reply_details=False)


def therapist_view(review: Review, now: Instant) -> ReviewView:
    """What the therapist reviewed sees (once it is public)."""
    return _view(review, now, order=True, customer=True, moderation=False, reply_details=True)


def moderator_view(review: Review, now: Instant) -> ReviewView:
    """What a moderator sees: everything."""
    return _view(review, now, order=True, customer=True, moderation=True, reply_details=True)
