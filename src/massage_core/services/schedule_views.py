"""Read models and input parsing of the schedules context."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from attrs import frozen

from massage_core.domain.errors import ValidationError
from massage_core.domain.intervals import many_from_micros
from massage_core.domain.reservations import Reservation
from massage_core.domain.schedules import WEEKDAY_NAMES, DatedRange, DayRange, Schedule, WeeklyRange, weekday
from massage_core.domain.time import Instant


@frozen
class ScheduleView:
    """A schedule as its owner (or an admin) sees it; times are ``HH:MM`` wall-clock in ``zone``."""

    therapist_id: str
    zone: str
    online: bool
    weekly_hours: tuple[tuple[str, str, str], ...]
    """``(weekday, start, end)``, e.g. ``("mon", "09:00", "17:00")``."""
    weekly_breaks: tuple[tuple[str, str, str], ...]
    days_off: tuple[dt.date, ...]
    extra_hours: tuple[tuple[dt.date, str, str], ...]
    dated_breaks: tuple[tuple[dt.date, str, str], ...]
    version: int

    @classmethod
    def of(cls, schedule: Schedule) -> ScheduleView:
        def weekly(ranges: Sequence[WeeklyRange]) -> tuple[tuple[str, str, str], ...]:
            return tuple((WEEKDAY_NAMES[r.weekday - 1], *_ends(r.range)) for r in ranges)

        def dated(ranges: Sequence[DatedRange]) -> tuple[tuple[dt.date, str, str], ...]:
            return tuple((r.day, *_ends(r.range)) for r in ranges)

        return cls(therapist_id=schedule.therapist_id, zone=schedule.zone, online=schedule.online,
                   weekly_hours=weekly(schedule.weekly_hours), weekly_breaks=weekly(schedule.weekly_breaks),
                   days_off=schedule.days_off, extra_hours=dated(schedule.extra_hours),
                   dated_breaks=dated(schedule.dated_breaks), version=schedule.version)


def _ends(rng: DayRange) -> tuple[str, str]:
    start, end = rng.label.split("-")
    return start, end


@frozen
class Slot:
    """A free slot from ``start`` (UTC; present it in ``FreeSlots.zone``) for ``minutes``."""

    start: Instant
    minutes: int

    @property
    def end(self) -> Instant:
        return self.start + dt.timedelta(minutes=self.minutes)


@frozen
class FreeSlots:
    """The free slots of one therapist for one service duration over a date range (their calendar)."""

    therapist_id: str
    zone: str
    duration_minutes: int
    first_day: dt.date
    last_day: dt.date
    slots: tuple[Slot, ...]

    @classmethod
    def of(cls, therapist_id: str, zone: str, duration_minutes: int, first_day: dt.date, last_day: dt.date,
           starts: Sequence[int]) -> FreeSlots:
        slots = tuple(Slot(start, duration_minutes) for start in many_from_micros(starts))
        return cls(therapist_id, zone, duration_minutes, first_day, last_day, slots)


@frozen
class ReservationView:
    """A reservation and its status at the time it was read."""

    id: str
    therapist_id: str
    start: Instant
    end: Instant
    blocked_start: Instant
    blocked_end: Instant
    reference: str
    status: str
    hold_until: Instant | None
    released_at: Instant | None
    created_at: Instant
    made_by: str

    @classmethod
    def of(cls, reservation: Reservation, now: Instant) -> ReservationView:
        r = reservation
        return cls(id=r.id, therapist_id=r.therapist_id, start=r.start, end=r.end, blocked_start=r.blocked_start,
                   blocked_end=r.blocked_end, reference=r.reference, status=r.status(now).value,
                   hold_until=r.hold_until, released_at=r.released_at, created_at=r.created_at, made_by=r.made_by)


def minutes(raw: object, what: str, low: int, high: int, code: str) -> int:
    """A whole number of minutes in ``low..high``."""
    if not isinstance(raw, int) or isinstance(raw, bool) or not low <= raw <= high:
        raise ValidationError(f"{what} must be a whole number of minutes in {low}..{high}", code=code, field=what)
    return raw


def weekly_ranges(hours: object) -> list[WeeklyRange]:
    """``{"mon": [("09:00", "12:00"), ("13:00", "18:00")], 6: [...]}`` -> weekly ranges."""
    if not isinstance(hours, Mapping):
        raise ValidationError("hours must map weekdays to lists of (start, end) pairs", code="schedule.hours",
                              field="hours")
    ranges: list[WeeklyRange] = []
    seen: set[int] = set()
    for key, pairs in hours.items():
        day = weekday(key)
        if day in seen:
            raise ValidationError(f"weekday {key!r} given twice", code="schedule.weekday", field="hours")
        seen.add(day)
        if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Sequence):
            raise ValidationError("each weekday needs a list of (start, end) pairs", code="schedule.hours",
                                  field="hours")
        for pair in pairs:
            if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
                raise ValidationError(f"not a (start, end) pair: {pair!r}", code="schedule.hours", field="hours")
            ranges.append(WeeklyRange(day, DayRange.parse(pair[0], pair[1])))
    return ranges
