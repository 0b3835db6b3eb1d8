"""Acceptance 4: working hours and free slots across DST changes (America/New_York, Asia/Shanghai).

New York in 2026: clocks spring forward on Sunday 8 March (02:00 -> 03:00) and
fall back on Sunday 1 November (02:00 -> 01:00).  Shanghai has had no summer
time since 1991; in 1991 it sprang forward on Sunday 14 April and fell back
on Sunday 15 September, both at 02:00 (the tz database), so the same rules are
checked there -- and a 2026 Shanghai schedule is checked to stay at UTC+8.
"""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

import pendulum
import pytest

from massage_core.domain.availability import free_slots, wall_to_micros, working_intervals
from massage_core.domain.ids import AccountId
from massage_core.domain.intervals import Interval, from_micros, to_micros
from massage_core.domain.schedules import DayRange, Schedule, SchedulingPolicy, WeeklyRange
from massage_core.domain.time import zone

NOW = pendulum.datetime(1990, 1, 1, tz="UTC")
NY_SPRING, NY_FALL = dt.date(2026, 3, 8), dt.date(2026, 11, 1)
SH_SPRING, SH_FALL = dt.date(1991, 4, 14), dt.date(1991, 9, 15)
OPEN = SchedulingPolicy(slot_step_minutes=60, buffer_minutes=0, min_notice_minutes=0)


def utc(*parts: int) -> pendulum.DateTime:
    return pendulum.datetime(*parts, tz="UTC")


def schedule(zone_name: str, *ranges: tuple[int, str, str]) -> Schedule:
    weekly = [WeeklyRange(day, DayRange.parse(start, end)) for day, start, end in ranges]
    return Schedule.new(AccountId("acc_t"), zone_name).with_weekly_hours(weekly, NOW).with_online(True, NOW)


def hours(intervals: list[Interval]) -> list[float]:
    return [i.duration / timedelta(hours=1) for i in intervals]


@pytest.mark.parametrize(("zone_name", "day", "before", "after"), [
    ("America/New_York", NY_SPRING, -5, -4),
    ("America/New_York", NY_FALL, -4, -5),
    ("Asia/Shanghai", SH_SPRING, 8, 9),
    ("Asia/Shanghai", SH_FALL, 9, 8),
])
def test_a_nine_to_five_shift_is_eight_real_hours_on_the_day_of_the_change_and_around_it(
        zone_name: str, day: dt.date, before: int, after: int) -> None:
    week = schedule(zone_name, *[(n, "09:00", "17:00") for n in range(1, 8)])
    spans = working_intervals(week, day - timedelta(days=1), day + timedelta(days=1))
    assert hours(spans) == [8.0, 8.0, 8.0]
    starts = [s.start for s in spans]
    midnight = utc(day.year, day.month, day.day)
    assert starts == [midnight - timedelta(days=1, hours=before - 9), midnight - timedelta(hours=after - 9),
                      midnight + timedelta(days=1, hours=9 - after)]


@pytest.mark.parametrize(("zone_name", "day"), [("America/New_York", NY_SPRING), ("Asia/Shanghai", SH_SPRING)])
def test_spring_forward_shortens_a_shift_over_the_gap_and_moves_a_start_inside_it_to_the_change(
        zone_name: str, day: dt.date) -> None:
    tz = zone(zone_name)
    change = from_micros(wall_to_micros(tz, day, 120))  # 02:00 does not exist: the moment clocks jump
    assert change.in_timezone(zone_name).strftime("%H:%M") == "03:00"
    assert from_micros(wall_to_micros(tz, day, 150)) == change  # nor does 02:30
    assert hours(working_intervals(schedule(zone_name, (7, "01:00", "04:00")), day, day)) == [2.0]
    late = working_intervals(schedule(zone_name, (7, "02:30", "04:00")), day, day)
    assert [(i.start, hours([i])[0]) for i in late] == [(change, 1.0)]
    assert working_intervals(schedule(zone_name, (7, "02:00", "02:45")), day, day) == []  # wholly in the gap


