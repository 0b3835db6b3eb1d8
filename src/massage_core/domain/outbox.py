"""Outbox messages: written with the change that caused them, delivered later, at least once.

States::

    pending -> sent
    pending -> pending (a failed attempt, retried after an exponential backoff)
    pending -> dead    (the attempts ran out, or the recipient may no longer be messaged; kept with the reason)
    dead    -> pending (an admin retries it)

A message carries a dedupe key -- the event's business key, the recipient and the channel -- that the
channel adapters use to show one message once even when a dispatcher delivers it twice (it crashed after
sending and before marking it sent).
"""

from __future__ import annotations

import datetime as dt
import enum
import re

from attrs import evolve, field, frozen

from massage_core.domain.errors import Conflict, ValidationError
from massage_core.domain.notifications import Category, Channel, Urgency
from massage_core.domain.time import Instant, utc

ERROR_MAX = 500
KEY_MAX = 200
_KEY = re.compile(r"^[A-Za-z0-9_.:\-]+$")


class OutboxState(enum.StrEnum):
    """Where a message is in its delivery."""

    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


def _positive(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValidationError(f"{name} must be a positive whole number", code="outbox.policy")
    return value


@frozen
class RetryPolicy:
    """Backoff after the n-th failed attempt: ``base * factor**(n-1)`` seconds, at most ``cap``; after
    ``max_attempts`` attempts the message is dead."""

    base_seconds: int = field(default=30, validator=lambda _i, _a, v: _positive("base_seconds", v))
    factor: int = field(default=2, validator=lambda _i, _a, v: _positive("factor", v))
    cap_seconds: int = field(default=3600, validator=lambda _i, _a, v: _positive("cap_seconds", v))
    max_attempts: int = field(default=8, validator=lambda _i, _a, v: _positive("max_attempts", v))

    def delay(self, attempts: int) -> dt.timedelta:
        """The wait after ``attempts`` failed attempts (``attempts`` >= 1)."""
        exponent = min(_positive("attempts", attempts) - 1, 62)
        return dt.timedelta(seconds=min(self.base_seconds * self.factor ** exponent, self.cap_seconds))


def dedupe_key(event_key: str, recipient: str, channel: Channel) -> str:
    """The key that makes a message unique per event, recipient and channel."""
    for part in (event_key, recipient):
        if not isinstance(part, str) or not _KEY.fullmatch(part):
            raise ValidationError("event keys and recipients are short ids", code="outbox.key")
    key = f"{event_key}|{recipient}|{Channel(channel).value}"
    if len(key) > KEY_MAX:
        raise ValidationError("the dedupe key is too long", code="outbox.key")
    return key


@frozen
class OutboxMessage:
    """One message for one recipient on one channel, already rendered (subject and body in the recipient's
    language and time zone), with its delivery state."""

    id: str
    dedupe_key: str
    recipient: str
    channel: Channel
    category: Category
    urgency: Urgency
    subject: str
    body: str
    created_at: Instant
    due_at: Instant
    state: OutboxState = OutboxState.PENDING
    attempts: int = 0
    last_error: str | None = None
    sent_at: Instant | None = None

    def delivered(self, at: Instant) -> OutboxMessage:
        """Mark the message sent; Conflict ``outbox.state`` unless pending."""
        self._pending("deliver")
        return evolve(self, state=OutboxState.SENT, attempts=self.attempts + 1, sent_at=utc(at), last_error=None)

    def failed(self, error: str, at: Instant, policy: RetryPolicy) -> OutboxMessage:
        """Record a failed attempt: retried after the policy's backoff, or dead when attempts ran out."""
        self._pending("fail")
        attempts = self.attempts + 1
        reason = (error or "unknown error")[:ERROR_MAX]
        if attempts >= policy.max_attempts:
            return evolve(self, state=OutboxState.DEAD, attempts=attempts, last_error=reason)
        return evolve(self, attempts=attempts, last_error=reason, due_at=utc(at) + policy.delay(attempts))

    def withheld(self, reason: str) -> OutboxMessage:
        """Park the message dead without an attempt: its recipient may no longer be messaged (``reason`` says
        why; an admin's ``retry`` sends it after all).  Conflict ``outbox.state`` unless pending."""
        self._pending("withhold")
        return evolve(self, state=OutboxState.DEAD, last_error=(reason or "withheld")[:ERROR_MAX])

    def revived(self, at: Instant) -> OutboxMessage:
        """Give a dead message a fresh set of attempts, due now; Conflict ``outbox.state`` unless dead."""
        if self.state is not OutboxState.DEAD:
            raise Conflict(f"message {self.id} is {self.state}, only dead messages can be retried",
                           code="outbox.state")
        return evolve(self, state=OutboxState.PENDING, attempts=0, due_at=utc(at))

    def _pending(self, action: str) -> None:
        if self.state is not OutboxState.PENDING:
            raise Conflict(f"cannot {action} message {self.id}: it is {self.state}", code="outbox.state")
