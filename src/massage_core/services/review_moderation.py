"""Review moderation and ratings: the base of ``ReviewsService`` (decision 0037).

Screening uses the domain ``Screener`` (``Policies.review_words`` or its default list): a clean text is
approved at once, a flagged one waits in the queue.  Moderators (``reviews.moderate``: support admins,
superadmins, the system) ``approve``, ``reject`` with a reason, or ``mask`` parts of a review's text -- or,
with ``reply=True``, of its reply -- following the table of ``domain/reviews.py``; every decision is audited.

After every change that may alter a therapist's counted reviews (approved and no longer blind) the rating is
recomputed from the stored sums and fed to the search index (``uow.locator.set_rating``) in the same unit of
work; ``release_due`` does it for ratings whose reviews became visible only because their window closed.
"""

from __future__ import annotations

from collections.abc import Sequence

from massage_core.domain.access import Actor, Permission
from massage_core.domain.errors import Conflict, NotFound, ValidationError
from massage_core.domain.ids import AccountId, account_id
from massage_core.domain.review_ratings import TherapistRating
from massage_core.domain.reviews import ModerationAction, mask_spans, reason_text, review_id
from massage_core.domain.screening import Screener
from massage_core.domain.time import Instant
from massage_core.ports.reviews import PAGE
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.base import Service, page_bounds
from massage_core.services.review_views import ReviewView, moderator_view
from massage_core.services.notify_people import notify_review

Spans = Sequence[tuple[int, int]]


