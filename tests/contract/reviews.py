"""The ReviewRepository contract: round trips (with reply and moderation), one review per order, optimistic
locking, the visibility queries at a given instant, the sums and the ``counted`` bookkeeping, and feedback."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import attrs
import pytest

from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import AccountId
from massage_core.domain.order_states import OrderId
from massage_core.domain.review_ratings import ScoreSums
from massage_core.domain.reviews import (
    CustomerFeedback,
    Moderation,
    ModerationAction,
    Review,
    ReviewId,
    Scores,
    Tag,
)
from massage_core.domain.time import Instant
from massage_core.ports.unit_of_work import UnitOfWork
from order_support import happy_path
from schedule_support import new_therapist
from storage_support import T0, new_id

UowFactory = Callable[[], UnitOfWork]
WINDOW = timedelta(days=7)


def completed_order(uow_factory: UowFactory, customer: AccountId, therapist: AccountId) -> OrderId:
    order = happy_path(customer, therapist)[8]
    with uow_factory() as uow:
        uow.orders.add(order)
        uow.commit()
    return order.id


def review(order: OrderId, customer: AccountId, therapist: AccountId, *, at: Instant = T0,
           scores: tuple[int, int, int] = (5, 4, 3), findings: tuple[str, ...] = (),
           both_sides: bool = False) -> Review:
    return Review(ReviewId(new_id("review")), order, customer, therapist, Scores(*scores), "good", (Tag.CLEAN,),
                  at, at + WINDOW, Moderation.screened(findings), both_sides=both_sides)


def add(uow_factory: UowFactory, *reviews: Review) -> list[Review]:
    with uow_factory() as uow:
        added = [uow.reviews.add(r) for r in reviews]
        uow.commit()
    return added


class ReviewRepositoryContract:
    """Every ReviewRepository adapter behaves like this."""

    def _parties(self, uow_factory: UowFactory) -> tuple[AccountId, AccountId]:
        return new_therapist(uow_factory), new_therapist(uow_factory)

    def test_a_review_round_trips_with_its_reply_and_moderation(self, uow_factory: UowFactory) -> None:
        customer, therapist = self._parties(uow_factory)
        order = completed_order(uow_factory, customer, therapist)
        (stored,) = add(uow_factory, review(order, customer, therapist, findings=("phone", "link")))
        moderated = stored.moderate(ModerationAction.MASK, therapist, T0 + timedelta(hours=1), admin=True,
                                    masked_text="g**d").with_reply("thanks", T0 + timedelta(hours=2), ("email",))
        rejected = moderated.moderate_reply(ModerationAction.REJECT, customer, T0 + timedelta(hours=3), admin=True,
                                            reason="contact")
        with uow_factory() as uow:
            saved = uow.reviews.save(rejected)
            uow.commit()
        with uow_factory() as uow:
            assert uow.reviews.get(stored.id) == saved == attrs.evolve(rejected, version=2)
            assert uow.reviews.for_order(order) == saved
            assert uow.reviews.for_order(OrderId(new_id("order"))) is None
            with pytest.raises(NotFound):
                uow.reviews.get(ReviewId(new_id("review")))

    def test_one_review_per_order_and_stale_saves_are_refused(self, uow_factory: UowFactory) -> None:
        customer, therapist = self._parties(uow_factory)
        order = completed_order(uow_factory, customer, therapist)
        (stored,) = add(uow_factory, review(order, customer, therapist))
        with uow_factory() as uow:
            with pytest.raises(Conflict) as err:
                uow.reviews.add(review(order, customer, therapist))
            assert err.value.code == "review.duplicate"
            uow.reviews.save(stored.unblind())
            with pytest.raises(Conflict) as stale:
                uow.reviews.save(stored.unblind())
            assert stale.value.code == "conflict.stale"
            with pytest.raises(NotFound):
                uow.reviews.save(review(order, customer, therapist))

    def test_visibility_sums_and_counting_follow_the_instant(self, uow_factory: UowFactory) -> None:
        customer, therapist = self._parties(uow_factory)
        orders = [completed_order(uow_factory, customer, therapist) for _ in range(4)]
        open_ = review(orders[0], customer, therapist, scores=(5, 5, 5), both_sides=True)
        blind = review(orders[1], customer, therapist, at=T0 + timedelta(hours=1), scores=(1, 2, 3))
        pending = review(orders[2], customer, therapist, at=T0 + timedelta(hours=2), findings=("phone",),
                         both_sides=True)
        later = review(orders[3], customer, therapist, at=T0 + timedelta(hours=3), scores=(2, 2, 2))
        add(uow_factory, open_, blind, pending, later)
        now = T0 + timedelta(hours=4)
        closed = T0 + timedelta(hours=1) + WINDOW  # the blind review's window closed, not the last one's
        with uow_factory() as uow:
            r = uow.reviews
            assert [x.id for x in r.visible_for_therapist(therapist, now)] == [open_.id]
            assert [x.id for x in r.visible_for_therapist(therapist, closed)] == [blind.id, open_.id]
            assert [x.id for x in r.visible_for_therapist(therapist, closed, offset=1, limit=5)] == [open_.id]
            assert r.sums(therapist, now) == ScoreSums(1, 5, 5, 5)
            assert r.sums(therapist, closed) == ScoreSums(2, 6, 7, 8)
            assert r.sums(customer, closed) == ScoreSums()
            assert [x.id for x in r.by_customer(customer)] == [later.id, pending.id, blind.id, open_.id]
            assert [x.id for x in r.by_customer(customer, offset=3)] == [open_.id]
            assert [x.id for x in r.pending()] == [pending.id]
            assert r.uncounted_therapists(now) == [therapist]
            r.mark_counted(therapist, now)
            assert r.uncounted_therapists(now) == []
            assert r.uncounted_therapists(closed) == [therapist]
            r.mark_counted(therapist, closed)
            assert r.uncounted_therapists(closed) == []
            uow.commit()

    def test_feedback_round_trips_once_per_order(self, uow_factory: UowFactory) -> None:
        customer, therapist = self._parties(uow_factory)
        first, second = (completed_order(uow_factory, customer, therapist) for _ in range(2))
        rated = CustomerFeedback(first, therapist, customer, 2, "私人备注: late", T0)
        flagged = CustomerFeedback(second, therapist, customer, flag_reason="abusive", flagged_at=T0)
        with uow_factory() as uow:
            one, two = uow.reviews.add_feedback(rated), uow.reviews.add_feedback(flagged)
            with pytest.raises(Conflict) as err:
                uow.reviews.add_feedback(rated)
            assert err.value.code == "review.feedback_duplicate"
            uow.commit()
        later = attrs.evolve(one, flag_reason="threats", flagged_at=T0 + timedelta(hours=1))
        with uow_factory() as uow:
            saved = uow.reviews.save_feedback(later)
            with pytest.raises(Conflict) as stale:
                uow.reviews.save_feedback(later)
            assert stale.value.code == "conflict.stale"
            with pytest.raises(NotFound):
                uow.reviews.save_feedback(CustomerFeedback(OrderId(new_id("order")), therapist, customer))
            uow.commit()
        with uow_factory() as uow:
            assert uow.reviews.feedback(first) == saved == attrs.evolve(later, version=2)
            assert uow.reviews.feedback(second) == two
            assert uow.reviews.feedback(OrderId(new_id("order"))) is None
            assert uow.reviews.flagged() == [saved, two]
            assert uow.reviews.flagged(offset=1) == [two]
