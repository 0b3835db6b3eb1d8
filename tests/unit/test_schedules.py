"""Schedules, free slots and reservations through ``platform.schedules`` (memory store, fixed clock).

The clock starts on Monday 5 January 2026, 10:00 in Shanghai (02:00 UTC).
The default policy: 15-minute grid, 30-minute travel buffer, 60 minutes' notice.
"""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

import pendulum
import pytest

from conftest import Kit, Person
from massage_core.domain.access import Actor
from massage_core.domain.audit import AuditOutcome
from massage_core.domain.errors import (
    Conflict,
    InvalidTransition,
    MassageError,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from massage_core.services.schedules import SchedulesService

SYSTEM = Actor.system()
MONDAY = dt.date(2026, 1, 5)
TUESDAY = dt.date(2026, 1, 6)
WORKDAYS = {day: [("09:00", "12:00"), ("13:00", "18:00")] for day in ("mon", "tue", "wed", "thu", "fri")}


def sh(day: dt.date, clock: str) -> pendulum.DateTime:
    hour, minute = map(int, clock.split(":"))
    return pendulum.datetime(day.year, day.month, day.day, hour, minute, tz="Asia/Shanghai")


def local_starts(slots: object) -> list[str]:
    return [s.start.in_timezone("Asia/Shanghai").strftime("%a %H:%M") for s in slots.slots]  # type: ignore[attr-defined]


@pytest.fixture
def svc(kit: Kit) -> SchedulesService:
    return kit.platform.schedules


@pytest.fixture
def therapist(kit: Kit, svc: SchedulesService) -> Person:
    """A therapist working weekdays 09:00-12:00 and 13:00-18:00 Shanghai time, online."""
    person = kit.therapist()
    svc.set_weekly_hours(person.actor, person.account_id, WORKDAYS)
    svc.set_online(person.actor, person.account_id, True)
    return person


def refused(error: type[MassageError], code: str, call: object, *args: object, **kwargs: object) -> MassageError:
    with pytest.raises(error) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    assert caught.value.code == code
    return caught.value


# -- managing a schedule ---------------------------------------------------------------------------------------


def test_a_therapist_builds_their_schedule(kit: Kit, svc: SchedulesService) -> None:
    me = kit.therapist()
    view = svc.set_weekly_hours(me.actor, me.account_id, {"mon": [("09:00", "12:00")], 6: [("22:00", "24:00")]})
    assert (view.zone, view.online, view.version) == ("Asia/Shanghai", False, 1)
    assert view.weekly_hours == (("mon", "09:00", "12:00"), ("sat", "22:00", "24:00"))
    svc.add_day_off(me.actor, me.account_id, "2026-01-12")
    svc.add_extra_hours(me.actor, me.account_id, dt.date(2026, 1, 12), "14:00", "16:00")
    svc.add_break(me.actor, me.account_id, "10:30", "10:45", weekday="mon")
    svc.add_break(me.actor, me.account_id, "15:00", "15:30", day="2026-01-12")
    svc.set_time_zone(me.actor, me.account_id, "America/New_York")
    view = svc.set_online(me.actor, me.account_id, True)
    assert view == svc.schedule(me.actor, me.account_id)
    assert (view.zone, view.online, view.version) == ("America/New_York", True, 7)
    assert view.days_off == (dt.date(2026, 1, 12),)
    assert view.extra_hours == ((dt.date(2026, 1, 12), "14:00", "16:00"),)
    assert view.weekly_breaks == (("mon", "10:30", "10:45"),)
    assert view.dated_breaks == ((dt.date(2026, 1, 12), "15:00", "15:30"),)
    svc.remove_break(me.actor, me.account_id, "10:30", "10:45", weekday=1)
    view = svc.clear_exceptions(me.actor, me.account_id, "2026-01-12")
    assert (view.weekly_breaks, view.days_off, view.extra_hours) == ((), (), ())


@pytest.mark.parametrize(("call", "code"), [
    (lambda s, a, t: s.set_weekly_hours(a, t, {"mon": [("09:00", "12:00"), ("11:00", "13:00")]}), "schedule.overlap"),
    (lambda s, a, t: s.set_weekly_hours(a, t, {"mon": [("12:00", "09:00")]}), "schedule.range"),
    (lambda s, a, t: s.set_weekly_hours(a, t, {"moon": [("09:00", "12:00")]}), "schedule.weekday"),
    (lambda s, a, t: s.set_weekly_hours(a, t, {"mon": [("9h", "12:00")]}), "schedule.time"),
    (lambda s, a, t: s.set_weekly_hours(a, t, {"mon": "09:00-12:00"}), "schedule.hours"),
    (lambda s, a, t: s.set_weekly_hours(a, t, [("09:00", "12:00")]), "schedule.hours"),
    (lambda s, a, t: s.set_weekly_hours(a, t, {"mon": [("09:00",)]}), "schedule.hours"),
    (lambda s, a, t: s.set_weekly_hours(a, t, {1: [("09:00", "10:00")], "mon": []}), "schedule.weekday"),
    (lambda s, a, t: s.set_time_zone(a, t, "Asia/Beijing"), "time.zone"),
    (lambda s, a, t: s.set_time_zone(a, t, 8), "time.zone"),
    (lambda s, a, t: s.add_day_off(a, t, "2026-02-30"), "schedule.date"),
    (lambda s, a, t: s.add_extra_hours(a, t, "2026-01-12", "18:00", "18:00"), "schedule.range"),
    (lambda s, a, t: s.add_extra_hours(a, t, "2026-01-12", "24:00", "24:00"), "schedule.range"),
    (lambda s, a, t: s.add_break(a, t, "12:00", "13:00"), "schedule.break"),
    (lambda s, a, t: s.add_break(a, t, "12:00", "13:00", weekday="mon", day="2026-01-12"), "schedule.break"),
    (lambda s, a, t: s.add_break(a, t, "12:00", "13:00", weekday=0), "schedule.weekday"),
    (lambda s, a, t: s.set_online(a, t, "yes"), "schedule.online"),
    (lambda s, a, t: s.set_weekly_hours(a, "acc_bad", {}), "invalid_id"),
])
def test_bad_input_is_refused_with_a_stable_code_and_changes_nothing(
        kit: Kit, svc: SchedulesService, therapist: Person, call: object, code: str) -> None:
    before = (dict(kit.tables.schedules), len(kit.audit_entries()))
    with pytest.raises(ValidationError) as caught:
        call(svc, therapist.actor, therapist.account_id)  # type: ignore[operator]
    assert caught.value.code == code
    assert (dict(kit.tables.schedules), len(kit.audit_entries())) == before


def test_business_rule_refusals_change_nothing(kit: Kit, svc: SchedulesService, therapist: Person) -> None:
    svc.add_day_off(therapist.actor, therapist.account_id, "2026-01-12")
    stored = dict(kit.tables.schedules)
    for call, code in [
        (lambda: svc.add_day_off(therapist.actor, therapist.account_id, "2026-01-12"), "schedule.duplicate"),
        (lambda: svc.clear_exceptions(therapist.actor, therapist.account_id, "2026-01-13"), "schedule.no_exception"),
        (lambda: svc.remove_break(therapist.actor, therapist.account_id, "12:00", "13:00", weekday="mon"),
         "schedule.no_break"),
    ]:
        refused(Conflict, code, call)
    assert dict(kit.tables.schedules) == stored


def test_someone_elses_schedule_looks_exactly_like_a_missing_one(kit: Kit, svc: SchedulesService,
                                                                 therapist: Person) -> None:
    intruder = kit.therapist()
    missing = "acc_0000000000000000000000ZZZZ"
    for call in (lambda t: svc.schedule(intruder.actor, t),
                 lambda t: svc.set_online(intruder.actor, t, False),
                 lambda t: svc.reservations(intruder.actor, t),
                 lambda t: svc.reserve(intruder.actor, t, sh(TUESDAY, "10:00"), sh(TUESDAY, "11:00"), "mine")):
        theirs = refused(NotFound, "not_found", call, therapist.account_id)
        nobodys = refused(NotFound, "not_found", call, missing)
        assert str(theirs).replace(therapist.account_id, "<id>") == str(nobodys).replace(missing, "<id>")
        denial = kit.denied_entries()[-1]
        assert (denial.actor, denial.target) == (intruder.account_id, missing)
    assert svc.schedule(therapist.actor, therapist.account_id).online is True


def test_only_therapists_and_the_system_manage_schedules(kit: Kit, svc: SchedulesService, therapist: Person) -> None:
    for person in (kit.customer(), kit.support(), kit.superadmin()):
        refused(PermissionDenied, "permission_denied", svc.set_online, person.actor, therapist.account_id, False)
    refused(PermissionDenied, "permission_denied", svc.set_online, Actor.anonymous(), therapist.account_id, False)
    assert svc.set_online(SYSTEM, therapist.account_id, False).online is False
    customer = kit.customer()
    refused(NotFound, "not_found", svc.set_online, SYSTEM, customer.account_id, True)  # not a therapist
    assert customer.account_id not in kit.tables.schedules


# -- free slots ----------------------------------------------------------------------------------------------------


def test_free_slots_respect_hours_breaks_notice_and_the_grid(kit: Kit, svc: SchedulesService,
                                                            therapist: Person) -> None:
    svc.add_break(therapist.actor, therapist.account_id, "15:00", "15:30", weekday="mon")
    slots = svc.free_slots(Actor.anonymous(), therapist.account_id, 60, MONDAY, MONDAY)
    assert (slots.zone, slots.duration_minutes) == ("Asia/Shanghai", 60)
    # now is 10:00, so 11:00 at the earliest; 12:00-13:00 is no working time; the break cuts 15:00-15:30
    assert local_starts(slots) == ["Mon 11:00", "Mon 13:00", "Mon 13:15", "Mon 13:30", "Mon 13:45", "Mon 14:00",
                                   "Mon 15:30", "Mon 15:45", "Mon 16:00", "Mon 16:15", "Mon 16:30", "Mon 16:45",
                                   "Mon 17:00"]
    assert all(s.end - s.start == timedelta(hours=1) for s in slots.slots)


def test_free_slots_leave_the_travel_buffer_around_reservations(kit: Kit, svc: SchedulesService,
                                                               therapist: Person) -> None:
    svc.reserve(SYSTEM, therapist.account_id, sh(TUESDAY, "10:00"), sh(TUESDAY, "11:00"), "order-1")
    def morning(minutes: int) -> list[str]:
        slots = svc.free_slots(Actor.anonymous(), therapist.account_id, minutes, TUESDAY, TUESDAY)
        return [s for s in local_starts(slots) if s < "Tue 12:00"]

    # the reservation blocks [10:00, 11:30); a new slot [t, t + d) must keep [t, t + d + 30 min) clear of it
    assert morning(60) == []
    assert morning(30) == ["Tue 09:00", "Tue 11:30"]
    svc.reserve(SYSTEM, therapist.account_id, sh(TUESDAY, "11:30"), sh(TUESDAY, "12:00"), "order-2",
                buffer_minutes=0)  # back to back with the first one's buffer
    assert morning(30) == ["Tue 09:00"]  # its buffer ends exactly when the first reservation starts


def test_an_offline_therapist_has_no_free_slots(svc: SchedulesService, therapist: Person) -> None:
    svc.set_online(therapist.actor, therapist.account_id, False)
    assert svc.free_slots(Actor.anonymous(), therapist.account_id, 60, MONDAY, TUESDAY).slots == ()


@pytest.mark.parametrize(("args", "code"), [
    ((0, MONDAY, MONDAY), "slots.duration"), ((721, MONDAY, MONDAY), "slots.duration"),
    ((True, MONDAY, MONDAY), "slots.duration"), ((60, TUESDAY, MONDAY), "slots.range"),
    ((60, MONDAY, MONDAY + timedelta(days=31)), "slots.range"), ((60, "next monday", MONDAY), "schedule.date"),
])
def test_free_slot_questions_are_validated(svc: SchedulesService, therapist: Person, args: tuple[object, ...],
                                           code: str) -> None:
    refused(ValidationError, code, svc.free_slots, Actor.anonymous(), therapist.account_id, *args)


def test_free_slots_of_nobody_are_not_found(kit: Kit, svc: SchedulesService) -> None:
    refused(NotFound, "not_found", svc.free_slots, Actor.anonymous(), kit.therapist().account_id, 60, MONDAY, MONDAY)


# -- reservations ---------------------------------------------------------------------------------------------------


def test_bookings_must_fit_an_online_schedule(kit: Kit, svc: SchedulesService, therapist: Person) -> None:
    tid = therapist.account_id
    refused(Conflict, "reservation.outside_hours", svc.reserve, SYSTEM, tid, sh(TUESDAY, "11:30"),
            sh(TUESDAY, "12:30"), "lunch")
    refused(Conflict, "reservation.too_soon", svc.reserve, SYSTEM, tid, sh(MONDAY, "10:30"), sh(MONDAY, "11:30"), "x")
    refused(ValidationError, "reservation.past", svc.reserve, SYSTEM, tid, sh(MONDAY, "08:00"), sh(MONDAY, "09:00"),
            "x")
    svc.set_online(therapist.actor, tid, False)
    refused(Conflict, "schedule.offline", svc.reserve, SYSTEM, tid, sh(TUESDAY, "10:00"), sh(TUESDAY, "11:00"), "x")
    assert kit.tables.reservations == {}


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"end": sh(TUESDAY, "10:00")}, "interval.empty"),
    ({"start": dt.datetime(2026, 1, 6, 10)}, "time.naive"),
    ({"end": sh(TUESDAY, "23:00")}, "reservation.too_long"),
    ({"reference": ""}, "reservation.reference"),
    ({"hold_until": sh(MONDAY, "09:00")}, "reservation.hold_until"),
    ({"buffer_minutes": -5}, "reservation.buffer"),
    ({"buffer_minutes": 241}, "reservation.buffer"),
])
def test_bad_reservations_are_refused(kit: Kit, svc: SchedulesService, therapist: Person,
                                      kwargs: dict[str, object], code: str) -> None:
    args: dict[str, object] = {"start": sh(TUESDAY, "10:00"), "end": sh(TUESDAY, "11:00"), "reference": "order-1"}
    args.update(kwargs)
    refused(ValidationError, code, svc.reserve, SYSTEM, therapist.account_id, **args)
    assert kit.tables.reservations == {}


