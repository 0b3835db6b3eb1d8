"""Schedules, free slots and reservations (T4).

Who may do what (decision 0012):

* a therapist manages their OWN schedule; the system actor any therapist's;
  nobody else (another therapist's schedule looks exactly like a missing one);
* anybody, even anonymous, may ask for the free slots of an online therapist;
* the schedule and the reservations of a therapist are read by the therapist,
  by admins holding ``schedules.read`` (support, auditor, superadmin) and by the system;
* bookings are reserved, confirmed and released by the system actor (orders)
  and admins holding ``reservations.manage`` (support, superadmin): they must fit
  the working time of an online schedule with the minimum notice; a therapist
  may block their own time anywhere in the future and release or confirm what
  they blocked themselves, never a booking made by the platform.

Admins' successful reservations, confirmations and releases are audited;
every refusal is audited as denied.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Literal

from massage_core.domain.access import Actor, Permission, Role
from massage_core.domain.availability import busy_window, fits_working_time, slot_starts, working_spans
from massage_core.domain.errors import Conflict, NotFound, ValidationError
from massage_core.domain.ids import AccountId, ReservationId, account_id, reservation_id
from massage_core.domain.intervals import MICROS_PER_MINUTE, Interval, from_micros, merge, to_micros
from massage_core.domain.reservations import Reservation
from massage_core.domain.schedules import DatedRange, DayRange, Schedule, WeeklyRange, calendar_day, weekday
from massage_core.domain.time import Instant, utc
from massage_core.domain.time import zone as time_zone
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.base import Denied, Service, not_found
from massage_core.services.schedule_views import (
    FreeSlots,
    ReservationView,
    ScheduleView,
    minutes,
    weekly_ranges,
)

Access = Literal["own", "granted"]
Change = Callable[[Schedule, Instant], Schedule]


class SchedulesService(Service):
    """Working hours, breaks, exceptions, the online switch, free slots and reservations."""

    # -- access ------------------------------------------------------------------------------------

    def _access(self, actor: Actor, target: AccountId, permission: Permission, action: str) -> Access | None:
        """``own`` (the therapist themself), ``granted`` (by ``permission``), None: hide (raise inside the guard).

        Raises PermissionDenied (audited) when the actor is neither a therapist nor granted.
        """
        therapist = actor.may(Permission.OWN_SCHEDULE_MANAGE)
        if therapist and actor.owns(target):
            return "own"
        if therapist and not actor.may(permission):
            return None
        self._require(actor, permission, action, target)
        return "granted"

    def _change(self, actor: Actor, therapist_id: str, action: str, change: Change) -> ScheduleView:
        """Apply ``change`` to the therapist's schedule (made on first use), owner or system only."""
        target = account_id(therapist_id)
        self._require(actor, Permission.OWN_SCHEDULE_MANAGE, action, target)
        now = self._now()
        with self._guard(actor, action, target), self._uow() as uow:
            if not actor.is_system and not actor.owns(target):
                raise not_found("schedule", target)
            current = uow.schedules.find(target)
            if current is None:
                self._require_therapist(uow, target)
                updated = change(Schedule.new(target), now)
                uow.record(updated.events)
                saved = uow.schedules.add(updated)
            else:
                updated = change(current, now)
                uow.record(updated.events)
                saved = uow.schedules.save(updated)
            uow.commit()
            return ScheduleView.of(saved)

    @staticmethod
    def _require_therapist(uow: UnitOfWork, target: AccountId) -> None:
        try:
            account = uow.accounts.get(target)
        except NotFound:
            raise NotFound("schedule", target) from None
        if Role.THERAPIST not in account.roles:
            raise NotFound("schedule", target)

    # -- managing a schedule -----------------------------------------------------------------------

    def schedule(self, actor: Actor, therapist_id: str) -> ScheduleView:
        """The therapist's schedule. Owner, ``schedules.read`` or system; NotFound when there is none."""
        target = account_id(therapist_id)
        access = self._access(actor, target, Permission.SCHEDULES_READ, "schedules.show")
        with self._guard(actor, "schedules.show", target), self._uow() as uow:
            if access is None:
                raise not_found("schedule", target)
            found = uow.schedules.find(target)
            if found is None:
                raise NotFound("schedule", target)
            return ScheduleView.of(found)

    def set_time_zone(self, actor: Actor, therapist_id: str, zone: str) -> ScheduleView:
        """Move the schedule to another IANA zone (``time.zone`` when unknown); wall-clock hours are kept."""
        time_zone(zone)
        return self._change(actor, therapist_id, "schedules.set_time_zone", lambda s, now: s.with_zone(zone, now))

    def set_weekly_hours(self, actor: Actor, therapist_id: str, hours: object) -> ScheduleView:
        """Replace the weekly hours: ``{"mon": [("09:00", "12:00"), ("13:00", "18:00")], "sat": [...]}``.

        Weekdays are 1..7 or mon..sun; a weekday left out has no weekly hours.
        Raises ValidationError ``schedule.hours``, ``schedule.weekday``, ``schedule.time``,
        ``schedule.range`` (end <= start), ``schedule.overlap``.
        """
        ranges = weekly_ranges(hours)
        return self._change(actor, therapist_id, "schedules.set_weekly_hours",
                            lambda s, now: s.with_weekly_hours(ranges, now))

    def add_day_off(self, actor: Actor, therapist_id: str, day: object) -> ScheduleView:
        """No weekly hours on ``day`` (a date or ``YYYY-MM-DD``); Conflict ``schedule.duplicate`` when already off."""
        date = calendar_day(day)
        return self._change(actor, therapist_id, "schedules.add_day_off", lambda s, now: s.add_day_off(date, now))

    def add_extra_hours(self, actor: Actor, therapist_id: str, day: object, start: object, end: object) -> ScheduleView:
        """Working hours on one date on top of (or, on a day off, instead of) the weekly ones."""
        extra = DatedRange(calendar_day(day), DayRange.parse(start, end))
        return self._change(actor, therapist_id, "schedules.add_extra_hours",
                            lambda s, now: s.add_extra_hours(extra, now))

    def clear_exceptions(self, actor: Actor, therapist_id: str, day: object) -> ScheduleView:
        """Remove the day off and extra hours of ``day``; Conflict ``schedule.no_exception`` when none."""
        date = calendar_day(day)
        return self._change(actor, therapist_id, "schedules.clear_exceptions",
                            lambda s, now: s.clear_exceptions(date, now))

    def add_break(self, actor: Actor, therapist_id: str, start: object, end: object, *, weekday: object = None,
                  day: object = None) -> ScheduleView:
        """A rest break every ``weekday`` or on one ``day`` (exactly one of them; ``schedule.break``)."""
        rest = _break(start, end, weekday, day)
        return self._change(actor, therapist_id, "schedules.add_break", lambda s, now: s.add_break(rest, now))

    def remove_break(self, actor: Actor, therapist_id: str, start: object, end: object, *, weekday: object = None,
                     day: object = None) -> ScheduleView:
        """Remove that exact break; Conflict ``schedule.no_break`` when there is none."""
        rest = _break(start, end, weekday, day)
        return self._change(actor, therapist_id, "schedules.remove_break", lambda s, now: s.remove_break(rest, now))

    def set_online(self, actor: Actor, therapist_id: str, online: bool) -> ScheduleView:
        """Switch bookings on or off (``schedule.online`` unless a bool)."""
        if not isinstance(online, bool):
            raise ValidationError("online must be true or false", code="schedule.online", field="online")
        return self._change(actor, therapist_id, "schedules.set_online", lambda s, now: s.with_online(online, now))

    # -- free slots --------------------------------------------------------------------------------

    def free_slots(self, actor: Actor, therapist_id: str, duration_minutes: int, first_day: object,
                   last_day: object) -> FreeSlots:
        """Free slots of ``duration_minutes`` on the therapist's dates ``first_day..last_day`` (anyone may ask).

        Empty when the therapist is offline.  Raises ValidationError
        ``slots.duration``, ``slots.range`` (last before first, or longer than the
        policy allows), ``schedule.date``; NotFound when the therapist has no schedule.
        """
        policy = self._deps.policies.scheduling
        target = account_id(therapist_id)
        duration = minutes(duration_minutes, "duration_minutes", 1, policy.max_reservation_minutes, "slots.duration")
        first, last = calendar_day(first_day, "first_day"), calendar_day(last_day, "last_day")
        if last < first or (last - first).days >= policy.max_range_days:
            raise ValidationError(f"the date range must be 1..{policy.max_range_days} days", code="slots.range")
        now = self._now()
        with self._uow() as uow:
            schedule = uow.schedules.find(target)
            if schedule is None:
                raise NotFound("schedule", target)
            spans = working_spans(schedule, first, last) if schedule.online else []
            window = busy_window(spans, policy.buffer_minutes)
            live = [] if window is None else uow.reservations.between(
                target, from_micros(window[0]), from_micros(window[1]), live_at=now)
        busy = merge(r.blocked_span for r in live)
        length = duration * MICROS_PER_MINUTE
        starts = slot_starts(spans, schedule.zone, duration=length,
                             tail=length + policy.buffer_minutes * MICROS_PER_MINUTE,
                             step=policy.slot_step_minutes * MICROS_PER_MINUTE,
                             earliest=to_micros(now) + policy.min_notice_minutes * MICROS_PER_MINUTE, busy=busy)
        return FreeSlots.of(target, schedule.zone, duration, first, last, starts)

    # -- reservations ------------------------------------------------------------------------------

    def reserve(self, actor: Actor, therapist_id: str, start: dt.datetime, end: dt.datetime, reference: str, *,
                hold_until: dt.datetime | None = None, buffer_minutes: int | None = None) -> ReservationView:
        """Reserve ``[start, end)`` (aware datetimes) of the therapist's time for ``reference``.

        ``hold_until``: the reservation is a hold that lapses by itself then
        (``confirm`` makes it firm); ``buffer_minutes``: travel time kept free
        after it (default: the policy's).  Raises ValidationError
        (``time.naive``, ``interval.empty``, ``reservation.too_long``,
        ``reservation.reference``, ``reservation.hold_until``, ``reservation.buffer``,
        ``reservation.past``), Conflict (``reservation.overlap``, and for bookings
        ``schedule.offline``, ``reservation.too_soon``, ``reservation.outside_hours``),
        NotFound, PermissionDenied.
        """
        policy = self._deps.policies.scheduling
        target = account_id(therapist_id)
        interval = Interval.of(start, end)
        if interval.duration > dt.timedelta(minutes=policy.max_reservation_minutes):
            raise ValidationError(f"a reservation lasts at most {policy.max_reservation_minutes} minutes",
                                  code="reservation.too_long")
        buffer = policy.buffer_minutes if buffer_minutes is None else minutes(
            buffer_minutes, "buffer_minutes", 0, policy.max_buffer_minutes, "reservation.buffer")
        now = self._now()
        made = Reservation.make(ReservationId(self._deps.ids.new_id("reservation")), target, interval, reference,
                                actor.label, now, buffer=dt.timedelta(minutes=buffer), hold_until=hold_until)
        if interval.end <= now:
            raise ValidationError("the reservation is in the past", code="reservation.past")
        access = self._access(actor, target, Permission.RESERVATIONS_MANAGE, "schedules.reserve")
        with self._guard(actor, "schedules.reserve", target), self._uow() as uow:
            if access is None:
                raise not_found("schedule", target)
            if access == "granted":
                self._check_bookable(uow.schedules.find(target), target, interval, now)
            uow.record(made.events)
            stored = uow.reservations.add(made, now)
            if access == "granted" and not actor.is_system:
                self._audit_ok(uow, actor, "schedules.reserve", stored.id, now, therapist=target,
                               reference=stored.reference)
            uow.commit()
            return ReservationView.of(stored, now)

    def _check_bookable(self, schedule: Schedule | None, target: AccountId, interval: Interval, now: Instant) -> None:
        policy = self._deps.policies.scheduling
        if schedule is None:
            raise NotFound("schedule", target)
        if not schedule.online:
            raise Conflict("the therapist is offline", code="schedule.offline")
        if interval.start < now + dt.timedelta(minutes=policy.min_notice_minutes):
            raise Conflict(f"bookings need {policy.min_notice_minutes} minutes' notice", code="reservation.too_soon")
        if not fits_working_time(schedule, interval.span):
            raise Conflict("the therapist does not work then", code="reservation.outside_hours")

    def confirm(self, actor: Actor, reservation: str) -> ReservationView:
        """Make a live hold firm. InvalidTransition when it is not a live hold."""
        return self._transition(actor, reservation, "schedules.confirm", lambda r, now: r.confirm(now))

    def release(self, actor: Actor, reservation: str) -> ReservationView:
        """Give the time back. InvalidTransition when already released."""
        return self._transition(actor, reservation, "schedules.release", lambda r, now: r.release(now))

    def _transition(self, actor: Actor, reservation: str, action: str,
                    step: Callable[[Reservation, Instant], Reservation]) -> ReservationView:
        rid = reservation_id(reservation)
        if not actor.may(Permission.OWN_SCHEDULE_MANAGE):
            self._require(actor, Permission.RESERVATIONS_MANAGE, action, rid)
        now = self._now()
        with self._guard(actor, action, rid), self._uow() as uow:
            current = uow.reservations.get(rid)
            access = self._access(actor, current.therapist_id, Permission.RESERVATIONS_MANAGE, action)
            if access is None:
                raise not_found("reservation", rid)
            if access == "own" and current.made_by != actor.label and not actor.may(Permission.RESERVATIONS_MANAGE):
                raise Denied(Conflict("only the platform may change a booking's reservation",
                                      code="reservation.booked"))
            updated = step(current, now)
            uow.record(updated.events)
            stored = uow.reservations.save(updated)
            if access == "granted" and not actor.is_system:
                self._audit_ok(uow, actor, action, rid, now, therapist=current.therapist_id)
            uow.commit()
            return ReservationView.of(stored, now)

    def reservations(self, actor: Actor, therapist_id: str, *, start: dt.datetime | None = None,
                     end: dt.datetime | None = None, live_only: bool = True,
                     limit: int = 200) -> Sequence[ReservationView]:
        """The therapist's reservations overlapping ``[start, end)`` (default: now .. the policy's range), by start.

        Owner, ``schedules.read`` or system.  ``live_only=False`` adds released and expired ones.
        """
        target = account_id(therapist_id)
        now = self._now()
        low = utc(start) if start is not None else now
        high = utc(end) if end is not None else low + dt.timedelta(days=self._deps.policies.scheduling.max_range_days)
        Interval(low, high)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 500:
            raise ValidationError("limit must be 1..500", code="page.limit", field="limit")
        access = self._access(actor, target, Permission.SCHEDULES_READ, "schedules.reservations")
        with self._guard(actor, "schedules.reservations", target), self._uow() as uow:
            if access is None:
                raise not_found("schedule", target)
            found = uow.reservations.between(target, low, high, live_at=now if live_only else None, limit=limit)
            return [ReservationView.of(r, now) for r in found]


def _break(start: object, end: object, on_weekday: object, day: object) -> WeeklyRange | DatedRange:
    if (on_weekday is None) == (day is None):
        raise ValidationError("give exactly one of weekday and day", code="schedule.break")
    rng = DayRange.parse(start, end)
    return WeeklyRange(weekday(on_weekday), rng) if on_weekday is not None else DatedRange(calendar_day(day), rng)
