"""In-memory schedules and reservations, with the contracts of the SQL ones.

The memory unit of work holds the store's lock for its whole length, so the
overlap re-check in ``add`` and the insert that follows it cannot interleave
with another unit's: the same guarantee SQLite gets from ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from massage_core.adapters.memory.store import Tables
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import AccountId, ReservationId
from massage_core.domain.reservations import Reservation
from massage_core.domain.schedules import Schedule
from massage_core.domain.time import Instant
from massage_core.ports.schedules import ReservationRepository, ScheduleRepository

STALE = "conflict.stale"


class MemoryScheduleRepository(ScheduleRepository):
    """Schedules in a dict keyed by therapist id."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def add(self, schedule: Schedule) -> Schedule:
        """Store with version 1; Conflict ``schedule.duplicate`` when the therapist has one."""
        if schedule.therapist_id in self._t.schedules:
            raise Conflict(f"therapist {schedule.therapist_id} already has a schedule", code="schedule.duplicate")
        stored = attrs.evolve(schedule.clear_events(), version=1)
        self._t.schedules[schedule.therapist_id] = stored
        return stored

    def find(self, therapist_id: AccountId) -> Schedule | None:
        """The schedule or None."""
        return self._t.schedules.get(therapist_id)

    def save(self, schedule: Schedule) -> Schedule:
        """Replace when the version matches."""
        current = self._t.schedules.get(schedule.therapist_id)
        if current is None:
            raise NotFound("schedule", schedule.therapist_id)
        if current.version != schedule.version:
            raise Conflict("the schedule was changed by somebody else; reload it", code=STALE)
        stored = attrs.evolve(schedule.clear_events(), version=schedule.version + 1)
        self._t.schedules[schedule.therapist_id] = stored
        return stored


def _overlaps(a: Reservation, b: Reservation) -> bool:
    return a.blocked_start < b.blocked_end and b.blocked_start < a.blocked_end


class MemoryReservationRepository(ReservationRepository):
    """Reservations in a dict, each with its "counts for overlap" flag; linear scans."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def add(self, reservation: Reservation, now: Instant) -> Reservation:
        """Re-check overlap with live reservations, retire expired holds in the way, then store."""
        table = self._t.reservations
        if reservation.id in table:
            raise Conflict(f"reservation {reservation.id} already exists", code="reservation.duplicate")
        retire: list[Reservation] = []
        for other, active in table.values():
            if not active or other.therapist_id != reservation.therapist_id or not _overlaps(other, reservation):
                continue
            if other.is_live(now):
                raise Conflict("the therapist is already booked at that time (travel buffer included)",
                               code="reservation.overlap")
            retire.append(other)
        for expired in retire:
            table[expired.id] = (attrs.evolve(expired, version=expired.version + 1), False)
        stored = attrs.evolve(reservation.clear_events(), version=1)
        table[reservation.id] = (stored, True)
        return stored

    def get(self, reservation_id: ReservationId) -> Reservation:
        """The reservation or NotFound."""
        try:
            return self._t.reservations[reservation_id][0]
        except KeyError:
            raise NotFound("reservation", reservation_id) from None

    def save(self, reservation: Reservation) -> Reservation:
        """Store a confirmation or release when the version matches."""
        try:
            current, active = self._t.reservations[reservation.id]
        except KeyError:
            raise NotFound("reservation", reservation.id) from None
        if current.version != reservation.version:
            raise Conflict("the reservation was changed by somebody else; reload it", code=STALE)
        stored = attrs.evolve(current, hold_until=reservation.hold_until, released_at=reservation.released_at,
                              version=current.version + 1)
        self._t.reservations[reservation.id] = (stored, active and stored.released_at is None)
        return stored

    def between(self, therapist_id: AccountId, start: Instant, end: Instant, *, live_at: Instant | None = None,
                limit: int | None = None) -> Sequence[Reservation]:
        """Blocked interval overlapping ``[start, end)``, optionally live at ``live_at``; by start then id."""
        found = sorted(
            (r for r, _ in self._t.reservations.values()
             if r.therapist_id == therapist_id and r.blocked_start < end and start < r.blocked_end
             and (live_at is None or r.is_live(live_at))),
            key=lambda r: (r.start, r.id),
        )
        return found if limit is None else found[: max(limit, 0)]