def test_overlaps_are_refused_and_back_to_back_is_fine(svc: SchedulesService, therapist: Person) -> None:
    tid = therapist.account_id
    first = svc.reserve(SYSTEM, tid, sh(TUESDAY, "10:00"), sh(TUESDAY, "11:00"), "order-1")
    assert (first.status, first.blocked_end) == ("confirmed", sh(TUESDAY, "11:30"))
    refused(Conflict, "reservation.overlap", svc.reserve, SYSTEM, tid, sh(TUESDAY, "11:00"), sh(TUESDAY, "12:00"), "x")
    refused(Conflict, "reservation.overlap", svc.reserve, SYSTEM, tid, sh(TUESDAY, "09:00"), sh(TUESDAY, "09:45"), "x")
    svc.reserve(SYSTEM, tid, sh(TUESDAY, "11:30"), sh(TUESDAY, "12:00"), "order-2")
    svc.reserve(SYSTEM, tid, sh(TUESDAY, "09:00"), sh(TUESDAY, "10:00"), "order-3", buffer_minutes=0)
    assert [r.reference for r in svc.reservations(therapist.actor, tid)] == ["order-3", "order-1", "order-2"]


def test_a_hold_lapses_by_itself(kit: Kit, svc: SchedulesService, therapist: Person) -> None:
    tid = therapist.account_id
    hold = svc.reserve(SYSTEM, tid, sh(TUESDAY, "10:00"), sh(TUESDAY, "11:00"), "order-1",
                       hold_until=sh(MONDAY, "10:15"))
    assert hold.status == "held"
    assert "Tue 10:00" not in local_starts(svc.free_slots(SYSTEM, tid, 60, TUESDAY, TUESDAY))
    kit.clock.advance(timedelta(minutes=15))
    assert "Tue 10:00" in local_starts(svc.free_slots(SYSTEM, tid, 60, TUESDAY, TUESDAY))
    refused(InvalidTransition, "invalid_transition", svc.confirm, SYSTEM, hold.id)
    taker = svc.reserve(SYSTEM, tid, sh(TUESDAY, "10:00"), sh(TUESDAY, "11:00"), "order-2")
    assert [r.id for r in svc.reservations(SYSTEM, tid)] == [taker.id]
    assert [r.status for r in svc.reservations(SYSTEM, tid, live_only=False)] == ["expired", "confirmed"]


