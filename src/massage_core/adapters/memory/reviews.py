"""In-memory reviews and customer feedback with the contract of the SQL ones (``ports/reviews.py``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

import attrs

from massage_core.adapters.memory.store import Tables
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import AccountId
from massage_core.domain.order_states import OrderId
from massage_core.domain.review_ratings import ScoreSums
from massage_core.domain.reviews import CustomerFeedback, ModerationState, Review, ReviewId
from massage_core.domain.time import Instant
from massage_core.ports.reviews import PAGE, ReviewRepository

T = TypeVar("T")
DUPLICATE = "review.duplicate"
FEEDBACK_DUPLICATE = "review.feedback_duplicate"


def _page(found: Sequence[T], offset: int, limit: int) -> list[T]:
    start = max(offset, 0)
    return list(found[start:start + max(limit, 0)])


def _waiting(review: Review) -> bool:
    pending = ModerationState.PENDING
    return review.moderation.state is pending or (review.reply is not None
                                                  and review.reply.moderation.state is pending)


class MemoryReviewRepository(ReviewRepository):
    """Reviews in a dict keyed by id (plus an order index), feedback keyed by order id."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def _visible(self, therapist_id: AccountId, now: Instant) -> Iterable[Review]:
        return (r for r in self._t.reviews.values() if r.therapist_id == therapist_id and r.public_at(now))

    def add(self, review: Review) -> Review:
        if review.id in self._t.reviews or review.order_id in self._t.review_orders:
            raise Conflict(f"order {review.order_id} already has a review", code=DUPLICATE)
        stored = attrs.evolve(review, version=1)
        self._t.reviews[review.id] = stored
        self._t.review_orders[review.order_id] = review.id
        return stored

    def get(self, ident: ReviewId) -> Review:
        try:
            return self._t.reviews[ident]
        except KeyError:
            raise NotFound("review", ident) from None

    def for_order(self, order_id: OrderId) -> Review | None:
        ident = self._t.review_orders.get(order_id)
        return self._t.reviews[ident] if ident is not None else None

    def save(self, review: Review) -> Review:
        current = self.get(review.id)
        if current.version != review.version:
            raise Conflict("the review was changed by somebody else; reload it", code="conflict.stale")
        stored = attrs.evolve(review, version=review.version + 1)
        self._t.reviews[review.id] = stored
        return stored

    def visible_for_therapist(self, therapist_id: AccountId, now: Instant, *, offset: int = 0,
                              limit: int = PAGE) -> Sequence[Review]:
        found = sorted(self._visible(therapist_id, now), key=lambda r: (r.submitted_at, r.id), reverse=True)
        return _page(found, offset, limit)

    def by_customer(self, customer_id: AccountId, *, offset: int = 0, limit: int = PAGE) -> Sequence[Review]:
        found = sorted((r for r in self._t.reviews.values() if r.customer_id == customer_id),
                       key=lambda r: (r.submitted_at, r.id), reverse=True)
        return _page(found, offset, limit)

    def pending(self, *, offset: int = 0, limit: int = PAGE) -> Sequence[Review]:
        found = sorted((r for r in self._t.reviews.values() if _waiting(r)), key=lambda r: (r.submitted_at, r.id))
        return _page(found, offset, limit)

    def sums(self, therapist_id: AccountId, now: Instant) -> ScoreSums:
        total = ScoreSums()
        for review in self._visible(therapist_id, now):
            total = total.plus(review.scores.attitude, review.scores.skill, review.scores.pressure)
        return total

    def mark_counted(self, therapist_id: AccountId, now: Instant) -> None:
        self._t.reviews_counted.update(r.id for r in self._visible(therapist_id, now))

    def uncounted_therapists(self, now: Instant, *, limit: int = PAGE) -> Sequence[AccountId]:
        found = {r.therapist_id for r in self._t.reviews.values()
                 if r.public_at(now) and r.id not in self._t.reviews_counted}
        return sorted(found)[:max(limit, 0)]

    def feedback(self, order_id: OrderId) -> CustomerFeedback | None:
        return self._t.customer_feedback.get(order_id)

    def add_feedback(self, feedback: CustomerFeedback) -> CustomerFeedback:
        if feedback.order_id in self._t.customer_feedback:
            raise Conflict(f"order {feedback.order_id} already has feedback", code=FEEDBACK_DUPLICATE)
        stored = attrs.evolve(feedback, version=1)
        self._t.customer_feedback[feedback.order_id] = stored
        return stored

    def save_feedback(self, feedback: CustomerFeedback) -> CustomerFeedback:
        current = self._t.customer_feedback.get(feedback.order_id)
        if current is None:
            raise NotFound("feedback", feedback.order_id)
        if current.version != feedback.version:
            raise Conflict("the feedback was changed by somebody else; reload it", code="conflict.stale")
        stored = attrs.evolve(feedback, version=feedback.version + 1)
        self._t.customer_feedback[feedback.order_id] = stored
        return stored

    def flagged(self, *, offset: int = 0, limit: int = PAGE) -> Sequence[CustomerFeedback]:
        found = sorted((f for f in self._t.customer_feedback.values() if f.flagged_at is not None),
                       key=lambda f: (f.flagged_at, f.order_id), reverse=True)
        return _page(found, offset, limit)
