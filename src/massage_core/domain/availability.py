"""From a schedule to real instants: working time in UTC and free slots.

The DST rule (decision 0013).  A wall-clock time of the therapist's zone
becomes an instant like this:

* it exists once -> that instant;
* it exists twice (the repeated hour when clocks fall back) -> the FIRST
  occurrence (PEP 495 ``fold=0``);
* it does not exist (the hour skipped when clocks spring forward) -> the
  first instant after the gap, i.e. the moment of the change.

A range is the real interval between its converted ends, so a 09:00-17:00
shift is 8 real hours on every day whose change happens at night; a shift
over the spring gap is shorter (01:00-04:00 New York time is 2 real hours),
one over the autumn overlap longer (00:00-03:00 is 4), and a range wholly
inside the gap is empty.  Breaks are converted the same way and subtracted.

Free slots start on the ``slot_step`` grid of the therapist's wall clock
(every instant whose local time is a multiple of the step after midnight, so
both 01:00s of the repeated hour are on a 60-minute grid), need ``duration``
of uninterrupted working time, start no earlier than ``now + min_notice``,
and keep ``[start, end + buffer)`` clear of every live reservation's blocked
interval (decision 0012).  Everything runs on integer micros.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from zoneinfo import ZoneInfo

from massage_core.domain.intervals import (
    MICROS_PER_MINUTE,
    MICROS_PER_SECOND,
    Interval,
    Span,
    covering,
    merge,
    subtract,
)
from massage_core.domain.schedules import MINUTES_PER_DAY, DayRange, Schedule, SchedulingPolicy
from massage_core.domain.time import zone

_DAY = dt.timedelta(days=1)
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_DAY_MICROS = 86_400 * MICROS_PER_SECOND


def _offset(tz: ZoneInfo, micros: int) -> int:
    """The zone's UTC offset (micros) at an instant."""
    return _micros(dt.datetime.fromtimestamp(micros // MICROS_PER_SECOND, tz).utcoffset())


def _first_change(tz: ZoneInfo, low: int, high: int, offset: int) -> int:
    """The first whole second in ``(low, high]`` (micros) where the offset is no longer ``offset``.

    The caller knows the offset at ``low`` is ``offset`` and at ``high`` is not.
    """
    lo, hi = low // MICROS_PER_SECOND, high // MICROS_PER_SECOND
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset(tz, mid * MICROS_PER_SECOND) == offset:
            lo = mid
        else:
            hi = mid
    return hi * MICROS_PER_SECOND


def _micros(delta: dt.timedelta | None) -> int:
    assert delta is not None
    return (delta.days * 86_400 + delta.seconds) * MICROS_PER_SECOND + delta.microseconds


def wall_to_micros(tz: ZoneInfo, day: dt.date, minute: int) -> int:
    """The instant (micros) of ``minute`` after midnight of ``day`` in ``tz``, by the module's DST rule."""
    if minute >= MINUTES_PER_DAY:
        day, minute = day + _DAY, minute - MINUTES_PER_DAY
    naive = dt.datetime(day.year, day.month, day.day, minute // 60, minute % 60)
    wall = ((day.toordinal() - _EPOCH_ORDINAL) * 1440 + minute) * MICROS_PER_MINUTE
    before, after = tz.utcoffset(naive), tz.utcoffset(naive.replace(fold=1))
    first = wall - _micros(before)
    if before == after:
        return first
    second = wall - _micros(after)
    if first < second:  # the repeated hour: the first occurrence
        return first
    # the skipped hour: the change happens in (second, first]; the wall time maps to it
    return _first_change(tz, second, first, _micros(before))


def local_date(tz: ZoneInfo, micros: int) -> dt.date:
    """The therapist's calendar date at an instant."""
    return dt.datetime.fromtimestamp(micros // MICROS_PER_SECOND, tz).date()


def working_spans(schedule: Schedule, first: dt.date, last: dt.date) -> list[Span]:
    """Working time of the dates ``first..last`` (therapist's calendar) as merged UTC spans, breaks removed."""
    tz = zone(schedule.zone)
    weekly: dict[tuple[str, int], list[DayRange]] = defaultdict(list)
    dated: dict[tuple[str, dt.date], list[DayRange]] = defaultdict(list)
    for w in schedule.weekly_hours:
        weekly["work", w.weekday].append(w.range)
    for w in schedule.weekly_breaks:
        weekly["rest", w.weekday].append(w.range)
    for d in schedule.extra_hours:
        dated["work", d.day].append(d.range)
    for d in schedule.dated_breaks:
        dated["rest", d.day].append(d.range)
    days_off = set(schedule.days_off)
    work: list[Span] = []
    rest: list[Span] = []
    day = first
    while day <= last:
        weekday = day.isoweekday()
        hours = dated.get(("work", day), [])
        if day not in days_off:
            hours = weekly.get(("work", weekday), []) + hours
        for into, ranges in ((work, hours), (rest, weekly.get(("rest", weekday), []) + dated.get(("rest", day), []))):
            for rng in ranges:
                into.append((wall_to_micros(tz, day, rng.start), wall_to_micros(tz, day, rng.end)))
        day += _DAY
    return subtract(merge(work), merge(rest))


def working_intervals(schedule: Schedule, first: dt.date, last: dt.date) -> list[Interval]:
    """``working_spans`` as Interval values."""
    return [Interval.from_span(span) for span in working_spans(schedule, first, last)]


def _constant_offset_pieces(tz: ZoneInfo, low: int, high: int) -> Iterator[tuple[int, int, int]]:
    """Split ``[low, high)`` into pieces of at most a day with one UTC offset each: ``(start, end, offset)``."""
    start = low
    while start < high:
        end = min(high, start + _DAY_MICROS)
        offset = _offset(tz, start)
        if _offset(tz, end - 1) != offset:
            end = _first_change(tz, start, end - 1, offset)
        yield start, end, offset
        start = end


def slot_starts(spans: list[Span], zone_name: str, *, duration: int, tail: int, step: int, earliest: int,
                busy: list[Span]) -> list[int]:
    """Starts (micros) of free slots; every argument in micros, ``spans`` and ``busy`` merged.

    A start ``t`` qualifies when it is on the wall-clock grid of ``step``,
    ``t >= earliest``, ``[t, t + duration)`` lies in one working span and
    ``[t, t + tail)`` overlaps no busy span (``tail`` = duration + buffer).
    """
    tz = zone(zone_name)
    found: list[int] = []
    j, n = 0, len(busy)
    for span_start, span_end in spans:
        low = max(span_start, earliest)
        high = span_end - duration + 1  # starts in [low, high)
        if low >= high:
            continue
        for piece_start, piece_end, offset in _constant_offset_pieces(tz, low, high):
            t = piece_start + (-(piece_start + offset)) % step
            while t < piece_end:
                while j < n and busy[j][1] <= t:
                    j += 1
                if j < n and busy[j][0] < t + tail:
                    free_from = busy[j][1]
                    t = free_from + (-(free_from + offset)) % step
                    continue
                found.append(t)
                t += step
    return found


def free_slots(schedule: Schedule, first: dt.date, last: dt.date, *, duration_minutes: int,
               blocked: Iterable[Span], policy: SchedulingPolicy, now: int,
               buffer_minutes: int | None = None) -> list[int]:
    """Free slot starts (micros) for ``duration_minutes`` on the dates ``first..last``; [] when offline.

    ``blocked``: the blocked spans of the therapist's live reservations;
    ``now``: micros; ``buffer_minutes`` defaults to the policy's buffer.
    """
    if not schedule.online:
        return []
    buffer = policy.buffer_minutes if buffer_minutes is None else buffer_minutes
    duration = duration_minutes * MICROS_PER_MINUTE
    return slot_starts(
        working_spans(schedule, first, last), schedule.zone, duration=duration,
        tail=duration + buffer * MICROS_PER_MINUTE, step=policy.slot_step_minutes * MICROS_PER_MINUTE,
        earliest=now + policy.min_notice_minutes * MICROS_PER_MINUTE, busy=merge(blocked))


def fits_working_time(schedule: Schedule, span: Span) -> bool:
    """True when ``span`` lies inside one stretch of the schedule's working time (breaks excluded)."""
    tz = zone(schedule.zone)
    first, last = local_date(tz, span[0]) - _DAY, local_date(tz, span[1]) + _DAY
    return covering(working_spans(schedule, first, last), span[0], span[1])


def busy_window(spans: list[Span], buffer_minutes: int) -> Span | None:
    """The window whose reservations can touch slots inside ``spans`` (None when there is no working time)."""
    if not spans:
        return None
    return spans[0][0], spans[-1][1] + buffer_minutes * MICROS_PER_MINUTE

