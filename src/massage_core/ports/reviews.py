"""The review repository (``uow.reviews``): customers' reviews with their replies, and therapists' private
feedback on customers (decision 0037).

A review is stored whole with an optimistic ``version``; there is at most one review per order, which the
storage itself enforces (a unique order id), so of two concurrent submissions one wins and the other gets
Conflict ``review.duplicate``.  Feedback (the therapist's rating of the customer and the abuse flag) is one
record per order, also versioned.

"Visible at ``now``" below means what ``Review.public_at`` means: approved and either both sides reviewed or
the review window closed by ``now``.  "Counted" is storage bookkeeping for the rating: whether the review was
visible when its therapist's rating was last computed (``mark_counted``), so ``uncounted_therapists`` finds
the ratings to refresh once windows close.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from massage_core.domain.ids import AccountId
from massage_core.domain.order_states import OrderId
from massage_core.domain.review_ratings import ScoreSums
from massage_core.domain.reviews import CustomerFeedback, Review, ReviewId
from massage_core.domain.time import Instant

PAGE = 20
"""The default page size of the lists."""


class ReviewRepository(abc.ABC):
    """Reviews by id, order, therapist, customer and moderation state, and feedback by order."""

    @abc.abstractmethod
    def add(self, review: Review) -> Review:
        """Store a new review; return it with version 1.  Conflict ``review.duplicate`` when the order already
        has one (or the id is taken)."""

    @abc.abstractmethod
    def get(self, ident: ReviewId) -> Review:
        """The review, or NotFound."""

    @abc.abstractmethod
    def for_order(self, order_id: OrderId) -> Review | None:
        """The order's review, or None."""

    @abc.abstractmethod
    def save(self, review: Review) -> Review:
        """Store the changes of a loaded review; return it with version + 1.  Conflict ``conflict.stale`` when
        the stored version differs, NotFound when there is none."""

    @abc.abstractmethod
    def visible_for_therapist(self, therapist_id: AccountId, now: Instant, *, offset: int = 0,
                              limit: int = PAGE) -> Sequence[Review]:
        """The therapist's reviews visible at ``now``, newest first (by submission, then id)."""

    @abc.abstractmethod
    def by_customer(self, customer_id: AccountId, *, offset: int = 0, limit: int = PAGE) -> Sequence[Review]:
        """Every review the customer wrote, newest first."""

    @abc.abstractmethod
    def pending(self, *, offset: int = 0, limit: int = PAGE) -> Sequence[Review]:
        """Reviews whose text or reply waits for a moderator, oldest submission first (then id)."""

    @abc.abstractmethod
    def sums(self, therapist_id: AccountId, now: Instant) -> ScoreSums:
        """Count and star sums of the therapist's reviews visible at ``now``."""

    @abc.abstractmethod
    def mark_counted(self, therapist_id: AccountId, now: Instant) -> None:
        """Remember that the therapist's reviews visible at ``now`` are in their rating."""

    @abc.abstractmethod
    def uncounted_therapists(self, now: Instant, *, limit: int = PAGE) -> Sequence[AccountId]:
        """Therapists with a review visible at ``now`` that is not counted yet, by id."""

    @abc.abstractmethod
    def feedback(self, order_id: OrderId) -> CustomerFeedback | None:
        """The therapist's feedback on the order's customer, or None."""

    @abc.abstractmethod
    def add_feedback(self, feedback: CustomerFeedback) -> CustomerFeedback:
        """Store the first feedback of an order; version 1.  Conflict ``review.feedback_duplicate`` when the
        order has one already."""

    @abc.abstractmethod
    def save_feedback(self, feedback: CustomerFeedback) -> CustomerFeedback:
        """Store the changes of loaded feedback; version + 1.  Conflict ``conflict.stale``, NotFound."""

    @abc.abstractmethod
    def flagged(self, *, offset: int = 0, limit: int = PAGE) -> Sequence[CustomerFeedback]:
        """Feedback carrying an abuse flag, newest flag first (then order id)."""