@pytest.mark.parametrize(("zone_name", "day", "first_half_past_one"), [
    ("America/New_York", NY_FALL, utc(2026, 11, 1, 5, 30)),  # 01:30 EDT, not 01:30 EST (06:30Z)
    ("Asia/Shanghai", SH_FALL, utc(1991, 9, 14, 16, 30)),  # 01:30 +09, not 01:30 +08 (17:30Z)
])
def test_fall_back_lengthens_a_shift_over_the_repeated_hour_and_takes_its_first_occurrence(
        zone_name: str, day: dt.date, first_half_past_one: pendulum.DateTime) -> None:
    assert from_micros(wall_to_micros(zone(zone_name), day, 90)) == first_half_past_one
    assert hours(working_intervals(schedule(zone_name, (7, "00:00", "03:00")), day, day)) == [4.0]
    assert hours(working_intervals(schedule(zone_name, (7, "01:30", "02:00")), day, day)) == [1.5]
    assert hours(working_intervals(schedule(zone_name, (7, "01:00", "01:30")), day, day)) == [0.5]


def test_free_slots_on_the_fall_back_night_include_both_one_oclocks() -> None:
    night = schedule("America/New_York", (7, "00:00", "04:00"))
    starts = free_slots(night, NY_FALL, NY_FALL, duration_minutes=60, blocked=[], policy=OPEN, now=to_micros(NOW))
    shown = [from_micros(s).in_timezone("America/New_York").strftime("%H:%M%z") for s in starts]
    assert shown == ["00:00-0400", "01:00-0400", "01:00-0500", "02:00-0500", "03:00-0500"]


def test_free_slots_on_the_spring_forward_night_skip_the_missing_hour() -> None:
    night = schedule("America/New_York", (7, "00:00", "05:00"))
    starts = free_slots(night, NY_SPRING, NY_SPRING, duration_minutes=60, blocked=[], policy=OPEN,
                        now=to_micros(NOW))
    shown = [from_micros(s).in_timezone("America/New_York").strftime("%H:%M%z") for s in starts]
    assert shown == ["00:00-0500", "01:00-0500", "03:00-0400", "04:00-0400"]


def test_free_slots_keep_the_wall_clock_grid_and_length_across_the_change() -> None:
    week = schedule("America/New_York", *[(n, "09:00", "12:00") for n in range(1, 8)])
    starts = free_slots(week, NY_SPRING - timedelta(days=1), NY_SPRING, duration_minutes=90, blocked=[],
                        policy=SchedulingPolicy(slot_step_minutes=30, buffer_minutes=0, min_notice_minutes=0),
                        now=to_micros(NOW))
    shown = [from_micros(s).in_timezone("America/New_York").strftime("%d %H:%M") for s in starts]
    assert shown == ["07 09:00", "07 09:30", "07 10:00", "07 10:30", "08 09:00", "08 09:30", "08 10:00", "08 10:30"]
    assert from_micros(starts[4]) - from_micros(starts[0]) == timedelta(hours=23)  # the day was 23 hours long


def test_a_night_shift_over_midnight_is_one_stretch() -> None:
    week = schedule("Asia/Shanghai", (5, "22:00", "24:00"), (6, "00:00", "02:00"))
    friday = dt.date(2026, 1, 9)
    assert [(i.start, hours([i])[0]) for i in working_intervals(week, friday, friday + timedelta(days=1))] == [
        (utc(2026, 1, 9, 14), 4.0)]
    starts = free_slots(week, friday, friday + timedelta(days=1), duration_minutes=120, blocked=[],
                        policy=OPEN, now=to_micros(NOW))
    assert [from_micros(s).in_timezone("Asia/Shanghai").strftime("%a %H:%M") for s in starts] == [
        "Fri 22:00", "Fri 23:00", "Sat 00:00"]


def test_shanghai_today_stays_at_utc_plus_eight_while_new_york_changes() -> None:
    week = schedule("Asia/Shanghai", *[(n, "09:00", "17:00") for n in range(1, 8)])
    spans = working_intervals(week, NY_SPRING - timedelta(days=1), NY_SPRING + timedelta(days=1))
    assert [s.start.hour for s in spans] == [1, 1, 1] and hours(spans) == [8.0, 8.0, 8.0]
