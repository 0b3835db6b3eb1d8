"""Half-open time intervals ``[start, end)`` and fast span arithmetic.

``Interval`` is the value object the services take and return (aware
instants in UTC).  Inside the scheduling algorithms time is an integer
number of microseconds since the Unix epoch ("micros"): exact, cheap to
compare, and free of time-zone objects.  A *span* is a ``(start, end)``
pair of micros with ``start < end``; the helpers below work on lists of
spans sorted by start.

Half-open means an interval contains its start but not its end, so two
intervals where one ends exactly when the other starts do not overlap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pendulum
from attrs import frozen

from massage_core.domain.errors import ValidationError
from massage_core.domain.time import Instant, utc

MICROS_PER_SECOND = 1_000_000
MICROS_PER_MINUTE = 60 * MICROS_PER_SECOND
_SECONDS_PER_DAY = 86_400
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()

Span = tuple[int, int]
"""``(start, end)`` in micros, ``start < end``, half-open."""


def to_micros(value: dt.datetime) -> int:
    """Exact microseconds since the epoch of an aware datetime (naive ones raise ``time.naive``)."""
    offset = value.utcoffset()
    if offset is None:
        raise ValidationError("time must be timezone-aware", code="time.naive")
    days = value.toordinal() - _EPOCH_ORDINAL
    seconds = days * _SECONDS_PER_DAY + value.hour * 3600 + value.minute * 60 + value.second
    seconds -= offset.days * _SECONDS_PER_DAY + offset.seconds
    return seconds * MICROS_PER_SECOND + value.microsecond - offset.microseconds


def from_micros(micros: int) -> Instant:
    """The UTC instant ``micros`` microseconds after the epoch."""
    seconds, micro = divmod(micros, MICROS_PER_SECOND)
    days, rest = divmod(seconds, _SECONDS_PER_DAY)
    day = dt.date.fromordinal(_EPOCH_ORDINAL + days)
    hour, rest = divmod(rest, 3600)
    minute, second = divmod(rest, 60)
    return pendulum.DateTime(day.year, day.month, day.day, hour, minute, second, micro, tzinfo=pendulum.UTC)


def many_from_micros(values: Iterable[int]) -> list[Instant]:
    """``from_micros`` of many values, each calendar day computed once (free-slot lists are long)."""
    days: dict[int, dt.date] = {}
    found: list[Instant] = []
    utc_zone = pendulum.UTC
    for micros in values:
        seconds, micro = divmod(micros, MICROS_PER_SECOND)
        day_number, rest = divmod(seconds, _SECONDS_PER_DAY)
        day = days.get(day_number)
        if day is None:
            day = days[day_number] = dt.date.fromordinal(_EPOCH_ORDINAL + day_number)
        hour, rest = divmod(rest, 3600)
        minute, second = divmod(rest, 60)
        found.append(pendulum.DateTime(day.year, day.month, day.day, hour, minute, second, micro, tzinfo=utc_zone))
    return found


@frozen
class Interval:
    """``[start, end)`` between two UTC instants; ``end`` is strictly after ``start``."""

    start: Instant
    end: Instant

    def __attrs_post_init__(self) -> None:
        if not self.end > self.start:
            raise ValidationError("an interval must end after it starts", code="interval.empty")

    @classmethod
    def of(cls, start: dt.datetime, end: dt.datetime) -> Interval:
        """Validate two aware datetimes (``time.naive``, ``interval.empty``) and convert them to UTC."""
        return cls(utc(start), utc(end))

    @classmethod
    def from_span(cls, span: Span) -> Interval:
        """The interval of a span of micros."""
        return cls(from_micros(span[0]), from_micros(span[1]))

    @property
    def span(self) -> Span:
        """The interval in micros."""
        return (to_micros(self.start), to_micros(self.end))

    @property
    def duration(self) -> dt.timedelta:
        return dt.timedelta(microseconds=to_micros(self.end) - to_micros(self.start))

    def overlaps(self, other: Interval) -> bool:
        """True when the two share at least one instant (touching ends do not)."""
        return self.start < other.end and other.start < self.end

    def contains(self, other: Interval) -> bool:
        """True when ``other`` lies entirely inside this interval."""
        return self.start <= other.start and other.end <= self.end


def merge(spans: Iterable[Span]) -> list[Span]:
    """The union of ``spans`` as sorted, disjoint, non-touching spans (empty spans are dropped)."""
    merged: list[Span] = []
    for start, end in sorted(s for s in spans if s[0] < s[1]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def subtract(spans: list[Span], cuts: list[Span]) -> list[Span]:
    """``spans`` minus ``cuts``; both must be merged (sorted, disjoint), and so is the result."""
    result: list[Span] = []
    j = 0
    for start, end in spans:
        while j < len(cuts) and cuts[j][1] <= start:
            j += 1
        k = j
        cursor = start
        while k < len(cuts) and cuts[k][0] < end:
            if cuts[k][0] > cursor:
                result.append((cursor, cuts[k][0]))
            cursor = max(cursor, cuts[k][1])
            k += 1
        if cursor < end:
            result.append((cursor, end))
    return result


def covering(spans: list[Span], start: int, end: int) -> bool:
    """True when ``[start, end)`` lies inside one of the merged ``spans``."""
    return any(s <= start and end <= e for s, e in spans)
