"""Reviews (C9, T8, P7): the customer's review of a completed order, the therapist's reply, and the therapist's
private rating and flag of the customer (decision 0037).

A review (and separately its reply) goes through moderation, an explicit transition table::

    pending ──approve──▶ approved          (admin)
    pending / approved ──mask──▶ approved  (admin: parts of the text replaced by '*')
    pending / approved ──reject──▶ rejected (admin, with a reason)

A clean text starts ``approved``; a text the screener flags starts ``pending`` (the manual queue).  Only
approved reviews are public and count towards the rating.

Double-blind (P7): a review is hidden from the therapist and the public until the therapist has rated the
customer for the same order (``both_sides``) or the review window closed (``blind_until``); ``visible_at``
computes it from the clock.
"""

from __future__ import annotations

import enum
from typing import NewType

from attrs import evolve, field, frozen

from massage_core.domain.errors import InvalidTransition, PermissionDenied, ValidationError
from massage_core.domain.ids import AccountId, check_id
from massage_core.domain.order_states import OrderId
from massage_core.domain.time import Instant

ReviewId = NewType("ReviewId", str)

TEXT_MAX = 500
"""The longest review or reply text, in characters."""
NOTE_MAX = 500
"""The longest private note (the therapist's rating note) or flag reason."""
REASON_MAX = 200
"""The longest moderation reason."""
TAGS_MAX = 5


def review_id(raw: object) -> ReviewId:
    """Validate and type a review id (``rev_`` + 26 base32 characters)."""
    return ReviewId(check_id("review", raw))


class Tag(enum.StrEnum):
    """The fixed set of tags a customer may add to a review (docs/api.md lists them)."""

    PUNCTUAL = "punctual"
    PROFESSIONAL = "professional"
    SKILLED = "skilled"
    FRIENDLY = "friendly"
    CLEAN = "clean"
    GOOD_PRESSURE = "good_pressure"
    RELAXING = "relaxing"
    WOULD_BOOK_AGAIN = "would_book_again"
    LATE = "late"
    RUSHED = "rushed"
    TOO_HARD = "too_hard"
    TOO_SOFT = "too_soft"


