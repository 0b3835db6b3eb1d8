"""Free slots equal a brute-force, minute-by-minute reference on random schedules (property-based).

The reference knows nothing of spans, merging, offsets or grids: it lists the
wall-clock reading of every UTC minute of the window, converts a range end by
taking the FIRST minute whose reading is at or after it (the documented DST
rule: first occurrence; in a gap, the first instant after it), marks working
and busy minutes one by one, and tests every minute as a start.  Random
schedules sit on and around DST changes of several zones (a 30-minute change
on Lord Howe Island, a 5:45 offset in Kathmandu, Shanghai's 1991 summer time).
"""

from __future__ import annotations

import datetime as dt
from itertools import accumulate
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from massage_core.domain.availability import free_slots
from massage_core.domain.ids import AccountId
from massage_core.domain.intervals import MICROS_PER_MINUTE
from massage_core.domain.schedules import DatedRange, DayRange, Schedule, SchedulingPolicy, WeeklyRange

CHANGES = {  # days on which the zone's clocks change (and a quiet day)
    "America/New_York": (dt.date(2026, 3, 8), dt.date(2026, 11, 1)),
    "Europe/London": (dt.date(2026, 3, 29), dt.date(2026, 10, 25)),
    "Australia/Lord_Howe": (dt.date(2026, 4, 5), dt.date(2026, 10, 4)),
    "Asia/Shanghai": (dt.date(1991, 4, 14), dt.date(1991, 9, 15), dt.date(2026, 6, 10)),
    "Asia/Kathmandu": (dt.date(2026, 6, 10),),
    "UTC": (dt.date(2026, 6, 10),),
}
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def epoch_minute(day: dt.date) -> int:
    return int((dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) - EPOCH).total_seconds()) // 60


@st.composite
def ranges(draw: st.DrawFn, most: int) -> list[DayRange]:
    """Disjoint ranges on a 30-minute grid (often around 01:00-03:00, where clocks change)."""
    mark = st.integers(0, 48).map(lambda n: n * 30) | st.sampled_from((0, 60, 90, 120, 135, 150, 180, 1440))
    marks = draw(st.lists(mark, min_size=0, max_size=2 * most, unique=True))
    marks.sort()
    return [DayRange(a, b) for a, b in zip(marks[::2], marks[1::2])]


@st.composite
def cases(draw: st.DrawFn) -> dict[str, object]:
    zone = draw(st.sampled_from(sorted(CHANGES)))
    change = draw(st.sampled_from(CHANGES[zone]))
    first = change - dt.timedelta(days=draw(st.integers(0, 1)))
    last = change + dt.timedelta(days=draw(st.integers(0, 1)))
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    weekly = [WeeklyRange(w, r) for w in range(1, 8) for r in draw(ranges(3))]
    weekly_breaks = [WeeklyRange(w, r) for w in range(1, 8) for r in draw(ranges(1))]
    days_off = draw(st.lists(st.sampled_from(days), unique=True, max_size=1))
    extra = [DatedRange(d, r) for d in draw(st.lists(st.sampled_from(days), unique=True, max_size=2))
             for r in draw(ranges(2))]
    dated_breaks = [DatedRange(d, r) for d in draw(st.lists(st.sampled_from(days), unique=True, max_size=1))
                    for r in draw(ranges(1))]
    schedule = Schedule(AccountId("acc_x"), zone=zone, online=draw(st.sampled_from((True, True, True, False))),
                        weekly_hours=tuple(sorted(weekly)), weekly_breaks=tuple(sorted(weekly_breaks)),
                        days_off=tuple(sorted(days_off)), extra_hours=tuple(sorted(extra)),
                        dated_breaks=tuple(sorted(dated_breaks)))
    base = epoch_minute(first)
    blocked = [(s, s + draw(st.integers(5, 180))) for s in
               draw(st.lists(st.integers(-1440, 4 * 1440).map(lambda m: base + m - m % 5), max_size=5))]
    return {
        "schedule": schedule, "first": first, "last": last, "blocked": blocked,
        "duration": draw(st.sampled_from((15, 30, 45, 60, 90, 120))),
        "policy": SchedulingPolicy(slot_step_minutes=draw(st.sampled_from((5, 15, 30, 60))),
                                   buffer_minutes=draw(st.sampled_from((0, 10, 30))),
                                   min_notice_minutes=draw(st.sampled_from((0, 60)))),
        "now": base + draw(st.integers(-1440, 1440)),
    }


