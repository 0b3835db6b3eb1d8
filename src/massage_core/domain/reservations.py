"""Reservations: a therapist's time taken by a booking, a hold, or a block of their own.

A reservation covers ``[start, end)`` and blocks ``[start, end + buffer)``:
the travel buffer follows each visit (decision 0012).  No two LIVE
reservations of one therapist may have overlapping blocked intervals; the
storage adapters enforce that, also under concurrency.

Live means: not released and, for a hold, ``now < hold_until``.  A hold
expires by itself -- nothing has to run at ``hold_until``; every query asks
"live at now?".  Transitions (a table in ``allowed_actions``):

    held      --confirm--> confirmed      held/confirmed/expired --release--> released

An expired hold can only be released (tidying up); it can no longer be confirmed.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

import attrs
from attrs import field, frozen

from massage_core.domain.errors import InvalidTransition, ValidationError
from massage_core.domain.events import DomainEvent
from massage_core.domain.ids import AccountId, ReservationId
from massage_core.domain.intervals import Interval, Span, to_micros
from massage_core.domain.time import Instant, utc

MAX_REFERENCE = 100


class ReservationStatus(enum.StrEnum):
    HELD = "held"
    CONFIRMED = "confirmed"
    EXPIRED = "expired"
    RELEASED = "released"


class ReservationAction(enum.StrEnum):
    CONFIRM = "confirm"
    RELEASE = "release"


def allowed_actions(status: ReservationStatus) -> frozenset[ReservationAction]:
    """The transition table: what may happen to a reservation in each status."""
    table: dict[ReservationStatus, frozenset[ReservationAction]] = {
        ReservationStatus.HELD: frozenset({ReservationAction.CONFIRM, ReservationAction.RELEASE}),
        ReservationStatus.CONFIRMED: frozenset({ReservationAction.RELEASE}),
        ReservationStatus.EXPIRED: frozenset({ReservationAction.RELEASE}),
        ReservationStatus.RELEASED: frozenset(),
    }
    return table[status]


@frozen
class ReservationMade(DomainEvent):
    reservation_id: ReservationId
    therapist_id: AccountId
    reference: str


@frozen
class ReservationConfirmed(DomainEvent):
    reservation_id: ReservationId
    therapist_id: AccountId


@frozen
class ReservationReleased(DomainEvent):
    reservation_id: ReservationId
    therapist_id: AccountId


def reference(raw: object) -> str:
    """What the reservation is for (e.g. an order id): 1..100 characters, trimmed."""
    if not isinstance(raw, str) or not raw.strip() or len(raw.strip()) > MAX_REFERENCE:
        raise ValidationError(f"reference must be 1..{MAX_REFERENCE} characters", code="reservation.reference",
                              field="reference")
    return raw.strip()


@frozen
class Reservation:
    """See the module docstring.  ``made_by`` is the label of the actor who reserved."""

    id: ReservationId
    therapist_id: AccountId
    start: Instant
    end: Instant
    blocked_start: Instant
    blocked_end: Instant
    reference: str
    made_by: str
    created_at: Instant
    hold_until: Instant | None = None
    released_at: Instant | None = None
    version: int = 0
    events: tuple[DomainEvent, ...] = field(default=(), eq=False, repr=False)

    @classmethod
    def make(cls, reservation_id: ReservationId, therapist_id: AccountId, interval: Interval, ref: str,
             made_by: str, now: Instant, *, buffer: dt.timedelta, hold_until: dt.datetime | None = None) -> Reservation:
        """A new live reservation of ``interval`` blocking it plus ``buffer`` after it.

        A hold must end after ``now`` and no later than the interval's end
        (``reservation.hold_until``); the buffer must not be negative.
        """
        hold = utc(hold_until) if hold_until is not None else None
        if hold is not None and not now < hold <= interval.end:
            raise ValidationError("a hold must end after now and no later than the reservation",
                                  code="reservation.hold_until", field="hold_until")
        if buffer < dt.timedelta(0):
            raise ValidationError("the buffer cannot be negative", code="reservation.buffer", field="buffer_minutes")
        made = cls(id=reservation_id, therapist_id=therapist_id, start=interval.start, end=interval.end,
                   blocked_start=interval.start, blocked_end=interval.end + buffer, reference=reference(ref),
                   made_by=made_by, created_at=now, hold_until=hold)
        return attrs.evolve(made, events=(ReservationMade(now, reservation_id, therapist_id, made.reference),))

    def _with(self, event: DomainEvent, **changes: Any) -> Reservation:
        return attrs.evolve(self, events=self.events + (event,), **changes)

    def clear_events(self) -> Reservation:
        return attrs.evolve(self, events=())

    @property
    def interval(self) -> Interval:
        return Interval(self.start, self.end)

    @property
    def blocked(self) -> Interval:
        return Interval(self.blocked_start, self.blocked_end)

    @property
    def blocked_span(self) -> Span:
        return (to_micros(self.blocked_start), to_micros(self.blocked_end))

    def status(self, now: Instant) -> ReservationStatus:
        """Where the reservation stands at ``now``."""
        if self.released_at is not None:
            return ReservationStatus.RELEASED
        if self.hold_until is None:
            return ReservationStatus.CONFIRMED
        return ReservationStatus.HELD if now < self.hold_until else ReservationStatus.EXPIRED

    def is_live(self, now: Instant) -> bool:
        """True when it blocks the therapist's time at ``now`` (held or confirmed)."""
        return self.released_at is None and (self.hold_until is None or now < self.hold_until)

    def _check(self, action: ReservationAction, now: Instant) -> None:
        status = self.status(now)
        allowed = allowed_actions(status)
        if action not in allowed:
            raise InvalidTransition(status.value, action.value, (a.value for a in allowed))

    def confirm(self, now: Instant) -> Reservation:
        """Turn a live hold into a firm reservation."""
        self._check(ReservationAction.CONFIRM, now)
        return self._with(ReservationConfirmed(now, self.id, self.therapist_id), hold_until=None)

    def release(self, now: Instant) -> Reservation:
        """Give the time back."""
        self._check(ReservationAction.RELEASE, now)
        return self._with(ReservationReleased(now, self.id, self.therapist_id), released_at=now)
