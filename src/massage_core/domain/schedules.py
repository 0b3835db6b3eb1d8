"""A therapist's schedule, in wall-clock time of the therapist's own IANA zone.

* weekly working hours: per ISO weekday (1 = Monday .. 7 = Sunday) any number
  of disjoint ranges ``[start, end)`` in minutes after local midnight; ``24:00``
  is a valid end, so a night shift is ``22:00-24:00`` on one day plus
  ``00:00-02:00`` on the next (they join into one interval);
* dated exceptions: a *day off* cancels that date's weekly hours; *extra hours*
  add ranges on a date (on top of the weekly hours, or instead of them when
  the date is also a day off -- "only 14:00-16:00 that day");
* rest breaks, weekly or on a date, cut into every kind of working time;
* an online switch: offline, nobody can book.

Working time of a date = (weekly hours unless a day off) + extra hours - breaks.
Turning that into real instants (and the DST rule) is ``availability``'s job.
Every change validates and returns a new Schedule with a ``ScheduleChanged``
event; the repository saves it (optimistic ``version``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

import attrs
from attrs import field, frozen

from massage_core.domain.errors import Conflict, ValidationError
from massage_core.domain.events import DomainEvent
from massage_core.domain.ids import AccountId
from massage_core.domain.time import DEFAULT_ZONE, Instant, zone

MINUTES_PER_DAY = 1440
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_RULES = 400
"""Weekly ranges + breaks + dated exceptions kept per schedule (old dates can be cleared)."""

_WEEKDAY_WORDS = {name: n for n, name in enumerate(WEEKDAY_NAMES, start=1)} | {
    name: n for n, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
                                     start=1)}
_CLOCK = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")


@frozen
class ScheduleChanged(DomainEvent):
    therapist_id: AccountId
    change: str


@frozen
class SchedulingPolicy:
    """Tunable scheduling rules.

    ``slot_step_minutes``: free slots start on this grid of the therapist's wall
    clock (must divide 24 hours); ``buffer_minutes``: travel time kept free after
    each reservation (see decision 0012); ``min_notice_minutes``: the earliest
    bookable start is now + this; ``max_range_days``: the longest date range one
    free-slot query may cover; ``max_reservation_minutes`` / ``max_buffer_minutes``:
    upper bounds for a reservation and for an explicitly given buffer.
    """

    slot_step_minutes: int = 15
    buffer_minutes: int = 30
    min_notice_minutes: int = 60
    max_range_days: int = 31
    max_reservation_minutes: int = 720
    max_buffer_minutes: int = 240

    def __attrs_post_init__(self) -> None:
        step = self.slot_step_minutes
        if not isinstance(step, int) or step < 1 or MINUTES_PER_DAY % step:
            raise ValidationError("slot step must be a whole number of minutes dividing 24 hours",
                                  code="policy.slot_step")
        for name in ("buffer_minutes", "min_notice_minutes", "max_buffer_minutes"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 0:
                raise ValidationError(f"{name} must be a non-negative integer", code="policy.minutes")
        if self.max_range_days < 1 or self.max_reservation_minutes < 1 or self.buffer_minutes > self.max_buffer_minutes:
            raise ValidationError("scheduling limits must be positive and the buffer within its maximum",
                                  code="policy.minutes")


def weekday(raw: object) -> int:
    """An ISO weekday from 1..7 or a name (``mon``/``monday``, any case); ``schedule.weekday`` otherwise."""
    if isinstance(raw, int) and not isinstance(raw, bool) and 1 <= raw <= 7:
        return raw
    if isinstance(raw, str) and (number := _WEEKDAY_WORDS.get(raw.strip().lower())):
        return number
    raise ValidationError(f"unknown weekday {raw!r}: use 1..7 (Monday = 1) or mon..sun", code="schedule.weekday",
                          field="weekday")


def calendar_day(raw: object, what: str = "day") -> dt.date:
    """A date from a ``date`` or an ISO ``YYYY-MM-DD`` string; ``schedule.date`` otherwise."""
    if isinstance(raw, dt.date) and not isinstance(raw, dt.datetime):
        return raw
    parsed = None
    if isinstance(raw, str):
        with contextlib.suppress(ValueError):
            parsed = dt.date.fromisoformat(raw.strip())
    if parsed is None:
        raise ValidationError(f"{what} must be a date (YYYY-MM-DD), not {raw!r}", code="schedule.date", field=what)
    return parsed


def clock_minute(raw: object, what: str) -> int:
    """Minutes after midnight from ``HH:MM`` (``24:00`` allowed) or a ``datetime.time``."""
    if isinstance(raw, dt.time):
        if raw.second or raw.microsecond:
            raise ValidationError(f"{what} must be a whole minute", code="schedule.time", field=what)
        return raw.hour * 60 + raw.minute
    if isinstance(raw, str) and (found := _CLOCK.match(raw.strip())):
        minute = int(found.group(1)) * 60 + int(found.group(2))
        if minute <= MINUTES_PER_DAY:
            return minute
    raise ValidationError(f"{what} must be a wall-clock time HH:MM (00:00..24:00), not {raw!r}",
                          code="schedule.time", field=what)


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@frozen(order=True)
class DayRange:
    """``[start, end)`` in minutes after local midnight, ``0 <= start < end <= 1440``."""

    start: int
    end: int

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.start < self.end <= MINUTES_PER_DAY:
            raise ValidationError(f"a time range must end after it starts ({_clock(self.start)}-"
                                  f"{_clock(self.end)})", code="schedule.range")

    @classmethod
    def parse(cls, start: object, end: object) -> DayRange:
        """From two ``HH:MM`` strings or ``datetime.time`` values."""
        first = clock_minute(start, "start")
        if first == MINUTES_PER_DAY:
            raise ValidationError("a range cannot start at 24:00", code="schedule.range", field="start")
        return cls(first, clock_minute(end, "end"))

    @property
    def label(self) -> str:
        """``09:00-17:00``."""
        return f"{_clock(self.start)}-{_clock(self.end)}"


@frozen(order=True)
class WeeklyRange:
    weekday: int
    range: DayRange


@frozen(order=True)
class DatedRange:
    day: dt.date
    range: DayRange


def _disjoint(pairs: Iterable[tuple[Any, DayRange]], what: str) -> None:
    """Refuse two overlapping ranges on the same key (weekday or date); touching is fine."""
    last: dict[Any, DayRange] = {}
    for key, rng in sorted(pairs, key=lambda p: (p[0], p[1])):
        prev = last.get(key)
        if prev is not None and rng.start < prev.end:
            raise ValidationError(f"{what} {prev.label} and {rng.label} overlap on {key}", code="schedule.overlap")
        last[key] = rng


@frozen
class Schedule:
    """See the module docstring."""

    therapist_id: AccountId
    zone: str = DEFAULT_ZONE
    online: bool = False
    weekly_hours: tuple[WeeklyRange, ...] = ()
    weekly_breaks: tuple[WeeklyRange, ...] = ()
    days_off: tuple[dt.date, ...] = ()
    extra_hours: tuple[DatedRange, ...] = ()
    dated_breaks: tuple[DatedRange, ...] = ()
    version: int = 0
    events: tuple[DomainEvent, ...] = field(default=(), eq=False, repr=False)

    @classmethod
    def new(cls, therapist_id: AccountId, zone_name: str = DEFAULT_ZONE) -> Schedule:
        """An empty, offline schedule (no working hours yet)."""
        zone(zone_name)
        return cls(therapist_id=therapist_id, zone=zone_name)

    def _with(self, change: str, now: Instant, **changes: Any) -> Schedule:
        updated = attrs.evolve(self, events=self.events + (ScheduleChanged(now, self.therapist_id, change),),
                               **changes)
        if updated.rule_count() > MAX_RULES:
            raise ValidationError(f"a schedule holds at most {MAX_RULES} ranges, days off and breaks",
                                  code="schedule.too_many")
        return updated

    def clear_events(self) -> Schedule:
        return attrs.evolve(self, events=())

    def rule_count(self) -> int:
        return (len(self.weekly_hours) + len(self.weekly_breaks) + len(self.days_off) + len(self.extra_hours)
                + len(self.dated_breaks))

    # -- changes ---------------------------------------------------------------------------------

    def with_zone(self, zone_name: str, now: Instant) -> Schedule:
        """Move the schedule to another IANA zone (wall-clock hours stay as they are)."""
        zone(zone_name)
        return self._with("zone", now, zone=zone_name)

    def with_online(self, online: bool, now: Instant) -> Schedule:
        if not isinstance(online, bool):
            raise ValidationError("online must be true or false", code="schedule.online", field="online")
        return self._with("online" if online else "offline", now, online=online)

    def with_weekly_hours(self, ranges: Iterable[WeeklyRange], now: Instant) -> Schedule:
        """Replace every weekly range; ranges of one weekday must not overlap."""
        ranges = tuple(sorted(ranges))
        _disjoint(((r.weekday, r.range) for r in ranges), "working hours")
        return self._with("weekly_hours", now, weekly_hours=ranges)

    def add_day_off(self, day: dt.date, now: Instant) -> Schedule:
        if day in self.days_off:
            raise Conflict(f"{day} is already a day off", code="schedule.duplicate")
        return self._with("day_off", now, days_off=tuple(sorted((*self.days_off, day))))

    def add_extra_hours(self, extra: DatedRange, now: Instant) -> Schedule:
        ranges = tuple(sorted((*self.extra_hours, extra)))
        _disjoint(((r.day, r.range) for r in ranges), "extra hours")
        return self._with("extra_hours", now, extra_hours=ranges)

    def clear_exceptions(self, day: dt.date, now: Instant) -> Schedule:
        """Remove the day off and the extra hours of ``day`` (``schedule.no_exception`` when none)."""
        if day not in self.days_off and not any(r.day == day for r in self.extra_hours):
            raise Conflict(f"no day off or extra hours on {day}", code="schedule.no_exception")
        return self._with("clear_exceptions", now, days_off=tuple(d for d in self.days_off if d != day),
                          extra_hours=tuple(r for r in self.extra_hours if r.day != day))

    def add_break(self, rest: WeeklyRange | DatedRange, now: Instant) -> Schedule:
        """Add a weekly or a dated break; breaks of one weekday (or date) must not overlap."""
        if isinstance(rest, WeeklyRange):
            weekly = tuple(sorted((*self.weekly_breaks, rest)))
            _disjoint(((r.weekday, r.range) for r in weekly), "breaks")
            return self._with("break", now, weekly_breaks=weekly)
        dated = tuple(sorted((*self.dated_breaks, rest)))
        _disjoint(((r.day, r.range) for r in dated), "breaks")
        return self._with("break", now, dated_breaks=dated)

    def remove_break(self, rest: WeeklyRange | DatedRange, now: Instant) -> Schedule:
        """Remove exactly that break (``schedule.no_break`` when there is none)."""
        if rest not in self.weekly_breaks and rest not in self.dated_breaks:
            raise Conflict("there is no such break", code="schedule.no_break")
        return self._with("remove_break", now, weekly_breaks=tuple(r for r in self.weekly_breaks if r != rest),
                          dated_breaks=tuple(r for r in self.dated_breaks if r != rest))

    # -- reading ----------------------------------------------------------------------------------

    def hours_on(self, day: dt.date) -> list[DayRange]:
        """The declared working ranges of a date before breaks: weekly (unless a day off) plus extra."""
        ranges = [] if day in self.days_off else [r.range for r in self.weekly_hours if r.weekday == day.isoweekday()]
        ranges.extend(r.range for r in self.extra_hours if r.day == day)
        return ranges

    def breaks_on(self, day: dt.date) -> list[DayRange]:
        """The break ranges of a date: weekly ones of its weekday plus dated ones."""
        found = [r.range for r in self.weekly_breaks if r.weekday == day.isoweekday()]
        found.extend(r.range for r in self.dated_breaks if r.day == day)
        return found