class Minutes:
    """Per UTC minute of the window: the wall-clock reading, working (after breaks) and busy (blocked) flags."""

    def __init__(self, schedule: Schedule, first: dt.date, last: dt.date, blocked: list[tuple[int, int]]) -> None:
        self.low, self.readings, self.working, self.busy = minute_maps(schedule, first, last, blocked)

    def all_working(self, start: int, end: int) -> bool:
        return all(self.working[m - self.low] for m in range(start, end))

    def none_busy(self, start: int, end: int) -> bool:
        return not any(self.busy[m - self.low] for m in range(start, end))


def minute_maps(schedule: Schedule, first: dt.date, last: dt.date,
                blocked: list[tuple[int, int]]) -> tuple[int, list[tuple[dt.date, int]], list[int], list[int]]:
    tz = ZoneInfo(schedule.zone)
    low, high = epoch_minute(first - dt.timedelta(days=2)), epoch_minute(last + dt.timedelta(days=3))
    readings = []
    for m in range(low, high):
        local = dt.datetime.fromtimestamp(m * 60, tz)
        readings.append((local.date(), local.hour * 60 + local.minute))

    def instant(day: dt.date, minute: int) -> int:
        target = (day + dt.timedelta(days=minute // 1440), minute % 1440)
        earliest = max(epoch_minute(day) + minute - 15 * 60 - low, 0)  # no zone is more than 14 h ahead of UTC
        return next(i for i in range(earliest, len(readings)) if readings[i] >= target)

    size = high - low
    working, busy = [0] * size, [0] * size
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    for day in days:
        for rng in schedule.hours_on(day):
            for i in range(instant(day, rng.start), instant(day, rng.end)):
                working[i] = 1
    for day in days:
        for rng in schedule.breaks_on(day):
            for i in range(instant(day, rng.start), instant(day, rng.end)):
                working[i] = 0
    for start, end in blocked:
        for m in range(max(start, low), min(end, high)):
            busy[m - low] = 1
    return low, readings, working, busy


def reference(schedule: Schedule, maps: Minutes, duration: int, policy: SchedulingPolicy, now: int) -> list[int]:
    """Free slot starts in epoch minutes, decided minute by minute."""
    if not schedule.online:
        return []
    low, readings, working, busy = maps.low, maps.readings, maps.working, maps.busy
    size = len(readings)
    work_sum = [0, *accumulate(working)]
    busy_sum = [0, *accumulate(busy)]
    tail = duration + policy.buffer_minutes
    found = []
    for i in range(size - tail):
        if low + i < now + policy.min_notice_minutes or readings[i][1] % policy.slot_step_minutes:
            continue
        if work_sum[i + duration] - work_sum[i] == duration and busy_sum[i + tail] == busy_sum[i]:
            found.append(low + i)
    return found


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_free_slots_equal_the_minute_by_minute_reference(case: dict[str, object]) -> None:
    schedule, first, last = case["schedule"], case["first"], case["last"]
    blocked, duration, policy, now = case["blocked"], case["duration"], case["policy"], case["now"]
    assert isinstance(schedule, Schedule) and isinstance(first, dt.date) and isinstance(last, dt.date)
    assert isinstance(blocked, list) and isinstance(duration, int) and isinstance(policy, SchedulingPolicy)
    assert isinstance(now, int)
    got = free_slots(schedule, first, last, duration_minutes=duration, policy=policy, now=now * MICROS_PER_MINUTE,
                     blocked=[(s * MICROS_PER_MINUTE, e * MICROS_PER_MINUTE) for s, e in blocked])
    starts = [t // MICROS_PER_MINUTE for t in got]
    assert all(t % MICROS_PER_MINUTE == 0 for t in got)
    minutes = Minutes(schedule, first, last, blocked)
    for start in starts:  # inside working time (breaks excluded), clear of reservations and their buffers
        assert minutes.all_working(start, start + duration)
        assert minutes.none_busy(start, start + duration + policy.buffer_minutes)
        assert start >= now + policy.min_notice_minutes
    assert starts == reference(schedule, minutes, duration, policy, now)