def test_a_confirmed_hold_stays_and_a_release_frees_the_time(kit: Kit, svc: SchedulesService,
                                                            therapist: Person) -> None:
    tid = therapist.account_id
    hold = svc.reserve(SYSTEM, tid, sh(TUESDAY, "10:00"), sh(TUESDAY, "11:00"), "order-1",
                       hold_until=sh(MONDAY, "10:15"))
    assert svc.confirm(SYSTEM, hold.id).status == "confirmed"
    kit.clock.advance(timedelta(hours=1))
    refused(Conflict, "reservation.overlap", svc.reserve, SYSTEM, tid, sh(TUESDAY, "10:00"), sh(TUESDAY, "11:00"), "x")
    released = svc.release(SYSTEM, hold.id)
    assert (released.status, released.released_at) == ("released", kit.clock.now())
    refused(InvalidTransition, "invalid_transition", svc.release, SYSTEM, hold.id)
    svc.reserve(SYSTEM, tid, sh(TUESDAY, "10:00"), sh(TUESDAY, "11:00"), "order-2")


def test_a_therapist_blocks_own_time_but_cannot_drop_a_booking(kit: Kit, svc: SchedulesService,
                                                              therapist: Person) -> None:
    me, tid = therapist.actor, therapist.account_id
    block = svc.reserve(me, tid, sh(TUESDAY, "12:00"), sh(TUESDAY, "13:00"), "lunch with mum", buffer_minutes=0)
    assert block.made_by == tid  # outside working hours is fine for one's own time
    booking = svc.reserve(SYSTEM, tid, sh(TUESDAY, "14:00"), sh(TUESDAY, "15:00"), "order-1")
    refused(Conflict, "reservation.booked", svc.release, me, booking.id)
    denial = kit.denied_entries()[-1]
    assert (denial.action, denial.target, dict(denial.details)) == ("schedules.release", booking.id,
                                                                    {"error": "reservation.booked"})
    assert svc.release(me, block.id).status == "released"
    refused(ValidationError, "reservation.past", svc.reserve, me, tid, sh(MONDAY, "08:00"), sh(MONDAY, "09:00"), "x")


