"""The ScheduleRepository and ReservationRepository contracts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from datetime import timedelta

import attrs
import pytest

from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import AccountId, ReservationId
from massage_core.domain.reservations import Reservation, ReservationStatus
from massage_core.domain.schedules import Schedule, WeeklyRange
from massage_core.ports.unit_of_work import UnitOfWork
from schedule_support import full_schedule, hm, new_therapist, reservation
from storage_support import T0, new_id

UowFactory = Callable[[], UnitOfWork]
DAY = T0 + timedelta(days=2)
"""A day ahead of the storage tests' "now"."""


def at(hours: float) -> dt.datetime:
    return DAY + timedelta(hours=hours)


def add(uow_factory: UowFactory, *items: Reservation, now: dt.datetime = T0) -> list[Reservation]:
    with uow_factory() as uow:
        stored = [uow.reservations.add(item, now) for item in items]
        uow.commit()
    return stored


def refused(uow_factory: UowFactory, item: Reservation, now: dt.datetime = T0) -> None:
    """Adding ``item`` is refused as an overlap, and the unit stays usable."""
    with uow_factory() as uow:
        with pytest.raises(Conflict) as caught:
            uow.reservations.add(item, now)
        assert caught.value.code == "reservation.overlap"
        uow.reservations.add(reservation(item.therapist_id, at(100)), now)
        uow.commit()


class ScheduleRepositoryContract:
    """Every ScheduleRepository adapter behaves like this."""

    def test_add_returns_version_one_and_round_trips_every_rule(self, uow_factory: UowFactory) -> None:
        schedule = full_schedule(new_therapist(uow_factory))
        with uow_factory() as uow:
            stored = uow.schedules.add(schedule)
            uow.commit()
        assert stored == attrs.evolve(schedule, version=1) and stored.events == ()
        with uow_factory() as uow:
            assert uow.schedules.find(schedule.therapist_id) == stored
            assert uow.schedules.find(AccountId(new_id("account"))) is None

    def test_an_empty_schedule_round_trips(self, uow_factory: UowFactory) -> None:
        schedule = Schedule.new(new_therapist(uow_factory))
        with uow_factory() as uow:
            uow.schedules.add(schedule)
            assert uow.schedules.find(schedule.therapist_id) == attrs.evolve(schedule, version=1)

    def test_a_second_schedule_for_the_therapist_is_refused(self, uow_factory: UowFactory) -> None:
        therapist = new_therapist(uow_factory)
        with uow_factory() as uow:
            uow.schedules.add(Schedule.new(therapist))
            with pytest.raises(Conflict) as caught:
                uow.schedules.add(full_schedule(therapist))
            assert caught.value.code == "schedule.duplicate"
            uow.commit()
        with uow_factory() as uow:
            found = uow.schedules.find(therapist)
        assert found is not None and found.weekly_hours == ()

    def test_save_replaces_the_rules_and_bumps_the_version(self, uow_factory: UowFactory) -> None:
        therapist = new_therapist(uow_factory)
        with uow_factory() as uow:
            stored = uow.schedules.add(full_schedule(therapist))
            uow.commit()
        changed = attrs.evolve(stored, zone="Asia/Shanghai", online=False, days_off=(),
                               weekly_hours=(WeeklyRange(3, hm("08:00", "20:00")),))
        with uow_factory() as uow:
            saved = uow.schedules.save(changed)
            uow.commit()
        assert saved == attrs.evolve(changed, version=2)
        with uow_factory() as uow:
            assert uow.schedules.find(therapist) == saved

    def test_a_stale_save_is_refused_and_a_missing_one_is_not_found(self, uow_factory: UowFactory) -> None:
        therapist = new_therapist(uow_factory)
        with uow_factory() as uow:
            stored = uow.schedules.add(Schedule.new(therapist))
            uow.schedules.save(attrs.evolve(stored, online=True))
            with pytest.raises(Conflict) as caught:
                uow.schedules.save(attrs.evolve(stored, zone="UTC"))
            assert caught.value.code == "conflict.stale"
            with pytest.raises(NotFound):
                uow.schedules.save(Schedule.new(AccountId(new_id("account"))))
            uow.commit()
        with uow_factory() as uow:
            found = uow.schedules.find(therapist)
        assert found is not None and (found.online, found.zone, found.version) == (True, "Asia/Shanghai", 2)


