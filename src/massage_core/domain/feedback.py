"""Feedback and suggestions to the platform (C10, A1): any signed-in account writes; admins reply.

A feedback item is ``open`` until an admin replies, then ``answered``; admins may add further replies (at most
``REPLIES_MAX``), and the author may read every reply.  The text and the replies are personal data (encrypted
at rest by the SQL adapter).  Decision 0038.
"""

from __future__ import annotations

import enum
from typing import NewType

import attrs
from attrs import frozen

from massage_core.domain.errors import Conflict, ValidationError
from massage_core.domain.ids import AccountId, check_id
from massage_core.domain.time import Instant, utc

FeedbackId = NewType("FeedbackId", str)

TEXT_MAX = 2_000
REPLY_MAX = 2_000
REPLIES_MAX = 20


def feedback_id(raw: object) -> FeedbackId:
    """Validate and type a feedback id (``fbk_`` + 26 base32 characters)."""
    return FeedbackId(check_id("feedback", raw))


class FeedbackKind(enum.StrEnum):
    """What the author is telling the platform."""

    FEEDBACK = "feedback"
    SUGGESTION = "suggestion"
    BUG = "bug"


class FeedbackState(enum.StrEnum):
    """``open`` until the first reply, ``answered`` after it."""

    OPEN = "open"
    ANSWERED = "answered"


def _text(value: object, name: str, limit: int) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not 1 <= len(text) <= limit:
        raise ValidationError(f"{name} must be 1..{limit} characters", code=f"feedback.{name}", field=name)
    return text


def feedback_kind(value: object) -> FeedbackKind:
    """The kind named by ``value``; ValidationError ``feedback.kind`` otherwise."""
    try:
        return FeedbackKind(value if isinstance(value, str) else "")
    except ValueError:
        raise ValidationError(f"unknown feedback kind {str(value)[:20]!r}", code="feedback.kind",
                              field="kind") from None


def feedback_state(value: object) -> FeedbackState:
    """The state named by ``value``; ValidationError ``feedback.state`` otherwise."""
    try:
        return FeedbackState(value if isinstance(value, str) else "")
    except ValueError:
        raise ValidationError(f"unknown feedback state {str(value)[:20]!r}", code="feedback.state",
                              field="state") from None


@frozen
class FeedbackReply:
    """An admin's reply: when, who, what."""

    at: Instant
    admin_id: AccountId
    text: str


@frozen
class Feedback:
    """One piece of feedback, a suggestion or a bug report, with the platform's replies."""

    id: FeedbackId
    author_id: AccountId
    kind: FeedbackKind
    text: str
    submitted_at: Instant
    state: FeedbackState = FeedbackState.OPEN
    replies: tuple[FeedbackReply, ...] = ()
    version: int = 0

    @classmethod
    def submit(cls, ident: FeedbackId, author: AccountId, kind: FeedbackKind | str, text: str,
               now: Instant) -> Feedback:
        """New open feedback.  ValidationError ``feedback.kind``, ``feedback.text`` (1..2000 characters)."""
        return cls(ident, author, feedback_kind(kind), _text(text, "text", TEXT_MAX), utc(now))

    def reply(self, admin: AccountId, now: Instant, text: str) -> Feedback:
        """Add an admin's reply (1..2000 characters: ValidationError ``feedback.reply``); the item is answered.
        Conflict ``feedback.too_many_replies`` beyond REPLIES_MAX."""
        body = _text(text, "reply", REPLY_MAX)
        if len(self.replies) >= REPLIES_MAX:
            raise Conflict(f"at most {REPLIES_MAX} replies", code="feedback.too_many_replies")
        added = FeedbackReply(utc(now), admin, body)
        return attrs.evolve(self, state=FeedbackState.ANSWERED, replies=self.replies + (added,))