def test_admins_reservations_are_audited_and_customers_may_not_reserve(kit: Kit, svc: SchedulesService,
                                                                      therapist: Person) -> None:
    support = kit.support()
    made = svc.reserve(support.actor, therapist.account_id, sh(TUESDAY, "10:00"), sh(TUESDAY, "11:00"), "phone-7")
    entry = kit.audit_entries()[-1]
    assert (entry.action, entry.target, entry.outcome) == ("schedules.reserve", made.id, AuditOutcome.OK)
    assert dict(entry.details) == {"reference": "phone-7", "therapist": therapist.account_id}
    svc.release(support.actor, made.id)
    assert kit.audit_entries()[-1].action == "schedules.release"
    for person in (kit.customer(), kit.finance(), kit.auditor()):
        refused(PermissionDenied, "permission_denied", svc.reserve, person.actor, therapist.account_id,
                sh(TUESDAY, "10:00"), sh(TUESDAY, "11:00"), "x")
    refused(NotFound, "not_found", svc.release, support.actor, "rsv_0000000000000000000000ZZZZ")
    refused(ValidationError, "invalid_id", svc.release, support.actor, "acc_0000000000000000000000ZZZZ")


def test_listing_reservations(kit: Kit, svc: SchedulesService, therapist: Person) -> None:
    tid = therapist.account_id
    kept = svc.reserve(SYSTEM, tid, sh(TUESDAY, "10:00"), sh(TUESDAY, "11:00"), "order-1")
    dropped = svc.reserve(SYSTEM, tid, sh(TUESDAY, "14:00"), sh(TUESDAY, "15:00"), "order-2")
    svc.release(SYSTEM, dropped.id)
    assert [r.id for r in svc.reservations(therapist.actor, tid)] == [kept.id]
    assert [r.id for r in svc.reservations(kit.auditor().actor, tid, live_only=False, limit=1)] == [kept.id]
    assert svc.reservations(SYSTEM, tid, start=sh(TUESDAY, "12:00"), end=sh(TUESDAY, "18:00")) == []
    refused(ValidationError, "interval.empty", svc.reservations, SYSTEM, tid, start=sh(TUESDAY, "12:00"),
            end=sh(TUESDAY, "11:00"))
    refused(ValidationError, "page.limit", svc.reservations, SYSTEM, tid, limit=0)
    refused(PermissionDenied, "permission_denied", svc.reservations, kit.finance().actor, tid)
