"""Reservations, and the no-overlap guarantee on each database (decision 0012).

``add`` runs in a savepoint:

1. retire expired holds in the way: ``UPDATE ... SET active = false,
   version = version + 1`` for the therapist's active rows whose hold lapsed
   at or before ``now`` and whose blocked interval overlaps the new one;
2. SQLite only: re-check that no active row overlaps.  The unit of work
   began with ``BEGIN IMMEDIATE``, so no other writer runs between this check
   and the insert;
3. insert.  On PostgreSQL the exclusion constraint ``ex_reservations_no_overlap``
   refuses an overlapping active row, waiting for a concurrent inserter's
   transaction if it must (SQLSTATE 23P01 -> ``reservation.overlap``).  Two
   units retiring the same expired hold are serialised by its row lock; the
   second re-reads it as inactive and skips it.

PostgreSQL checks an exclusion constraint after putting the new index entry
in place, so two transactions inserting overlapping rows at the same moment
can each find the other's entry and wait for it: a deadlock, found only after
``deadlock_timeout`` (1 s) and reported as a busy database.  Before step 1,
PostgreSQL units therefore take a transaction-scoped advisory lock on the
therapist (``pg_advisory_xact_lock``): inserts for ONE therapist queue up
behind each other, everybody else's run in parallel, and the constraint stays
the guarantee (it also covers writers that bypass this repository).

The constraint cannot mention ``now()``: step 1 is what lets a lapsed hold
stop counting, inside the very transaction that needs its time.

``save`` needs no savepoint: it changes ``hold_until``, ``released_at``, ``active``
(only ever to false) and ``version`` of one row, which no constraint can refuse;
a stale or missing row is told by the row count.

Every statement is a module-level construct with bound parameters (``between``
has one per combination of its options), so SQLAlchemy compiles each once; the
hot ones run on the driver on SQLite (``prepared``).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Sequence
from typing import Any

import attrs
from sqlalchemy import Row, bindparam, insert, or_, select, text, true, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from massage_core.adapters.sql.engine import translating
from massage_core.adapters.sql.prepared import Prepared
from massage_core.adapters.sql.repositories._guard import savepoint
from massage_core.adapters.sql.tables_schedules import reservations
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import AccountId, ReservationId
from massage_core.domain.reservations import Reservation
from massage_core.domain.time import Instant
from massage_core.ports.schedules import ReservationRepository

DUPLICATE = "reservation.duplicate"
EXCLUSION_VIOLATION = "23P01"

_t = reservations
_OVERLAPPING = (
    _t.c.therapist_id == bindparam("p_therapist"),
    _t.c.active == true(),
    _t.c.blocked_start < bindparam("p_end"),
    _t.c.blocked_end > bindparam("p_start"),
)
_RETIRE = (
    update(_t)
    .where(*_OVERLAPPING, _t.c.hold_until.is_not(None), _t.c.hold_until <= bindparam("p_now"))
    .values(active=False, version=_t.c.version + 1)
)
_ANY_OVERLAP = select(_t.c.id).where(*_OVERLAPPING).limit(1)
_INSERT = insert(_t)
_BY_ID = select(_t).where(_t.c.id == bindparam("p_id"))
_SAVE = update(_t).where(_t.c.id == bindparam("p_id"), _t.c.version == bindparam("p_version"))
_BETWEEN = select(_t).where(_t.c.therapist_id == bindparam("p_therapist"), _t.c.blocked_start < bindparam("p_end"),
                            _t.c.blocked_end > bindparam("p_start"))
_LIVE = (_t.c.released_at.is_(None), or_(_t.c.hold_until.is_(None), _t.c.hold_until > bindparam("p_live_at")))
_BY_START = (_t.c.starts_at, _t.c.id)
# (live_at given, limit given) -> the query
_BETWEEN_QUERIES = {
    (False, False): _BETWEEN.order_by(*_BY_START),
    (True, False): _BETWEEN.where(*_LIVE).order_by(*_BY_START),
    (False, True): _BETWEEN.order_by(*_BY_START).limit(bindparam("p_limit")),
    (True, True): _BETWEEN.where(*_LIVE).order_by(*_BY_START).limit(bindparam("p_limit")),
}
# On SQLite they run on the driver (``prepared``).
_P_RETIRE, _P_ANY_OVERLAP, _P_INSERT = Prepared(_RETIRE), Prepared(_ANY_OVERLAP), Prepared(_INSERT)
_P_SAVE = Prepared(_SAVE)
_P_BETWEEN = {options: Prepared(query) for options, query in _BETWEEN_QUERIES.items()}
_LOCK_THERAPIST = text("SELECT pg_advisory_xact_lock(:key)")
_LOCK_NAMESPACE = b"massage_core.reservations\x1f"


def therapist_lock_key(therapist_id: str) -> int:
    """The advisory lock key of a therapist's reservations: 64 bits of SHA-256, signed."""
    digest = hashlib.sha256(_LOCK_NAMESPACE + therapist_id.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _overlap() -> Conflict:
    return Conflict("the therapist is already booked at that time (travel buffer included)",
                    code="reservation.overlap")


@contextlib.contextmanager
def _exclusion_is_overlap() -> Iterator[None]:
    try:
        yield
    except DBAPIError as exc:
        if str(getattr(exc.orig, "sqlstate", "") or "") == EXCLUSION_VIOLATION:
            raise _overlap() from exc
        raise


def _to_reservation(row: Row[Any]) -> Reservation:
    return Reservation(
        id=ReservationId(row.id), therapist_id=AccountId(row.therapist_id), start=row.starts_at, end=row.ends_at,
        blocked_start=row.blocked_start, blocked_end=row.blocked_end, reference=row.reference,
        made_by=row.made_by, created_at=row.created_at, hold_until=row.hold_until, released_at=row.released_at,
        version=row.version,
    )


class SqlReservationRepository(ReservationRepository):
    """The ``reservations`` table; see the module docstring for how overlaps are refused.

    ``recheck=False`` leaves out the SQLite re-check: only the tests that show
    what happens without the protection use it.
    """

    def __init__(self, connection: Connection, *, recheck: bool = True) -> None:
        """Work inside ``connection``'s transaction."""
        self._conn = connection
        self._postgres = connection.dialect.name == "postgresql"
        self._recheck = recheck and not self._postgres

    def add(self, reservation: Reservation, now: Instant) -> Reservation:
        """Retire lapsed holds in the way, re-check (SQLite), insert; all or nothing."""
        r = reservation
        where = {"p_therapist": r.therapist_id, "p_start": r.blocked_start, "p_end": r.blocked_end}
        with _exclusion_is_overlap(), translating(duplicate=DUPLICATE):
            if self._postgres:
                self._queue_behind_other_inserters(r.therapist_id)
            self._add(r, where, now)
        return attrs.evolve(r.clear_events(), version=1)

    def _queue_behind_other_inserters(self, therapist_id: str) -> None:
        """PostgreSQL: wait for (and block) other units adding reservations of this therapist."""
        self._conn.execute(_LOCK_THERAPIST, {"key": therapist_lock_key(therapist_id)})

    def _add(self, r: Reservation, where: dict[str, Any], now: Instant) -> None:
        with savepoint(self._conn):
            _P_RETIRE.run(self._conn, {**where, "p_now": now})
            if self._recheck and _P_ANY_OVERLAP.rows(self._conn, where):
                raise _overlap()
            _P_INSERT.run(self._conn, {
                "id": r.id, "therapist_id": r.therapist_id, "starts_at": r.start, "ends_at": r.end,
                "blocked_start": r.blocked_start, "blocked_end": r.blocked_end, "reference": r.reference,
                "made_by": r.made_by, "created_at": r.created_at, "hold_until": r.hold_until,
                "released_at": r.released_at, "active": r.released_at is None, "version": 1,
            })

    def get(self, reservation_id: ReservationId) -> Reservation:
        """The reservation or NotFound."""
        row = self._conn.execute(_BY_ID, {"p_id": reservation_id}).first()
        if row is None:
            raise NotFound("reservation", reservation_id)
        return _to_reservation(row)

    def save(self, reservation: Reservation) -> Reservation:
        """Store ``hold_until`` and ``released_at`` where the version matches; a release deactivates the row."""
        r = reservation
        values: dict[str, Any] = {"hold_until": r.hold_until, "released_at": r.released_at, "version": r.version + 1,
                                  "p_id": r.id, "p_version": r.version}
        if r.released_at is not None:
            values["active"] = False
        with _exclusion_is_overlap(), translating(duplicate=DUPLICATE):
            if _P_SAVE.run(self._conn, values) == 0:
                if self._conn.execute(_BY_ID, {"p_id": r.id}).first() is None:
                    raise NotFound("reservation", r.id)
                raise Conflict("the reservation was changed by somebody else; reload it", code="conflict.stale")
        return attrs.evolve(r.clear_events(), version=r.version + 1)

    def between(self, therapist_id: AccountId, start: Instant, end: Instant, *, live_at: Instant | None = None,
                limit: int | None = None) -> Sequence[Reservation]:
        """Blocked interval overlapping ``[start, end)``, optionally live at ``live_at``; by start then id."""
        params: dict[str, Any] = {"p_therapist": therapist_id, "p_start": start, "p_end": end}
        if live_at is not None:
            params["p_live_at"] = live_at
        if limit is not None:
            params["p_limit"] = max(limit, 0)
        query = _P_BETWEEN[live_at is not None, limit is not None]
        return [_to_reservation(row) for row in query.rows(self._conn, params)]

