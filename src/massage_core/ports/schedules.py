"""Repositories of therapists' schedules and reservations (``uow.schedules``, ``uow.reservations``)."""

from __future__ import annotations

import abc
from collections.abc import Sequence

from massage_core.domain.ids import AccountId, ReservationId
from massage_core.domain.reservations import Reservation
from massage_core.domain.schedules import Schedule
from massage_core.domain.time import Instant


class ScheduleRepository(abc.ABC):
    """One schedule per therapist, keyed by the therapist's account id."""

    @abc.abstractmethod
    def add(self, schedule: Schedule) -> Schedule:
        """Store a new schedule; return it with version 1 and no events.

        Raises ``Conflict`` (``schedule.duplicate``) when the therapist already
        has one, ``Conflict`` (``conflict.reference``) on SQL when the account
        does not exist.
        """

    @abc.abstractmethod
    def find(self, therapist_id: AccountId) -> Schedule | None:
        """Return the therapist's schedule, or None."""

    @abc.abstractmethod
    def save(self, schedule: Schedule) -> Schedule:
        """Replace the stored schedule; return it with version + 1 and no events.

        Raises ``Conflict`` (``conflict.stale``) when the stored version is not
        ``schedule.version``, ``NotFound`` when there is no schedule.
        """


class ReservationRepository(abc.ABC):
    """Reservations, with the guarantee that the live ones of a therapist never overlap.

    "Live at now": not released and not a hold whose ``hold_until <= now``.
    """

    @abc.abstractmethod
    def add(self, reservation: Reservation, now: Instant) -> Reservation:
        """Store a new live reservation; return it with version 1 and no events.

        Raises ``Conflict`` (``reservation.overlap``) when its blocked interval
        overlaps the blocked interval of another reservation of the same
        therapist that is live at ``now`` -- atomically, even when other units
        of work add overlapping reservations at the same time.  Expired holds
        in the way are retired on the spot (they stay expired: unchanged apart
        from their version).  Raises ``Conflict`` (``reservation.duplicate``) for
        a taken id and, on SQL, ``conflict.reference`` for an unknown therapist.
        A refused add changes nothing.
        """

    @abc.abstractmethod
    def get(self, reservation_id: ReservationId) -> Reservation:
        """Return the reservation; raise ``NotFound`` when there is none."""

    @abc.abstractmethod
    def save(self, reservation: Reservation) -> Reservation:
        """Store a confirmation or release; return it with version + 1 and no events.

        Only ``hold_until`` and ``released_at`` change.  Raises ``Conflict``
        (``conflict.stale``) when the stored version is not
        ``reservation.version`` (a concurrent change, or an expired hold that
        was retired), ``NotFound`` when absent.
        """

    @abc.abstractmethod
    def between(self, therapist_id: AccountId, start: Instant, end: Instant, *, live_at: Instant | None = None,
                limit: int | None = None) -> Sequence[Reservation]:
        """The therapist's reservations whose blocked interval overlaps ``[start, end)``, by start then id.

        With ``live_at`` only those live at that instant; at most ``limit``.
        """