class ReviewModeration(Service):
    """Screening, moderation, and the rating feed; see the module docstring."""

    # -- shared machinery ---------------------------------------------------------------------------------

    def _screener(self) -> Screener:
        words = self._deps.policies.review_words
        return Screener.default() if words is None else Screener.with_words(words)

    def _findings(self, text: str) -> tuple[str, ...]:
        """The kinds of what the screener found in ``text`` (empty: clean)."""
        screening = self._screener().screen(text)
        if screening.clean:
            return ()
        return tuple(str(getattr(f.kind, "value", f.kind)) for f in screening.findings)

    def _refresh(self, uow: UnitOfWork, therapist: AccountId, now: Instant) -> TherapistRating:
        """Recompute the therapist's rating, feed it to the search index and mark its reviews counted."""
        rating = TherapistRating.of(uow.reviews.sums(therapist, now), self._deps.policies.rating_prior)
        try:
            uow.locator.set_rating(therapist, rating.for_search())
        except NotFound:
            pass  # no searchable profile (any more): nothing to feed
        uow.reviews.mark_counted(therapist, now)
        return rating

    # -- moderation ---------------------------------------------------------------------------------------

    def queue(self, actor: Actor, *, offset: int = 0, limit: int = PAGE) -> Sequence[ReviewView]:
        """Reviews whose text or reply waits for a moderator, oldest first (moderator views).  Raises
        PermissionDenied without ``reviews.moderate``, ValidationError ``page.offset`` / ``page.limit``."""
        offset, limit = page_bounds(offset, limit)
        self._require(actor, Permission.REVIEWS_MODERATE, "reviews.queue", "reviews")
        now = self._now()
        with self._uow() as uow:
            return [moderator_view(r, now) for r in uow.reviews.pending(offset=offset, limit=limit)]

    def approve(self, actor: Actor, review: str, *, reply: bool = False) -> ReviewView:
        """Approve a pending review (or its reply): it becomes public once no longer blind.  Audited.

        Raises ValidationError ``invalid_id``, NotFound, Conflict ``review.no_reply`` (``reply=True`` without
        one) or ``conflict.stale``, InvalidTransition (not pending), PermissionDenied without
        ``reviews.moderate``."""
        return self._moderate(actor, review, ModerationAction.APPROVE, reply=reply)

    def reject(self, actor: Actor, review: str, reason: str, *, reply: bool = False) -> ReviewView:
        """Reject a pending or approved review (or its reply) with a reason the author sees; what the screener
        finds in its text is masked (``*``) in the stored text, as it will never be public.  Audited.

        Raises ValidationError ``invalid_id`` / ``review.reason``, NotFound, Conflict ``review.no_reply`` or
        ``conflict.stale``, InvalidTransition (already rejected), PermissionDenied without
        ``reviews.moderate``."""
        why = reason_text(reason)
        return self._moderate(actor, review, ModerationAction.REJECT, reply=reply, reason=why)

    def mask(self, actor: Actor, review: str, spans: Spans | None = None, *, reply: bool = False) -> ReviewView:
        """Replace parts of a pending or approved review's text (or its reply's) by ``*`` and approve it.
        ``spans`` are ``(start, end)`` character offsets (end excluded); None masks what the screener finds.
        Audited with the spans.

        Raises ValidationError ``invalid_id`` / ``review.mask`` (no span, a span outside the text, or nothing
        found to mask), NotFound, Conflict ``review.no_reply`` or ``conflict.stale``, InvalidTransition
        (rejected), PermissionDenied without ``reviews.moderate``."""
        return self._moderate(actor, review, ModerationAction.MASK, reply=reply, spans=spans)

    def _masked(self, text: str, spans: Spans | None) -> tuple[str, str]:
        """The masked text and the spans used, as audit text."""
        if spans is None:
            screening = self._screener().screen(text)
            found = tuple((f.start, f.end) for f in screening.findings)
        else:
            if isinstance(spans, (str, bytes)):
                raise ValidationError("spans must be (start, end) pairs", code="review.mask", field="spans")
            try:
                found = tuple((start, end) for start, end in spans)
            except (TypeError, ValueError):
                raise ValidationError("spans must be (start, end) pairs", code="review.mask",
                                      field="spans") from None
        masked = mask_spans(text, found)
        return masked, ",".join(f"{start}-{end}" for start, end in found)

    def _scrubbed(self, text: str) -> str | None:
        """``text`` with what the screener finds masked (None: nothing found).  A rejected text is never public,
        so the contact details that sent it to the queue are not kept in clear."""
        screening = self._screener().screen(text)
        return None if screening.clean else screening.masked()

    def _moderate(self, actor: Actor, review: str, action: ModerationAction, *, reply: bool,
                  reason: str | None = None, spans: Spans | None = None) -> ReviewView:
        target = review_id(review)
        name = f"reviews.{action.value}"
        self._require(actor, Permission.REVIEWS_MODERATE, name, target)
        now = self._now()
        with self._uow() as uow:
            current = uow.reviews.get(target)
            details = {"part": "reply" if reply else "review"}
            masked: str | None = None
            if reply:
                if current.reply is None:
                    raise Conflict(f"review {target} has no reply", code="review.no_reply")
                if action is ModerationAction.MASK:
                    masked, details["spans"] = self._masked(current.reply.text, spans)
                elif action is ModerationAction.REJECT:
                    masked = self._scrubbed(current.reply.text)
                changed = current.moderate_reply(action, actor.account_id, now, admin=True, reason=reason,
                                                 masked_text=masked)
            else:
                if action is ModerationAction.MASK:
                    masked, details["spans"] = self._masked(current.text, spans)
                elif action is ModerationAction.REJECT:
                    masked = self._scrubbed(current.text)
                changed = current.moderate(action, actor.account_id, now, admin=True, reason=reason,
                                           masked_text=masked)
            saved = uow.reviews.save(changed)
            notify_review(uow, self._deps, saved, reply, now)
            if not reply:
                self._refresh(uow, saved.therapist_id, now)
            if reason is not None:
                details["reason"] = reason
            self._audit_ok(uow, actor, name, target, now, **details)
            uow.commit()
        return moderator_view(saved, now)

    # -- ratings ------------------------------------------------------------------------------------------

    def rating(self, actor: Actor, therapist: str) -> TherapistRating:
        """The therapist's public rating from their counted reviews, per dimension and overall (Bayesian with
        ``Policies.rating_prior``; decision 0037).  Anybody may read it.  Raises ValidationError
        ``invalid_id``, NotFound for an account that is no therapist."""
        tid = account_id(therapist)
        now = self._now()
        with self._uow() as uow:
            uow.therapists.get(tid)
            return TherapistRating.of(uow.reviews.sums(tid, now), self._deps.policies.rating_prior)

    def release_due(self, actor: Actor, *, limit: int = 200) -> int:
        """Refresh the rating of every therapist with reviews that became visible since their rating was last
        computed (their review window closed); return how many.  Safe to rerun.  Raises PermissionDenied
        without ``jobs.run`` (the system, superadmins), ValidationError ``jobs.limit`` (not 1..10000)."""
        self._require(actor, Permission.JOBS_RUN, "reviews.release_due", "reviews")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10_000:
            raise ValidationError("limit must be 1..10000", code="jobs.limit", field="limit")
        now = self._now()
        with self._uow() as uow:
            due = list(uow.reviews.uncounted_therapists(now, limit=limit))
        for therapist in due:
            with self._uow() as uow:
                self._refresh(uow, therapist, now)
                uow.commit()
        return len(due)
