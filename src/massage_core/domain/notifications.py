"""Who hears about what, on which channel, and when: notification preferences and quiet hours.

Every account chooses its channels per category; the in-app inbox is always on (it is the record a person
can go back to), and safety messages (SOS) use every channel whatever was chosen.  Quiet hours are a
wall-clock window in the recipient's own time zone (it may wrap midnight); a normal message due inside it
waits until the window ends, an urgent one (order-critical, SOS) goes at once.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping

import pendulum
from attrs import field, frozen

from massage_core.domain.errors import ValidationError
from massage_core.domain.time import DEFAULT_ZONE, Instant, utc, zone


class Channel(enum.StrEnum):
    """A way a message reaches a person."""

    INBOX = "inbox"
    PUSH = "push"
    SMS = "sms"
    EMAIL = "email"


class Category(enum.StrEnum):
    """What a message is about; preferences are chosen per category."""

    ORDERS = "orders"
    ACCOUNT = "account"
    MONEY = "money"
    REVIEWS = "reviews"
    ANNOUNCEMENTS = "announcements"
    PROMOTIONS = "promotions"
    SAFETY = "safety"


class Urgency(enum.StrEnum):
    """``normal`` messages respect quiet hours; ``urgent`` ones (order-critical, SOS) do not."""

    NORMAL = "normal"
    URGENT = "urgent"


DEFAULT_CHANNELS: Mapping[Category, frozenset[Channel]] = {
    Category.ORDERS: frozenset({Channel.INBOX, Channel.PUSH, Channel.SMS}),
    Category.ACCOUNT: frozenset({Channel.INBOX, Channel.EMAIL}),
    Category.MONEY: frozenset({Channel.INBOX, Channel.PUSH}),
    Category.REVIEWS: frozenset({Channel.INBOX}),
    Category.ANNOUNCEMENTS: frozenset({Channel.INBOX, Channel.PUSH}),
    Category.PROMOTIONS: frozenset({Channel.INBOX}),
    Category.SAFETY: frozenset(Channel),
}
"""What an account hears before it chooses anything."""


def _clock_time(value: object) -> dt.time:
    if not isinstance(value, dt.time) or value.tzinfo is not None:
        raise ValidationError("quiet hours are wall-clock times without a zone", code="notification.quiet_hours")
    return value.replace(second=0, microsecond=0)


@frozen
class QuietHours:
    """A daily wall-clock window ``[start, end)`` in the recipient's zone; ``start > end`` wraps midnight
    (22:00-08:00).  ``start == end`` is refused: say no quiet hours with ``None`` instead."""

    start: dt.time = field(converter=_clock_time)
    end: dt.time = field(converter=_clock_time)

    def __attrs_post_init__(self) -> None:
        if self.start == self.end:
            raise ValidationError("quiet hours must not start and end at the same time",
                                  code="notification.quiet_hours")

    @classmethod
    def parse(cls, text: object) -> QuietHours:
        """``"22:00-08:00"`` -> QuietHours; ValidationError ``notification.quiet_hours`` otherwise."""
        if not isinstance(text, str) or text.count("-") != 1:
            raise ValidationError("quiet hours look like 22:00-08:00", code="notification.quiet_hours")
        try:
            start, end = (dt.time.fromisoformat(part.strip()) for part in text.split("-"))
        except ValueError as exc:
            raise ValidationError("quiet hours look like 22:00-08:00", code="notification.quiet_hours") from exc
        return cls(start, end)

    def contains(self, wall: dt.time) -> bool:
        """Whether the wall-clock time ``wall`` falls inside the window."""
        wall = wall.replace(second=0, microsecond=0, tzinfo=None)
        if self.start < self.end:
            return self.start <= wall < self.end
        return wall >= self.start or wall < self.end

    def release(self, at: Instant, zone_name: str) -> Instant:
        """The first instant at or after ``at`` outside the window, in UTC.  The end is a wall-clock time in
        ``zone_name``; a wall time that does not exist that day (a DST gap) is moved forward by the gap, an
        ambiguous one (the hour repeated in autumn) is read as its later occurrence."""
        local = utc(at).in_timezone(zone(zone_name))
        if not self.contains(local.time()):
            return utc(at)
        day = local.date() if local.time() < self.end else local.date() + dt.timedelta(days=1)
        released = pendulum.datetime(day.year, day.month, day.day, self.end.hour, self.end.minute,
                                     tz=zone(zone_name))
        return utc(max(released, utc(at)))

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def _channels(value: object) -> Mapping[Category, frozenset[Channel]]:
    if not isinstance(value, Mapping):
        raise ValidationError("channels are chosen per category", code="notification.channels")
    chosen = dict(DEFAULT_CHANNELS)
    for raw_category, raw_channels in value.items():
        try:
            category = Category(raw_category)
            channels = frozenset(Channel(str(c)) for c in _iterable(raw_channels))
        except ValueError as exc:
            raise ValidationError(f"unknown category or channel in {raw_category!r}",
                                  code="notification.channels") from exc
        chosen[category] = channels | {Channel.INBOX}
    chosen[Category.SAFETY] = frozenset(Channel)
    return chosen


def _iterable(value: object) -> Iterable[object]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValidationError("channels are a collection of channel names", code="notification.channels")
    return value


def _zone_name(value: object) -> str:
    if not isinstance(value, str):
        raise ValidationError("time zone must be an IANA name", code="time.zone")
    zone(value)
    return value


def _quiet(value: object) -> QuietHours | None:
    if value is None or isinstance(value, QuietHours):
        return value
    return QuietHours.parse(value)


@frozen
class Preferences:
    """One account's choices: channels per category (inbox always on, safety always everything), quiet
    hours (or None) and the zone they are read in."""

    channels: Mapping[Category, frozenset[Channel]] = field(factory=lambda: dict(DEFAULT_CHANNELS),
                                                            converter=_channels)
    quiet_hours: QuietHours | None = field(default=None, converter=_quiet)
    zone_name: str = field(default=DEFAULT_ZONE, converter=_zone_name)

    def channels_for(self, category: Category) -> frozenset[Channel]:
        """The channels a message of ``category`` goes out on."""
        return self.channels[Category(category)]

    def deliver_at(self, now: Instant, urgency: Urgency) -> Instant:
        """When a message created at ``now`` may be delivered: at once when urgent or outside quiet hours,
        otherwise when the quiet hours end."""
        if Urgency(urgency) is Urgency.URGENT or self.quiet_hours is None:
            return utc(now)
        return self.quiet_hours.release(now, self.zone_name)
