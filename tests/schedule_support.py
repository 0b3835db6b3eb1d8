"""Builders for schedule and reservation tests (contract, integration, benchmarks)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from datetime import timedelta

from massage_core.domain.access import Role
from massage_core.domain.ids import AccountId, ReservationId
from massage_core.domain.intervals import Interval
from massage_core.domain.reservations import Reservation
from massage_core.domain.schedules import DatedRange, DayRange, Schedule, WeeklyRange
from massage_core.domain.time import Instant
from massage_core.ports.unit_of_work import UnitOfWork
from storage_support import T0, make_account, new_id

UowFactory = Callable[[], UnitOfWork]


def new_therapist(uow_factory: UowFactory) -> AccountId:
    """A committed account with the therapist role."""
    with uow_factory() as uow:
        account = uow.accounts.add(make_account(roles=frozenset({Role.THERAPIST})))
        uow.commit()
    return account.id


def reservation(therapist_id: str, start: Instant, *, minutes: int = 60, buffer: int = 30,
                hold_until: Instant | None = None, ref: str = "order-1", now: Instant = T0,
                made_by: str = "system") -> Reservation:
    """A new reservation of ``[start, start + minutes)`` blocking ``buffer`` minutes more, events cleared."""
    made = Reservation.make(ReservationId(new_id("reservation")), AccountId(therapist_id),
                            Interval(start, start + timedelta(minutes=minutes)), ref, made_by, now,
                            buffer=timedelta(minutes=buffer), hold_until=hold_until)
    return made.clear_events()


def hm(start: str, end: str) -> DayRange:
    return DayRange.parse(start, end)


def full_schedule(therapist_id: str, zone: str = "America/New_York") -> Schedule:
    """A schedule using every kind of rule."""
    return Schedule(
        therapist_id=AccountId(therapist_id), zone=zone, online=True,
        weekly_hours=(WeeklyRange(1, hm("09:00", "12:00")), WeeklyRange(1, hm("13:00", "18:00")),
                      WeeklyRange(6, hm("22:00", "24:00")), WeeklyRange(7, hm("00:00", "02:00"))),
        weekly_breaks=(WeeklyRange(1, hm("10:30", "10:45")),),
        days_off=(dt.date(2026, 1, 19), dt.date(2026, 2, 16)),
        extra_hours=(DatedRange(dt.date(2026, 1, 19), hm("14:00", "16:00")),),
        dated_breaks=(DatedRange(dt.date(2026, 1, 26), hm("15:00", "15:30")),),
    )