class ModerationState(enum.StrEnum):
    """Where a review or a reply is in moderation."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ModerationAction(enum.StrEnum):
    """What a moderator may do."""

    APPROVE = "approve"
    MASK = "mask"
    REJECT = "reject"


def _moderation_table() -> dict[tuple[ModerationState, ModerationAction], ModerationState]:
    """The moderation transitions (every action is the moderators'; see ``Moderation.apply``)."""
    pending, approved, rejected = ModerationState.PENDING, ModerationState.APPROVED, ModerationState.REJECTED
    return {
        (pending, ModerationAction.APPROVE): approved,
        (pending, ModerationAction.MASK): approved,
        (approved, ModerationAction.MASK): approved,
        (pending, ModerationAction.REJECT): rejected,
        (approved, ModerationAction.REJECT): rejected,
    }


def allowed_moderation(state: ModerationState) -> tuple[ModerationAction, ...]:
    """The moderation actions allowed in ``state``."""
    return tuple(action for (source, action) in _moderation_table() if source is state)


def _text(value: object, name: str, *, required: bool, limit: int = TEXT_MAX) -> str:
    text = value.strip() if isinstance(value, str) else None
    if text is None or (required and not text) or len(text) > limit:
        need = "1" if required else "0"
        raise ValidationError(f"{name} must be {need}..{limit} characters", code=f"review.{name}", field=name)
    return text


def reason_text(value: object) -> str:
    """A moderation reason: 1..REASON_MAX characters (ValidationError ``review.reason``)."""
    return _text(value, "reason", required=True, limit=REASON_MAX)


def note_text(value: object, name: str, *, required: bool) -> str:
    """A private note or flag reason: 0/1..NOTE_MAX characters (ValidationError ``review.<name>``)."""
    return _text(value, name, required=required, limit=NOTE_MAX)


def review_text(value: object) -> str:
    """A review's text: 0..TEXT_MAX characters (ValidationError ``review.text``)."""
    return _text(value, "text", required=False)


def reply_text(value: object) -> str:
    """A reply's text: 1..TEXT_MAX characters (ValidationError ``review.reply``)."""
    return _text(value, "reply", required=True)


def stars(value: object, name: str) -> int:
    """A score of 1..5 whole stars (ValidationError ``review.score`` naming the field)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise ValidationError(f"{name} must be a whole number of stars 1..5", code="review.score", field=name)
    return value


def _attitude(value: object) -> int:
    return stars(value, "attitude")


def _skill(value: object) -> int:
    return stars(value, "skill")


def _pressure(value: object) -> int:
    return stars(value, "pressure")


def tags(raw: object) -> tuple[Tag, ...]:
    """Known tags, each once, in the given order, at most TAGS_MAX (ValidationError ``review.tag``)."""
    if isinstance(raw, str) or not isinstance(raw, (list, tuple, set, frozenset)):
        raise ValidationError("tags must be a list of tag names", code="review.tag", field="tags")
    found: list[Tag] = []
    for item in raw:
        try:
            tag = Tag(str(item).strip().lower())
        except ValueError:
            raise ValidationError(f"unknown tag {str(item)[:30]!r}; known: {', '.join(Tag)}", code="review.tag",
                                  field="tags") from None
        if tag not in found:
            found.append(tag)
    if len(found) > TAGS_MAX:
        raise ValidationError(f"at most {TAGS_MAX} tags", code="review.tag", field="tags")
    return tuple(found)


def mask_spans(text: str, spans: tuple[tuple[int, int], ...], mask: str = "*") -> str:
    """``text`` with every character inside the ``(start, end)`` spans replaced by ``mask``.

    ValidationError ``review.mask`` for no spans, or a span that is empty or outside the text."""
    if not spans:
        raise ValidationError("nothing to mask", code="review.mask", field="spans")
    chars = list(text)
    for span in spans:
        start, end = span
        if isinstance(start, bool) or isinstance(end, bool) or not isinstance(start, int) \
                or not isinstance(end, int) or not 0 <= start < end <= len(text):
            raise ValidationError(f"span {span!r} is not inside the text (0..{len(text)})", code="review.mask",
                                  field="spans")
        chars[start:end] = mask * (end - start)
    return "".join(chars)


@frozen
class Scores:
    """The three scored dimensions of a review, 1..5 stars each."""

    attitude: int = field(converter=_attitude)
    skill: int = field(converter=_skill)
    pressure: int = field(converter=_pressure)

    @property
    def overall(self) -> float:
        """The mean of the three dimensions."""
        return (self.attitude + self.skill + self.pressure) / 3


@frozen
class Moderation:
    """The moderation of one text: its state, the screener's finding kinds, and the last decision."""

    state: ModerationState
    findings: tuple[str, ...] = ()
    """The kinds the screener found (``phone``, ``link``, ...); empty for a clean text."""
    reason: str | None = None
    """Why it was rejected."""
    decided_by: AccountId | None = None
    decided_at: Instant | None = None
    masked: bool = False

    @classmethod
    def screened(cls, findings: tuple[str, ...]) -> Moderation:
        """A fresh text: approved when clean, otherwise pending in the manual queue."""
        kinds = tuple(sorted(set(findings)))
        return cls(ModerationState.PENDING if kinds else ModerationState.APPROVED, kinds)

    def apply(self, action: ModerationAction, by: AccountId | None, at: Instant, *, admin: bool,
              reason: str | None = None) -> Moderation:
        """Fire ``action``: PermissionDenied ``review.moderator`` unless ``admin``, InvalidTransition when the
        table has no such move."""
        if not admin:
            raise PermissionDenied("only moderators moderate reviews", code="review.moderator")
        target = _moderation_table().get((self.state, action))
        if target is None:
            raise InvalidTransition(self.state.value, action.value, (a.value for a in allowed_moderation(self.state)))
        return evolve(self, state=target, decided_by=by, decided_at=at,
                      reason=reason if action is ModerationAction.REJECT else None,
                      masked=self.masked or action is ModerationAction.MASK)

    @property
    def approved(self) -> bool:
        return self.state is ModerationState.APPROVED


@frozen
class Reply:
    """The therapist's one public reply to a review."""

    text: str
    at: Instant
    moderation: Moderation


@frozen
class Review:
    """A customer's review of one completed order; see the module docstring."""

    id: ReviewId
    order_id: OrderId
    customer_id: AccountId
    therapist_id: AccountId
    scores: Scores
    text: str
    tags: tuple[Tag, ...]
    submitted_at: Instant
    blind_until: Instant
    """When the review window of the order closes: the review is visible from then on at the latest."""
    moderation: Moderation
    both_sides: bool = False
    """The therapist rated the customer for this order too: the blind is lifted at once."""
    reply: Reply | None = None
    version: int = 0

    def visible_at(self, now: Instant) -> bool:
        """True when the blind is lifted (both sides reviewed, or the window closed)."""
        return self.both_sides or now >= self.blind_until

    def public_at(self, now: Instant) -> bool:
        """True when anybody may see it: approved and no longer blind."""
        return self.moderation.approved and self.visible_at(now)

    def unblind(self) -> Review:
        """The therapist rated the customer: lift the blind."""
        return evolve(self, both_sides=True)

    def moderate(self, action: ModerationAction, by: AccountId | None, at: Instant, *, admin: bool,
                 reason: str | None = None, masked_text: str | None = None) -> Review:
        """Moderate the review text (``masked_text`` replaces it for ``mask``)."""
        moderation = self.moderation.apply(action, by, at, admin=admin, reason=reason)
        return evolve(self, moderation=moderation, text=masked_text if masked_text is not None else self.text)

    def with_reply(self, text: str, at: Instant, findings: tuple[str, ...]) -> Review:
        """Attach the therapist's reply (screened like a review)."""
        return evolve(self, reply=Reply(text, at, Moderation.screened(findings)))

    def moderate_reply(self, action: ModerationAction, by: AccountId | None, at: Instant, *, admin: bool,
                       reason: str | None = None, masked_text: str | None = None) -> Review:
        """Moderate the reply (the caller checked there is one)."""
        assert self.reply is not None
        moderation = self.reply.moderation.apply(action, by, at, admin=admin, reason=reason)
        text = masked_text if masked_text is not None else self.reply.text
        return evolve(self, reply=evolve(self.reply, text=text, moderation=moderation))


@frozen
class CustomerFeedback:
    """What the therapist of an order told the platform about its customer: a private rating (1..5 with an
    optional note) and/or a flag for abuse (with a reason).  Never shown to the customer or in public."""

    order_id: OrderId
    therapist_id: AccountId
    customer_id: AccountId
    stars: int | None = None
    note: str = ""
    rated_at: Instant | None = None
    flag_reason: str = ""
    flagged_at: Instant | None = None
    version: int = 0

    @property
    def rated(self) -> bool:
        return self.rated_at is not None

    @property
    def flagged(self) -> bool:
        return self.flagged_at is not None