class ReservationRepositoryContract:
    """Every ReservationRepository adapter behaves like this."""

    def test_add_and_get_round_trip(self, uow_factory: UowFactory) -> None:
        therapist = new_therapist(uow_factory)
        firm = reservation(therapist, at(1), ref="订单 order-77")
        held = reservation(therapist, at(5), hold_until=T0 + timedelta(minutes=15), buffer=0)
        stored = add(uow_factory, firm, held)
        assert stored == [attrs.evolve(firm, version=1), attrs.evolve(held, version=1)]
        with uow_factory() as uow:
            assert [uow.reservations.get(r.id) for r in (firm, held)] == stored
            with pytest.raises(NotFound):
                uow.reservations.get(ReservationId(new_id("reservation")))

    def test_a_duplicate_id_is_refused(self, uow_factory: UowFactory) -> None:
        first = reservation(new_therapist(uow_factory), at(1))
        add(uow_factory, first)
        with uow_factory() as uow, pytest.raises(Conflict) as caught:
            uow.reservations.add(attrs.evolve(first, start=at(9), end=at(10), blocked_start=at(9),
                                              blocked_end=at(10)), T0)
        assert caught.value.code == "reservation.duplicate"

    @pytest.mark.parametrize(("start", "minutes"), [(1, 60), (1.5, 30), (0.5, 60), (1.99, 1), (0, 600), (2.4, 30)])
    def test_an_overlap_with_a_live_reservation_or_its_buffer_is_refused(
            self, uow_factory: UowFactory, start: float, minutes: int) -> None:
        therapist = new_therapist(uow_factory)
        add(uow_factory, reservation(therapist, at(1), minutes=60, buffer=30))  # blocks [1:00, 2:30)
        refused(uow_factory, reservation(therapist, at(start), minutes=minutes, buffer=0))
        with uow_factory() as uow:
            assert len(uow.reservations.between(therapist, at(0), at(3))) == 1

    def test_back_to_back_is_allowed_when_the_buffer_is_satisfied(self, uow_factory: UowFactory) -> None:
        therapist = new_therapist(uow_factory)
        add(uow_factory, reservation(therapist, at(1), minutes=60, buffer=30))  # blocks [1:00, 2:30)
        add(uow_factory, reservation(therapist, at(2.5), minutes=60, buffer=30),  # right after the buffer
            reservation(therapist, at(0), minutes=60, buffer=0))  # ends as the first one starts
        refused(uow_factory, reservation(therapist, at(-1), minutes=60, buffer=1))  # its buffer reaches 0:01
        with uow_factory() as uow:
            assert [r.start for r in uow.reservations.between(therapist, at(-5), at(5))] == [at(0), at(1), at(2.5)]

    def test_other_therapists_and_released_reservations_do_not_block(self, uow_factory: UowFactory) -> None:
        therapist, other = new_therapist(uow_factory), new_therapist(uow_factory)
        (first,) = add(uow_factory, reservation(therapist, at(1)))
        add(uow_factory, reservation(other, at(1)))
        with uow_factory() as uow:
            uow.reservations.save(first.release(T0))
            uow.commit()
        add(uow_factory, reservation(therapist, at(1)))

    def test_a_live_hold_blocks_and_a_lapsed_one_is_retired(self, uow_factory: UowFactory) -> None:
        therapist = new_therapist(uow_factory)
        lapse = T0 + timedelta(minutes=15)
        (hold,) = add(uow_factory, reservation(therapist, at(1), hold_until=lapse))
        refused(uow_factory, reservation(therapist, at(1)), now=lapse - timedelta(microseconds=1))
        (taker,) = add(uow_factory, reservation(therapist, at(1.5)), now=lapse)  # at hold_until it has lapsed
        with uow_factory() as uow:
            retired = uow.reservations.get(hold.id)
            assert retired == attrs.evolve(hold, version=2)
            assert retired.status(lapse) is ReservationStatus.EXPIRED
            with pytest.raises(Conflict) as caught:  # it can never come back
                uow.reservations.save(hold.confirm(lapse - timedelta(seconds=1)))
            assert caught.value.code == "conflict.stale"
            assert uow.reservations.between(therapist, at(0), at(5), live_at=lapse) == [taker]

    def test_a_refused_add_retires_nothing(self, uow_factory: UowFactory) -> None:
        therapist = new_therapist(uow_factory)
        lapse = T0 + timedelta(minutes=15)
        (hold,) = add(uow_factory, reservation(therapist, at(1), hold_until=lapse))
        add(uow_factory, reservation(therapist, at(3)))  # blocks [3:00, 4:30)
        refused(uow_factory, reservation(therapist, at(1), minutes=150), now=lapse)  # hits both
        with uow_factory() as uow:
            assert uow.reservations.get(hold.id) == hold

    def test_save_confirms_and_releases(self, uow_factory: UowFactory) -> None:
        therapist = new_therapist(uow_factory)
        (hold,) = add(uow_factory, reservation(therapist, at(1), hold_until=T0 + timedelta(minutes=15)))
        with uow_factory() as uow:
            confirmed = uow.reservations.save(hold.confirm(T0))
            uow.commit()
        assert confirmed.hold_until is None and confirmed.version == 2
        refused(uow_factory, reservation(therapist, at(1)), now=T0 + timedelta(days=1))  # firm now: never lapses
        with uow_factory() as uow:
            released = uow.reservations.save(confirmed.release(T0))
            with pytest.raises(Conflict) as caught:
                uow.reservations.save(confirmed.release(T0))
            assert caught.value.code == "conflict.stale"
            with pytest.raises(NotFound):
                uow.reservations.save(reservation(therapist, at(7)))
            uow.commit()
        with uow_factory() as uow:
            assert uow.reservations.get(hold.id) == released
            assert released.status(T0) is ReservationStatus.RELEASED
        add(uow_factory, reservation(therapist, at(1)))

    def test_between_filters_orders_and_limits(self, uow_factory: UowFactory) -> None:
        therapist = new_therapist(uow_factory)
        lapse = T0 + timedelta(hours=1)
        items = [reservation(therapist, at(h), minutes=30, buffer=30) for h in (4, 0, 2)]
        held = reservation(therapist, at(6), minutes=30, hold_until=lapse)
        add(uow_factory, *items, held, reservation(new_therapist(uow_factory), at(0)))
        with uow_factory() as uow:
            gone = uow.reservations.save(uow.reservations.get(items[0].id).release(T0))
            uow.commit()
        with uow_factory() as uow:
            found = uow.reservations.between
            assert [r.start for r in found(therapist, at(0), at(24))] == [at(0), at(2), at(4), at(6)]
            assert [r.start for r in found(therapist, at(0.75), at(2.01))] == [at(0), at(2)]  # buffer tails count
            assert [r.start for r in found(therapist, at(1), at(2))] == []
            assert [r.id for r in found(therapist, at(0), at(24), live_at=T0)] == [items[1].id, items[2].id, held.id]
            assert [r.id for r in found(therapist, at(0), at(24), live_at=lapse)] == [items[1].id, items[2].id]
            assert [r.start for r in found(therapist, at(0), at(24), limit=2)] == [at(0), at(2)]
            assert gone.status(T0) is ReservationStatus.RELEASED
