"""The reviews context (``platform.reviews``): C9, T8 and P7 (decision 0037).

* A customer (``orders.place``) ``submit``s one review of their own completed order inside the review window
  (``Policies.review_window_days`` after completion): attitude, skill and pressure (1..5), a text and tags
  from the fixed set (``domain.reviews.Tag``).  It is screened (see ``review_moderation``).
* The therapist of the order (``orders.serve``) ``rate_customer``s once inside the same window (1..5 and a
  private note: the platform's only), and may ``flag_customer`` an abusive customer once per order (a
  reason; audited; moderators read the flags).
* Double-blind: a review is hidden from the therapist and the public until the therapist rated the customer
  or the window closed -- computed on read from the clock.
* The therapist ``reply``s once, publicly, to a review they can see; the reply is screened and moderated.
* Reads: ``for_therapist`` (public, paged), ``mine`` (the customer's own, with moderation outcomes),
  ``about_me`` (the therapist's visible ones with their replies' outcomes), ``queue`` (moderators), ``get``
  and ``rating``.

Somebody else's order or review, and a review still blind or not approved, look exactly like missing ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from attrs import evolve

from massage_core.domain.access import Actor, Permission
from massage_core.domain.errors import Conflict, ValidationError
from massage_core.domain.ids import AccountId, account_id
from massage_core.domain.order_states import OrderId, OrderState, order_id
from massage_core.domain.orders import Order
from massage_core.domain.reviews import (
    CustomerFeedback,
    Moderation,
    Review,
    ReviewId,
    Scores,
    note_text,
    reply_text,
    review_id,
    review_text,
    stars as star_count,
    tags as tag_list,
)
from massage_core.domain.time import Instant
from massage_core.ports.orders import entered_state_at
from massage_core.ports.reviews import PAGE
from massage_core.services.base import not_found, page_bounds
from massage_core.services.review_moderation import ReviewModeration
from massage_core.services.review_views import (
    ReviewView,
    author_view,
    moderator_view,
    public_view,
    therapist_view,
)


class ReviewsService(ReviewModeration):
    """Reviews, replies, customers' private ratings and flags; see the module docstring."""

    def _me(self, actor: Actor, permission: Permission, action: str, target: str) -> AccountId:
        self._require(actor, permission, action, target)
        if actor.account_id is None:
            raise ValidationError("the system has no account of its own", code="actor.no_account")
        return actor.account_id

    def _window(self, order: Order, now: Instant) -> Instant:
        """When the order's review window closes; Conflict ``review.not_completed`` unless the order is
        completed, ``review.window_closed`` once the window closed."""
        if order.state is not OrderState.COMPLETED:
            raise Conflict(f"order {order.id} is {order.state.value}, not completed", code="review.not_completed")
        closes = entered_state_at(order).add(days=self._deps.policies.review_window_days)
        if now >= closes:
            raise Conflict(f"the review window of order {order.id} closed at {closes}", code="review.window_closed")
        return closes

    # -- the customer -------------------------------------------------------------------------------------

    def submit(self, actor: Actor, order: str, *, attitude: int, skill: int, pressure: int, text: str = "",
               tags: Iterable[str] = ()) -> ReviewView:
        """Review the acting customer's completed ``order`` once, inside the review window; return the
        author's view (``approved`` when the screener found nothing, else ``pending``).

        Raises ValidationError ``invalid_id`` / ``review.score`` / ``review.text`` / ``review.tag`` /
        ``actor.no_account``, PermissionDenied without ``orders.place``, NotFound (missing or somebody else's
        order), Conflict ``review.not_completed`` / ``review.window_closed`` / ``review.duplicate``."""
        oid = order_id(order)
        scores = Scores(attitude, skill, pressure)
        body, chosen = review_text(text), tag_list(tuple(tags) if not isinstance(tags, str) else tags)
        me = self._me(actor, Permission.ORDERS_PLACE, "reviews.submit", oid)
        now = self._now()
        with self._guard(actor, "reviews.submit", oid), self._uow() as uow:
            current = uow.orders.get(oid)
            if current.customer_id != me or current.therapist_id is None:
                raise not_found("order", oid)
            closes = self._window(current, now)
            if uow.reviews.for_order(oid) is not None:
                raise Conflict(f"order {oid} is already reviewed", code="review.duplicate")
            feedback = uow.reviews.feedback(oid)
            fresh = Review(ReviewId(self._deps.ids.new_id("review")), oid, me, current.therapist_id, scores, body,
                           chosen, now, closes, Moderation.screened(self._findings(body)),
                           both_sides=feedback is not None and feedback.rated)
            saved = uow.reviews.add(fresh)
            self._refresh(uow, saved.therapist_id, now)
            uow.commit()
        return author_view(saved, now)

    def mine(self, actor: Actor, *, offset: int = 0, limit: int = PAGE) -> Sequence[ReviewView]:
        """The acting customer's reviews, newest first, each with its moderation outcome (state, reason).
        Raises PermissionDenied without ``orders.place``, ValidationError ``actor.no_account`` / ``page.*``."""
        offset, limit = page_bounds(offset, limit)
        me = self._me(actor, Permission.ORDERS_PLACE, "reviews.mine", actor.label)
        now = self._now()
        with self._uow() as uow:
            return [author_view(r, now) for r in uow.reviews.by_customer(me, offset=offset, limit=limit)]

    # -- the therapist ------------------------------------------------------------------------------------

    def _served(self, actor: Actor, order: str, action: str) -> tuple[AccountId, OrderId]:
        oid = order_id(order)
        return self._me(actor, Permission.ORDERS_SERVE, action, oid), oid

    def rate_customer(self, actor: Actor, order: str, stars: int, note: str = "") -> CustomerFeedback:
        """Rate the customer of the acting therapist's completed ``order`` once, inside the review window:
        1..5 stars and an optional private note (never shown to the customer or in public).  Lifts the
        double blind of the order's review.

        Raises ValidationError ``invalid_id`` / ``review.score`` / ``review.note`` / ``actor.no_account``,
        PermissionDenied without ``orders.serve``, NotFound (missing or somebody else's order), Conflict
        ``review.not_completed`` / ``review.window_closed`` / ``review.rated_duplicate``."""
        score, private = star_count(stars, "stars"), note_text(note, "note", required=False)
        me, oid = self._served(actor, order, "reviews.rate_customer")
        now = self._now()
        with self._guard(actor, "reviews.rate_customer", oid), self._uow() as uow:
            current = uow.orders.get(oid)
            if current.therapist_id != me:
                raise not_found("order", oid)
            self._window(current, now)
            known = uow.reviews.feedback(oid)
            if known is not None and known.rated:
                raise Conflict(f"the customer of order {oid} is already rated", code="review.rated_duplicate")
            if known is None:
                saved = uow.reviews.add_feedback(CustomerFeedback(oid, me, current.customer_id, score, private, now))
            else:
                saved = uow.reviews.save_feedback(evolve(known, stars=score, note=private, rated_at=now))
            review = uow.reviews.for_order(oid)
            if review is not None and not review.both_sides:
                uow.reviews.save(review.unblind())
                self._refresh(uow, review.therapist_id, now)
            uow.commit()
        return saved

    def flag_customer(self, actor: Actor, order: str, reason: str) -> CustomerFeedback:
        """Flag the customer of one of the acting therapist's orders (any state) as abusive, with a reason
        moderators read; once per order.  Audited.

        Raises ValidationError ``invalid_id`` / ``review.reason`` / ``actor.no_account``, PermissionDenied
        without ``orders.serve``, NotFound (missing or somebody else's order), Conflict
        ``review.flag_duplicate``."""
        why = note_text(reason, "reason", required=True)
        me, oid = self._served(actor, order, "reviews.flag_customer")
        now = self._now()
        with self._guard(actor, "reviews.flag_customer", oid), self._uow() as uow:
            current = uow.orders.get(oid)
            if current.therapist_id != me:
                raise not_found("order", oid)
            known = uow.reviews.feedback(oid)
            if known is not None and known.flagged:
                raise Conflict(f"the customer of order {oid} is already flagged", code="review.flag_duplicate")
            if known is None:
                saved = uow.reviews.add_feedback(CustomerFeedback(oid, me, current.customer_id, flag_reason=why,
                                                                  flagged_at=now))
            else:
                saved = uow.reviews.save_feedback(evolve(known, flag_reason=why, flagged_at=now))
            self._audit_ok(uow, actor, "reviews.flag_customer", oid, now, customer=current.customer_id)
            uow.commit()
        return saved

    def reply(self, actor: Actor, review: str, text: str) -> ReviewView:
        """Reply once, publicly, to a review of the acting therapist that they can see (approved, no longer
        blind); the reply is screened like a review.  Returns the therapist's view.

        Raises ValidationError ``invalid_id`` / ``review.reply`` / ``actor.no_account``, PermissionDenied
        without ``orders.serve``, NotFound (missing, somebody else's, or not visible yet), Conflict
        ``review.reply_duplicate`` / ``conflict.stale``."""
        target = review_id(review)
        body = reply_text(text)
        me = self._me(actor, Permission.ORDERS_SERVE, "reviews.reply", target)
        now = self._now()
        with self._guard(actor, "reviews.reply", target), self._uow() as uow:
            current = uow.reviews.get(target)
            if current.therapist_id != me or not current.public_at(now):
                raise not_found("review", target)
            if current.reply is not None:
                raise Conflict(f"review {target} already has a reply", code="review.reply_duplicate")
            saved = uow.reviews.save(current.with_reply(body, now, self._findings(body)))
            uow.commit()
        return therapist_view(saved, now)

    def about_me(self, actor: Actor, *, offset: int = 0, limit: int = PAGE) -> Sequence[ReviewView]:
        """The acting therapist's visible reviews (approved, no longer blind), newest first, with their own
        replies' outcomes.  Raises PermissionDenied without ``orders.serve``, ValidationError
        ``actor.no_account`` / ``page.*``."""
        offset, limit = page_bounds(offset, limit)
        me = self._me(actor, Permission.ORDERS_SERVE, "reviews.about_me", actor.label)
        now = self._now()
        with self._uow() as uow:
            found = uow.reviews.visible_for_therapist(me, now, offset=offset, limit=limit)
            return [therapist_view(r, now) for r in found]

    # -- everybody ----------------------------------------------------------------------------------------

    def for_therapist(self, actor: Actor, therapist: str, *, offset: int = 0,
                      limit: int = PAGE) -> Sequence[ReviewView]:
        """A therapist's public reviews (approved, no longer blind), newest first, as anybody sees them.
        Raises ValidationError ``invalid_id`` / ``page.*``."""
        tid = account_id(therapist)
        offset, limit = page_bounds(offset, limit)
        now = self._now()
        with self._uow() as uow:
            return [public_view(r, now) for r in uow.reviews.visible_for_therapist(tid, now, offset=offset,
                                                                                     limit=limit)]

    def get(self, actor: Actor, review: str) -> ReviewView:
        """One review as the actor may see it: moderators everything, the author their own, the therapist and
        anybody else only once public.  Raises ValidationError ``invalid_id``, NotFound (missing or not
        visible to the actor)."""
        target = review_id(review)
        now = self._now()
        with self._guard(actor, "reviews.get", target), self._uow() as uow:
            found = uow.reviews.get(target)
            if actor.may(Permission.REVIEWS_MODERATE):
                return moderator_view(found, now)
            if actor.owns(found.customer_id) and actor.may(Permission.ORDERS_PLACE):
                return author_view(found, now)
            if not found.public_at(now):
                raise not_found("review", target)
            if actor.owns(found.therapist_id) and actor.may(Permission.ORDERS_SERVE):
                return therapist_view(found, now)
            return public_view(found, now)

    def flags(self, actor: Actor, *, offset: int = 0, limit: int = PAGE) -> Sequence[CustomerFeedback]:
        """Therapists' abuse flags of customers, newest first (with the private rating of the same order).
        Raises PermissionDenied without ``reviews.moderate``, ValidationError ``page.*``."""
        offset, limit = page_bounds(offset, limit)
        self._require(actor, Permission.REVIEWS_MODERATE, "reviews.flags", "reviews")
        with self._uow() as uow:
            return list(uow.reviews.flagged(offset=offset, limit=limit))
