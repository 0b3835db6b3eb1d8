"""The in-app inbox and what an account chose to hear (issue 7, decision 0041).

An ``InboxItem`` is an outbox message of the ``inbox`` channel as its recipient keeps it: delivered once
per dedupe key (a second delivery of the same key is not a second item), read or unread.
``NotificationSettings`` is what an account stored: its ``Preferences`` (channels per category, quiet hours)
and its locale; the zone the quiet hours are read in is not stored but taken from the account (a
therapist's profile zone, else the platform default).
"""

from __future__ import annotations

from attrs import evolve, field, frozen

from massage_core.domain.errors import ValidationError
from massage_core.domain.notifications import Category, Preferences
from massage_core.domain.templates import DEFAULT_LOCALE, LOCALES
from massage_core.domain.time import Instant, utc


def locale(value: object) -> str:
    """A supported locale (``zh-CN`` or ``en``); ValidationError ``notification.locale`` otherwise."""
    if not isinstance(value, str) or value not in LOCALES:
        raise ValidationError(f"locale must be one of {', '.join(LOCALES)}", code="notification.locale",
                              field="locale")
    return value


@frozen
class NotificationSettings:
    """An account's stored choices: channels per category and quiet hours (``preferences``) and ``locale``."""

    preferences: Preferences = field(factory=Preferences)
    locale: str = field(default=DEFAULT_LOCALE, converter=locale)


@frozen
class InboxItem:
    """One message in a person's in-app inbox; its id is the outbox message's id."""

    id: str
    recipient: str
    dedupe_key: str
    category: Category
    subject: str
    body: str
    delivered_at: Instant
    read_at: Instant | None = None

    @property
    def unread(self) -> bool:
        """True until the recipient marked it read."""
        return self.read_at is None

    def read(self, at: Instant) -> InboxItem:
        """Mark it read at ``at`` (reading it again keeps the first time)."""
        if self.read_at is not None:
            return self
        return evolve(self, read_at=utc(at))
