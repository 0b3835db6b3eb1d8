"""Reviews and customer feedback: the ``reviews`` and ``customer_feedback`` rows (decision 0037).

One review per order is enforced by the unique ``order_id``: of two concurrent submissions the second insert
fails there (on PostgreSQL it waits for the first to commit) and becomes Conflict ``review.duplicate``.  The
feedback's note and flag reason are FieldCipher tokens bound to the order id.  ``counted`` is written only by
``add`` (false) and ``mark_counted``, never by ``save``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
from sqlalchemy import ColumnElement, Row, and_, bindparam, false, func, insert, or_, select, true, update
from sqlalchemy.engine import Connection

from massage_core.adapters.sql.fields import CUSTOMER_FEEDBACK_NOTE, FLAG_REASON, FieldCodec
from massage_core.adapters.sql.repositories._guard import guarded
from massage_core.adapters.sql.tables_reviews import customer_feedback, reviews
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import AccountId
from massage_core.domain.order_states import OrderId
from massage_core.domain.review_ratings import ScoreSums
from massage_core.domain.reviews import (
    CustomerFeedback,
    Moderation,
    ModerationState,
    Reply,
    Review,
    ReviewId,
    Scores,
    Tag,
)
from massage_core.domain.time import Instant
from massage_core.ports.reviews import PAGE, ReviewRepository

DUPLICATE = "review.duplicate"
FEEDBACK_DUPLICATE = "review.feedback_duplicate"

_r, _f = reviews, customer_feedback
_BY_ID = select(_r).where(_r.c.id == bindparam("p_id"))
_BY_ORDER = select(_r).where(_r.c.order_id == bindparam("p_order"))
_FEEDBACK = select(_f).where(_f.c.order_id == bindparam("p_order"))
_PENDING = ModerationState.PENDING.value


def _visible(now: Instant) -> ColumnElement[bool]:
    return and_(_r.c.state == ModerationState.APPROVED.value, or_(_r.c.both_sides == true(),
                                                                   _r.c.blind_until <= now))


def _kinds(raw: str | None) -> tuple[str, ...]:
    return tuple(raw.split(",")) if raw else ()


def _by(raw: str | None) -> AccountId | None:
    return AccountId(raw) if raw is not None else None


def _values(review: Review, version: int) -> dict[str, Any]:
    m, s, reply = review.moderation, review.scores, review.reply
    rm = reply.moderation if reply is not None else None
    return {
        "order_id": review.order_id, "customer_id": review.customer_id, "therapist_id": review.therapist_id,
        "attitude": s.attitude, "skill": s.skill, "pressure": s.pressure, "text": review.text,
        "tags": ",".join(t.value for t in review.tags), "submitted_at": review.submitted_at,
        "blind_until": review.blind_until, "both_sides": review.both_sides, "state": m.state.value,
        "findings": ",".join(m.findings), "reason": m.reason, "decided_by": m.decided_by,
        "decided_at": m.decided_at, "masked": m.masked,
        "reply_text": reply.text if reply is not None else None, "reply_at": reply.at if reply is not None else None,
        "reply_state": rm.state.value if rm is not None else None,
        "reply_findings": ",".join(rm.findings) if rm is not None else None,
        "reply_reason": rm.reason if rm is not None else None,
        "reply_decided_by": rm.decided_by if rm is not None else None,
        "reply_decided_at": rm.decided_at if rm is not None else None,
        "reply_masked": rm.masked if rm is not None else None, "version": version,
    }


def _to_review(row: Row[Any]) -> Review:
    reply = None
    if row.reply_text is not None:
        moderation = Moderation(ModerationState(row.reply_state), _kinds(row.reply_findings), row.reply_reason,
                                _by(row.reply_decided_by), row.reply_decided_at, bool(row.reply_masked))
        reply = Reply(row.reply_text, row.reply_at, moderation)
    return Review(
        id=ReviewId(row.id), order_id=OrderId(row.order_id), customer_id=AccountId(row.customer_id),
        therapist_id=AccountId(row.therapist_id), scores=Scores(row.attitude, row.skill, row.pressure),
        text=row.text, tags=tuple(Tag(t) for t in _kinds(row.tags)), submitted_at=row.submitted_at,
        blind_until=row.blind_until,
        moderation=Moderation(ModerationState(row.state), _kinds(row.findings), row.reason, _by(row.decided_by),
                              row.decided_at, bool(row.masked)),
        both_sides=bool(row.both_sides), reply=reply, version=row.version,
    )


class SqlReviewRepository(ReviewRepository):
    """The review tables; see the module docstring."""

    def __init__(self, connection: Connection, codec: FieldCodec) -> None:
        """Work inside ``connection``'s transaction, sealing private feedback with ``codec``."""
        self._conn = connection
        self._codec = codec

    def add(self, review: Review) -> Review:
        with guarded(self._conn, duplicate=DUPLICATE):
            if self._conn.execute(_BY_ORDER, {"p_order": review.order_id}).first() is not None:
                raise Conflict(f"order {review.order_id} already has a review", code=DUPLICATE)
            self._conn.execute(insert(_r).values(id=review.id, counted=False, **_values(review, 1)))
        return attrs.evolve(review, version=1)

    def get(self, ident: ReviewId) -> Review:
        row = self._conn.execute(_BY_ID, {"p_id": ident}).first()
        if row is None:
            raise NotFound("review", ident)
        return _to_review(row)

    def for_order(self, order_id: OrderId) -> Review | None:
        row = self._conn.execute(_BY_ORDER, {"p_order": order_id}).first()
        return _to_review(row) if row is not None else None

    def save(self, review: Review) -> Review:
        new_version = review.version + 1
        with guarded(self._conn, duplicate=DUPLICATE):
            result = self._conn.execute(update(_r).where(_r.c.id == review.id, _r.c.version == review.version)
                                        .values(_values(review, new_version)))
            if result.rowcount == 0:
                if self._conn.execute(_BY_ID, {"p_id": review.id}).first() is None:
                    raise NotFound("review", review.id)
                raise Conflict("the review was changed by somebody else; reload it", code="conflict.stale")
        return attrs.evolve(review, version=new_version)

    def _list(self, *where: ColumnElement[bool], offset: int, limit: int, newest: bool = True) -> list[Review]:
        order = (_r.c.submitted_at.desc(), _r.c.id.desc()) if newest else (_r.c.submitted_at, _r.c.id)
        query = select(_r).where(*where).order_by(*order).offset(max(offset, 0)).limit(max(limit, 0))
        return [_to_review(row) for row in self._conn.execute(query)]

    def visible_for_therapist(self, therapist_id: AccountId, now: Instant, *, offset: int = 0,
                              limit: int = PAGE) -> Sequence[Review]:
        return self._list(_r.c.therapist_id == therapist_id, _visible(now), offset=offset, limit=limit)

    def by_customer(self, customer_id: AccountId, *, offset: int = 0, limit: int = PAGE) -> Sequence[Review]:
        return self._list(_r.c.customer_id == customer_id, offset=offset, limit=limit)

    def pending(self, *, offset: int = 0, limit: int = PAGE) -> Sequence[Review]:
        return self._list(or_(_r.c.state == _PENDING, _r.c.reply_state == _PENDING), offset=offset, limit=limit,
                          newest=False)

    def sums(self, therapist_id: AccountId, now: Instant) -> ScoreSums:
        query = select(func.count(), func.sum(_r.c.attitude), func.sum(_r.c.skill), func.sum(_r.c.pressure)) \
            .where(_r.c.therapist_id == therapist_id, _visible(now))
        count, attitude, skill, pressure = self._conn.execute(query).one()
        return ScoreSums(int(count), int(attitude or 0), int(skill or 0), int(pressure or 0))

    def mark_counted(self, therapist_id: AccountId, now: Instant) -> None:
        self._conn.execute(update(_r).where(_r.c.therapist_id == therapist_id, _visible(now),
                                            _r.c.counted == false()).values(counted=True))

    def uncounted_therapists(self, now: Instant, *, limit: int = PAGE) -> Sequence[AccountId]:
        query = (select(_r.c.therapist_id).where(_visible(now), _r.c.counted == false()).distinct()
                 .order_by(_r.c.therapist_id).limit(max(limit, 0)))
        return [AccountId(tid) for tid in self._conn.execute(query).scalars()]

    # -- feedback -------------------------------------------------------------------------------------------

    def _feedback_values(self, feedback: CustomerFeedback, version: int) -> dict[str, Any]:
        key = (feedback.order_id,)
        return {
            "therapist_id": feedback.therapist_id, "customer_id": feedback.customer_id, "stars": feedback.stars,
            "note_enc": self._codec.seal(CUSTOMER_FEEDBACK_NOTE, key, feedback.note), "rated_at": feedback.rated_at,
            "flag_reason_enc": self._codec.seal(FLAG_REASON, key, feedback.flag_reason),
            "flagged_at": feedback.flagged_at, "version": version,
        }

    def _to_feedback(self, row: Row[Any]) -> CustomerFeedback:
        key = (row.order_id,)
        return CustomerFeedback(
            order_id=OrderId(row.order_id), therapist_id=AccountId(row.therapist_id),
            customer_id=AccountId(row.customer_id), stars=row.stars,
            note=self._codec.open(CUSTOMER_FEEDBACK_NOTE, key, row.note_enc), rated_at=row.rated_at,
            flag_reason=self._codec.open(FLAG_REASON, key, row.flag_reason_enc), flagged_at=row.flagged_at,
            version=row.version,
        )

    def feedback(self, order_id: OrderId) -> CustomerFeedback | None:
        row = self._conn.execute(_FEEDBACK, {"p_order": order_id}).first()
        return self._to_feedback(row) if row is not None else None

    def add_feedback(self, feedback: CustomerFeedback) -> CustomerFeedback:
        with guarded(self._conn, duplicate=FEEDBACK_DUPLICATE):
            if self._conn.execute(_FEEDBACK, {"p_order": feedback.order_id}).first() is not None:
                raise Conflict(f"order {feedback.order_id} already has feedback", code=FEEDBACK_DUPLICATE)
            self._conn.execute(insert(_f).values(order_id=feedback.order_id, **self._feedback_values(feedback, 1)))
        return attrs.evolve(feedback, version=1)

    def save_feedback(self, feedback: CustomerFeedback) -> CustomerFeedback:
        new_version = feedback.version + 1
        with guarded(self._conn, duplicate=FEEDBACK_DUPLICATE):
            result = self._conn.execute(
                update(_f).where(_f.c.order_id == feedback.order_id, _f.c.version == feedback.version)
                .values(self._feedback_values(feedback, new_version)))
            if result.rowcount == 0:
                if self._conn.execute(_FEEDBACK, {"p_order": feedback.order_id}).first() is None:
                    raise NotFound("feedback", feedback.order_id)
                raise Conflict("the feedback was changed by somebody else; reload it", code="conflict.stale")
        return attrs.evolve(feedback, version=new_version)

    def flagged(self, *, offset: int = 0, limit: int = PAGE) -> Sequence[CustomerFeedback]:
        query = (select(_f).where(_f.c.flagged_at.is_not(None))
                 .order_by(_f.c.flagged_at.desc(), _f.c.order_id.desc()).offset(max(offset, 0)).limit(max(limit, 0)))
        return [self._to_feedback(row) for row in self._conn.execute(query)]
