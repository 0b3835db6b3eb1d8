"""Schedule, interval and reservation values: validation codes and the reservation transition table."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

import pendulum
import pytest

from massage_core.domain.errors import Conflict, InvalidTransition, ValidationError
from massage_core.domain.ids import AccountId, ReservationId
from massage_core.domain.intervals import Interval, from_micros, merge, subtract, to_micros
from massage_core.domain.reservations import Reservation, ReservationAction, ReservationStatus, allowed_actions
from massage_core.domain.schedules import (
    DatedRange,
    DayRange,
    Schedule,
    SchedulingPolicy,
    WeeklyRange,
    calendar_day,
    clock_minute,
    weekday,
)

NOW = pendulum.datetime(2026, 1, 5, 2, tz="UTC")


def code_of(action: object) -> str:
    with pytest.raises(ValidationError) as caught:
        action()  # type: ignore[operator]
    return caught.value.code


@pytest.mark.parametrize(("raw", "number"), [(1, 1), (7, 7), ("mon", 1), ("Sunday", 7), (" THU ", 4)])
def test_weekdays_by_number_or_name(raw: object, number: int) -> None:
    assert weekday(raw) == number


@pytest.mark.parametrize("raw", [0, 8, True, "mo", "funday", None, 1.0, "1"])
def test_bad_weekdays_are_refused(raw: object) -> None:
    assert code_of(lambda: weekday(raw)) == "schedule.weekday"


@pytest.mark.parametrize(("raw", "minute"), [("00:00", 0), ("9:05", 545), ("24:00", 1440), (dt.time(17, 30), 1050)])
def test_wall_clock_times(raw: object, minute: int) -> None:
    assert clock_minute(raw, "start") == minute


@pytest.mark.parametrize("raw", ["24:30", "25:00", "9:5", "09:00:00", "", 900, dt.time(9, 0, 30), None])
def test_bad_wall_clock_times_are_refused(raw: object) -> None:
    assert code_of(lambda: clock_minute(raw, "start")) == "schedule.time"


@pytest.mark.parametrize(("start", "end"), [("10:00", "10:00"), ("17:00", "09:00"), ("24:00", "24:00")])
def test_a_range_must_end_after_it_starts(start: str, end: str) -> None:
    assert code_of(lambda: DayRange.parse(start, end)) == "schedule.range"


def test_dates_are_iso_dates() -> None:
    assert calendar_day("2026-03-08") == dt.date(2026, 3, 8)
    for bad in ("2026-02-30", "08/03/2026", pendulum.datetime(2026, 3, 8), 20260308):
        assert code_of(lambda: calendar_day(bad)) == "schedule.date"


def test_overlapping_ranges_on_one_weekday_or_date_are_refused_touching_ones_are_not() -> None:
    empty = Schedule.new(AccountId("acc_t"))
    touching = [WeeklyRange(1, DayRange.parse("09:00", "12:00")), WeeklyRange(1, DayRange.parse("12:00", "18:00"))]
    assert len(empty.with_weekly_hours(touching, NOW).weekly_hours) == 2
    overlapping = [WeeklyRange(2, DayRange.parse("09:00", "12:01")), WeeklyRange(2, DayRange.parse("12:00", "18:00"))]
    assert code_of(lambda: empty.with_weekly_hours(overlapping, NOW)) == "schedule.overlap"
    day = dt.date(2026, 1, 7)
    one = empty.add_extra_hours(DatedRange(day, DayRange.parse("20:00", "22:00")), NOW)
    assert code_of(lambda: one.add_extra_hours(DatedRange(day, DayRange.parse("21:00", "23:00")), NOW)) \
        == "schedule.overlap"
    rest = one.add_break(WeeklyRange(3, DayRange.parse("12:00", "13:00")), NOW)
    assert code_of(lambda: rest.add_break(WeeklyRange(3, DayRange.parse("12:30", "12:45")), NOW)) \
        == "schedule.overlap"


def test_unknown_zones_are_refused() -> None:
    assert code_of(lambda: Schedule.new(AccountId("acc_t"), "Mars/Olympus_Mons")) == "time.zone"
    assert code_of(lambda: Schedule.new(AccountId("acc_t")).with_zone("CST+8", NOW)) == "time.zone"


def test_exceptions_and_breaks_are_added_and_removed_with_events() -> None:
    day = dt.date(2026, 1, 7)
    schedule = Schedule.new(AccountId("acc_t")).add_day_off(day, NOW)
    with pytest.raises(Conflict) as caught:
        schedule.add_day_off(day, NOW)
    assert caught.value.code == "schedule.duplicate"
    schedule = schedule.add_extra_hours(DatedRange(day, DayRange.parse("14:00", "16:00")), NOW)
    assert schedule.hours_on(day) == [DayRange.parse("14:00", "16:00")]  # a day off with extra hours: only those
    cleared = schedule.clear_exceptions(day, NOW)
    assert (cleared.days_off, cleared.extra_hours) == ((), ())
    with pytest.raises(Conflict) as caught:
        cleared.clear_exceptions(day, NOW)
    assert caught.value.code == "schedule.no_exception"
    rest = DatedRange(day, DayRange.parse("12:00", "12:30"))
    with pytest.raises(Conflict) as caught:
        cleared.remove_break(rest, NOW)
    assert caught.value.code == "schedule.no_break"
    assert cleared.add_break(rest, NOW).remove_break(rest, NOW).dated_breaks == ()
    assert [e.change for e in cleared.events] == ["day_off", "extra_hours", "clear_exceptions"]


def test_a_schedule_holds_a_bounded_number_of_rules() -> None:
    schedule = Schedule.new(AccountId("acc_t"))
    for n in range(400):
        schedule = with_day_off(schedule, dt.date(2026, 1, 1) + timedelta(days=n))
    assert code_of(lambda: schedule.add_day_off(dt.date(2030, 1, 1), NOW)) == "schedule.too_many"


def with_day_off(schedule: Schedule, day: dt.date) -> Schedule:
    return schedule.add_day_off(day, NOW).clear_events()


@pytest.mark.parametrize(("changes", "code"), [
    ({"slot_step_minutes": 7}, "policy.slot_step"), ({"slot_step_minutes": 0}, "policy.slot_step"),
    ({"buffer_minutes": -1}, "policy.minutes"), ({"buffer_minutes": 300}, "policy.minutes"),
    ({"max_range_days": 0}, "policy.minutes"),
])
def test_policies_are_validated(changes: dict[str, int], code: str) -> None:
    assert code_of(lambda: SchedulingPolicy(**changes)) == code


def test_intervals_are_aware_and_not_empty() -> None:
    assert code_of(lambda: Interval.of(dt.datetime(2026, 1, 5, 9), NOW)) == "time.naive"
    assert code_of(lambda: Interval.of(NOW, NOW)) == "interval.empty"
    shanghai = pendulum.datetime(2026, 1, 5, 10, tz="Asia/Shanghai")
    assert Interval.of(shanghai, shanghai.add(hours=1)).start == NOW


def test_micros_round_trip_exactly() -> None:
    for instant in (NOW, pendulum.datetime(1969, 12, 31, 23, 59, 59, 999_999, tz="UTC"),
                    pendulum.datetime(2026, 3, 8, 3, 0, 0, 1, tz="America/New_York")):
        assert from_micros(to_micros(instant)) == instant


def test_span_union_and_difference() -> None:
    assert merge([(5, 7), (1, 3), (3, 4), (6, 9), (10, 10)]) == [(1, 4), (5, 9)]
    assert subtract([(0, 10), (20, 30)], [(2, 3), (5, 22), (29, 40)]) == [(0, 2), (3, 5), (22, 29)]


def make(hold: pendulum.DateTime | None = None) -> Reservation:
    start = NOW.add(days=1)
    return Reservation.make(ReservationId("rsv_1"), AccountId("acc_t"), Interval(start, start.add(hours=1)),
                            " order-1 ", "system", NOW, buffer=timedelta(minutes=30), hold_until=hold)


def test_a_reservation_blocks_its_interval_plus_the_buffer_after_it() -> None:
    made = make()
    assert made.reference == "order-1"
    assert (made.blocked_start, made.blocked_end) == (made.start, made.end + timedelta(minutes=30))


@pytest.mark.parametrize("hold", [NOW, NOW.subtract(seconds=1), NOW.add(days=1, hours=1, seconds=1)])
def test_a_hold_ends_after_now_and_no_later_than_the_reservation(hold: pendulum.DateTime) -> None:
    assert code_of(lambda: make(hold)) == "reservation.hold_until"


def test_references_and_buffers_are_validated() -> None:
    start = NOW.add(days=1)
    for ref in ("", "   ", "x" * 101, None):
        assert code_of(lambda: Reservation.make(ReservationId("rsv_1"), AccountId("acc_t"),
                                                Interval(start, start.add(hours=1)), ref, "system", NOW,  # type: ignore[arg-type]
                                                buffer=timedelta(0))) == "reservation.reference"
    assert code_of(lambda: Reservation.make(ReservationId("rsv_1"), AccountId("acc_t"),
                                            Interval(start, start.add(hours=1)), "r", "system", NOW,
                                            buffer=timedelta(minutes=-1))) == "reservation.buffer"


def in_status(status: ReservationStatus) -> tuple[Reservation, pendulum.DateTime]:
    hold = NOW.add(minutes=15)
    if status is ReservationStatus.HELD:
        return make(hold), NOW
    if status is ReservationStatus.EXPIRED:
        return make(hold), hold
    if status is ReservationStatus.CONFIRMED:
        return make(), NOW
    return make().release(NOW), NOW


@pytest.mark.parametrize("status", list(ReservationStatus))
@pytest.mark.parametrize("action", list(ReservationAction))
def test_the_transition_table(status: ReservationStatus, action: ReservationAction) -> None:
    reservation, now = in_status(status)
    assert reservation.status(now) is status
    if action in allowed_actions(status):
        after = getattr(reservation, action.value)(now)
        expected = ReservationStatus.RELEASED if action is ReservationAction.RELEASE else ReservationStatus.CONFIRMED
        assert after.status(now) is expected and after.is_live(now) is (expected is ReservationStatus.CONFIRMED)
        return
    with pytest.raises(InvalidTransition) as caught:
        getattr(reservation, action.value)(now)
    assert (caught.value.state, caught.value.action) == (status.value, action.value)
    assert caught.value.allowed == tuple(sorted(a.value for a in allowed_actions(status)))


def test_a_hold_is_live_until_the_instant_it_ends() -> None:
    hold = NOW.add(minutes=15)
    held = make(hold)
    assert held.is_live(hold.subtract(microseconds=1)) and not held.is_live(hold)
