"""Orders: one ``orders`` row plus its ``order_timeline``; optimistic locking on ``version``.

``save`` updates the row where the version matches (on PostgreSQL a concurrent saver waits for the row
lock and then finds the new version: ``conflict.stale``; SQLite's units are serialised), then appends the
timeline steps beyond those stored -- the domain only ever appends to the timeline.  Step notes are
encrypted (``fields.ORDER_STEP_NOTE``), bound to (order id, position).

The hot path (``get`` then ``save`` in one unit of work) costs four statements on SQLite and three on
PostgreSQL: ``get`` reads the row and its steps (on PostgreSQL in ONE statement, the steps aggregated into
arrays, so both come from one snapshot under READ COMMITTED); the repository remembers, per order it read or
wrote, the version, how many steps were stored at it and the row's account references, so ``save`` of that
version appends without counting the steps again (a save of any other version counts them first) and needs no
savepoint: the update can only be refused for a reference to an account the row did not already hold (then
``save`` runs in a savepoint, as ``add`` always does), and the step insert after it cannot be refused.  The
statements are module-level constructs with bound parameters: SQLAlchemy compiles each once (and on SQLite
those of ``get``, ``save`` and ``add`` run on the driver: ``prepared``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import attrs
from sqlalchemy import Row, Select, bindparam, func, insert, literal_column, select, union_all, update
from sqlalchemy import and_, case, exists, or_
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Connection

from massage_core.adapters.sql.fields import ORDER_ADDRESS, ORDER_STEP_NOTE, FieldCodec
from massage_core.adapters.sql.engine import translating
from massage_core.adapters.sql.prepared import Prepared
from massage_core.adapters.sql.repositories._guard import guarded
from massage_core.adapters.sql.tables_orders import order_timeline, orders
from massage_core.domain.dispatch import DispatchMode, TherapistLoad
from massage_core.domain.cancellation import CancellationCause, CancellationOutcome, LateArrival, Penalty, Shares
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import AccountId, ServiceId
from massage_core.domain.intervals import Interval
from massage_core.domain.money import Money
from massage_core.domain.order_states import (
    TIME_HOLDING_STATES,
    OrderAction,
    OrderId,
    OrderParty,
    OrderState,
    OrderStep,
)
from massage_core.domain.orders import Order
from massage_core.domain.quality import ServiceRecord
from massage_core.domain.quotes import QuoteLine
from massage_core.domain.time import Instant
from massage_core.domain.visit_address import VisitAddress
from massage_core.ports.orders import PAGE, OrderRepository, PenaltyRecord, entered_state_at

DUPLICATE = "order.duplicate"

_o, _s = orders, order_timeline
_BY_ID = select(_o).where(_o.c.id == bindparam("p_id"))
_STEP_ROW = (_s.c.order_id, _s.c.position, _s.c.at, _s.c.action, _s.c.party, _s.c.actor, _s.c.from_state,
             _s.c.to_state, _s.c.note_enc)  # every column, in this order: ``_load`` unpacks the rows by position
_STEPS_OF = (
    select(*_STEP_ROW)
    .where(_s.c.order_id.in_(bindparam("p_ids", expanding=True)))
    .order_by(_s.c.order_id, _s.c.position)
)
_STEPS_OF_ONE = select(*_STEP_ROW).where(_s.c.order_id == bindparam("p_id")).order_by(_s.c.position)
_STEP_COUNT = select(func.count()).select_from(_s).where(_s.c.order_id == bindparam("p_id"))
_STEP_COLUMNS = (_s.c.position, _s.c.at, _s.c.action, _s.c.party, _s.c.actor, _s.c.from_state, _s.c.to_state,
                 _s.c.note_enc)
# PostgreSQL: the row and its steps in one statement (one snapshot); each step column as an array by position.
_BY_ID_WITH_STEPS = (
    select(_o, *(func.array_agg(aggregate_order_by(column, _s.c.position)).label(f"steps_{column.name}")
                 for column in _STEP_COLUMNS))
    .select_from(_o.outerjoin(_s, _s.c.order_id == _o.c.id))
    .where(_o.c.id == bindparam("p_id"))
    .group_by(_o.c.id)
)
_INSERT = insert(_o)
# Decoding a step: the enum members by value (a dictionary look-up costs a tenth of ``OrderAction(value)``,
# which stays the fallback, so an unknown value still raises ValueError).
_ACTIONS = {member.value: member for member in OrderAction}
_PARTIES = {member.value: member for member in OrderParty}
_STATES = {member.value: member for member in OrderState}
_INSERT_STEPS = insert(_s)
_UPDATE = update(_o).where(_o.c.id == bindparam("p_id"), _o.c.version == bindparam("p_version"))
_REFERENCES = tuple(column.name for column in _o.c if column.foreign_keys)
# The statements of every step, run on the driver on SQLite (``prepared``).
_P_BY_ID, _P_STEPS_OF_ONE = Prepared(_BY_ID), Prepared(_STEPS_OF_ONE)
_P_INSERT, _P_INSERT_STEPS, _P_UPDATE = Prepared(_INSERT), Prepared(_INSERT_STEPS), Prepared(_UPDATE)
_NEWEST = (_o.c.placed_at.desc(), _o.c.id.desc())


def _settlement_values(outcome: CancellationOutcome | None) -> dict[str, Any]:
    penalty = outcome.penalty if outcome is not None else None
    return {
        "settlement_cause": outcome.cause.value if outcome else None,
        "settlement_by": outcome.by.value if outcome else None,
        "settlement_refund_bp": outcome.shares.refund_bp if outcome else None,
        "settlement_therapist_bp": outcome.shares.therapist_bp if outcome else None,
        "settlement_refund_fen": outcome.refund.fen if outcome else None,
        "settlement_therapist_fen": outcome.therapist_compensation.fen if outcome else None,
        "settlement_platform_fen": outcome.platform_retained.fen if outcome else None,
        "penalty_therapist_id": penalty.therapist_id if penalty else None,
        "penalty_cause": penalty.cause.value if penalty else None,
        "penalty_at": penalty.at if penalty else None,
    }


def _late_values(late: LateArrival | None) -> dict[str, Any]:
    return {
        "late_minutes": late.minutes if late else None,
        "late_penalty_therapist_id": late.penalty.therapist_id if late else None,
        "late_penalty_at": late.penalty.at if late else None,
    }


def _late_arrival(row: Row[Any]) -> LateArrival | None:
    if row.late_minutes is None:
        return None
    return LateArrival(row.late_minutes, Penalty(AccountId(row.late_penalty_therapist_id),
                                                 CancellationCause.THERAPIST_LATE, row.late_penalty_at))


def _values(order: Order, version: int) -> dict[str, Any]:
    return {
        "customer_id": order.customer_id, "therapist_id": order.therapist_id, "service_id": order.service_id,
        "scheduled_start": order.scheduled.start, "scheduled_end": order.scheduled.end,
        "currency": order.total.currency, "total_fen": order.total.fen, "paid_fen": order.paid.fen,
        "refunded_fen": order.refunded.fen, "placed_at": order.placed_at, "state": order.state.value,
        "entered_at": entered_state_at(order), "rejected_by": ",".join(order.rejected_by),
        "arrived_at": order.arrived_at, "finished_at": order.finished_at,
        **_settlement_values(order.settlement), **_late_values(order.late_arrival), "version": version,
        "dispatch_mode": order.dispatch.value, "gender_preference": order.gender_preference,
    }


def _bill_text(bill: tuple[QuoteLine, ...]) -> str:
    return ",".join(f"{line.kind.value}:{line.amount.fen}" for line in bill)


def _bill(text: str, currency: str) -> tuple[QuoteLine, ...]:
    return tuple(QuoteLine(kind, Money(int(fen), currency))
                 for kind, _, fen in (part.partition(":") for part in text.split(",") if part))


def _address_text(address: VisitAddress | None) -> str:
    if address is None:
        return ""
    return json.dumps({"lat": address.point.lat, "lng": address.point.lng, "line": address.line},
                      ensure_ascii=False, separators=(",", ":"))


def _address(text: str) -> VisitAddress | None:
    if not text:
        return None
    parts = json.loads(text)
    return VisitAddress.at(parts["lat"], parts["lng"], parts["line"])


def _settlement(row: Row[Any]) -> CancellationOutcome | None:
    if row.settlement_cause is None:
        return None
    penalty = None
    if row.penalty_therapist_id is not None:
        penalty = Penalty(AccountId(row.penalty_therapist_id), CancellationCause(row.penalty_cause), row.penalty_at)
    money = row.currency
    return CancellationOutcome(
        CancellationCause(row.settlement_cause), OrderParty(row.settlement_by),
        Shares(row.settlement_refund_bp, row.settlement_therapist_bp), Money(row.settlement_refund_fen, money),
        Money(row.settlement_therapist_fen, money), Money(row.settlement_platform_fen, money), penalty,
    )


def _to_order(row: Row[Any], steps: tuple[OrderStep, ...], address: VisitAddress | None) -> Order:
    currency = row.currency
    return Order(
        id=OrderId(row.id), customer_id=AccountId(row.customer_id),
        therapist_id=AccountId(row.therapist_id) if row.therapist_id is not None else None,
        service_id=ServiceId(row.service_id), scheduled=Interval(row.scheduled_start, row.scheduled_end),
        total=Money(row.total_fen, currency), placed_at=row.placed_at, state=OrderState(row.state),
        paid=Money(row.paid_fen, currency), refunded=Money(row.refunded_fen, currency),
        rejected_by=tuple(AccountId(part) for part in row.rejected_by.split(",") if part),
        arrived_at=row.arrived_at, finished_at=row.finished_at, settlement=_settlement(row),
        late_arrival=_late_arrival(row), timeline=steps,
        dispatch=DispatchMode(row.dispatch_mode), address=address, gender_preference=row.gender_preference,
        bill=_bill(row.bill, currency), level=row.level, version=row.version,
    )


class _Stored(NamedTuple):
    """What this unit of work read or wrote of an order: its version, its step count, its references."""

    version: int
    steps: int
    references: tuple[Any, ...]


class _StepRow(NamedTuple):
    order_id: str
    position: int
    at: Instant
    action: str
    party: str
    actor: str
    from_state: str | None
    to_state: str
    note_enc: str | None


class SqlOrderRepository(OrderRepository):
    """The ``orders`` and ``order_timeline`` tables; see the module docstring."""

    def __init__(self, connection: Connection, codec: FieldCodec) -> None:
        """Work inside ``connection``'s transaction, encrypting step notes with ``codec``."""
        self._conn = connection
        self._codec = codec
        self._postgres = connection.dialect.name == "postgresql"
        self._stored: dict[str, _Stored] = {}

    def _insert_steps(self, order: Order, first: int) -> None:
        rows = [
            {"order_id": order.id, "position": n, "at": step.at, "action": step.action.value,
             "party": step.party.value, "actor": step.actor,
             "from_state": step.from_state.value if step.from_state is not None else None,
             "to_state": step.to_state.value, "note_enc": self._codec.seal(ORDER_STEP_NOTE, (order.id, n), step.note)}
            for n, step in enumerate(order.timeline) if n >= first
        ]
        if rows:
            _P_INSERT_STEPS.run_many(self._conn, rows)

    def add(self, order: Order) -> Order:
        """Insert the row and every step with version 1; Conflict ``order.duplicate`` or ``conflict.reference``."""
        values = _values(order, 1)
        with guarded(self._conn, duplicate=DUPLICATE):
            address = self._codec.seal(ORDER_ADDRESS, (order.id,), _address_text(order.address))
            _P_INSERT.run(self._conn, {"id": order.id, "address_enc": address, "bill": _bill_text(order.bill),
                                       "level": order.level, **values})
            self._insert_steps(order, 0)
        self._remember(order.id, 1, len(order.timeline), values)
        return attrs.evolve(order.clear_events(), version=1)

    def get(self, order_id: OrderId) -> Order:
        """The order and its timeline, or NotFound.

        The row and the steps always come from one snapshot: under READ COMMITTED (PostgreSQL) every
        statement has its own, so there they are read by one statement; SQLite's units are serialised
        (``BEGIN IMMEDIATE``), so its two statements see the same data.
        """
        if self._postgres:
            row = self._conn.execute(_BY_ID_WITH_STEPS, {"p_id": order_id}).first()
            if row is None:
                raise NotFound("order", order_id)
            columns = (row.steps_position, row.steps_at, row.steps_action, row.steps_party, row.steps_actor,
                       row.steps_from_state, row.steps_to_state, row.steps_note_enc)
            steps = [_StepRow(row.id, *step) for step in zip(*columns, strict=True) if step[0] is not None]
            order = self._load([row], steps)[0]
        else:
            found = _P_BY_ID.rows(self._conn, {"p_id": order_id})
            if not found:
                raise NotFound("order", order_id)
            row = found[0]
            order = self._load([row], _P_STEPS_OF_ONE.rows(self._conn, {"p_id": order_id}))[0]
        self._remember(order.id, order.version, len(order.timeline), row._mapping)
        return order

    def _remember(self, oid: str, version: int, steps: int, values: Mapping[Any, Any]) -> None:
        self._stored[oid] = _Stored(version, steps, tuple(values[name] for name in _REFERENCES))

    def save(self, order: Order) -> Order:
        """Update where the stored version is ``order.version``; append the new timeline steps."""
        new_version = order.version + 1
        values = _values(order, new_version)
        known = self._stored.get(order.id)
        if known is not None and known.version != order.version:
            known = None
        # A savepoint only when the database may refuse the update: a reference to an account that this
        # row did not hold at the version read here (the step insert after it cannot be refused).
        refusable = known is None or known.references != tuple(values[name] for name in _REFERENCES)
        with guarded(self._conn, duplicate=DUPLICATE) if refusable else translating(duplicate=DUPLICATE):
            if _P_UPDATE.run(self._conn, {**values, "p_id": order.id, "p_version": order.version}) == 0:
                if self._conn.execute(_BY_ID, {"p_id": order.id}).first() is None:
                    raise NotFound("order", order.id)
                raise Conflict("the order was changed by somebody else; reload it", code="conflict.stale")
            # The stored version was order.version, so the steps stored are those of that version.
            stored = known.steps if known is not None else \
                self._conn.execute(_STEP_COUNT, {"p_id": order.id}).scalar_one()
            self._insert_steps(order, stored)
        self._remember(order.id, new_version, len(order.timeline), values)
        return attrs.evolve(order.clear_events(), version=new_version)

    def _load(self, rows: Sequence[Row[Any]], read: Iterable[Any] | None = None) -> list[Order]:
        """The orders of ``rows`` with their steps (``read`` when the caller read them already)."""
        if not rows:
            return []
        steps: dict[str, list[OrderStep]] = defaultdict(list)
        if read is None:
            read = self._conn.execute(_STEPS_OF, {"p_ids": [row.id for row in rows]}).all()
        open_note = self._codec.open
        for oid, position, at, action, party, actor, source, target, note in read:  # the columns of _STEP_ROW
            steps[oid].append(OrderStep(
                at, _ACTIONS.get(action) or OrderAction(action), _PARTIES.get(party) or OrderParty(party), actor,
                None if source is None else _STATES.get(source) or OrderState(source),
                _STATES.get(target) or OrderState(target),
                "" if note is None else open_note(ORDER_STEP_NOTE, (oid, position), note),
            ))
        return [_to_order(row, tuple(steps[row.id]), _address(self._codec.open(ORDER_ADDRESS, (row.id,), row.address_enc)))
                for row in rows]

    def _page(self, query: Select[Any], offset: int, limit: int) -> list[Order]:
        query = query.order_by(*_NEWEST).offset(max(offset, 0)).limit(max(limit, 0))
        return self._load(list(self._conn.execute(query)))

    def list_for_customer(self, customer_id: AccountId, states: Collection[OrderState] | None = None, *,
                          offset: int = 0, limit: int = PAGE) -> Sequence[Order]:
        """The customer's orders, newest first."""
        query = select(_o).where(_o.c.customer_id == customer_id)
        if states is not None:
            query = query.where(_o.c.state.in_([s.value for s in states]))
        return self._page(query, offset, limit)

    def list_for_therapist(self, therapist_id: AccountId, states: Collection[OrderState] | None = None, *,
                           offset: int = 0, limit: int = PAGE) -> Sequence[Order]:
        """The therapist's orders, newest first."""
        query = select(_o).where(_o.c.therapist_id == therapist_id)
        if states is not None:
            query = query.where(_o.c.state.in_([s.value for s in states]))
        return self._page(query, offset, limit)

    def list_by_state(self, states: Collection[OrderState], *, offset: int = 0, limit: int = PAGE,
                      customer_id: AccountId | None = None, therapist_id: AccountId | None = None) -> Sequence[Order]:
        """Orders in ``states``, newest first; one person's (indexed on customer_id, placed_at and on
        therapist_id, state, placed_at) when ``customer_id`` / ``therapist_id`` is given."""
        query = select(_o).where(_o.c.state.in_([s.value for s in states]))
        if customer_id is not None:
            query = query.where(_o.c.customer_id == customer_id)
        if therapist_id is not None:
            query = query.where(_o.c.therapist_id == therapist_id)
        return self._page(query, offset, limit)

    def due(self, state: OrderState, before: Instant, *, limit: int = PAGE) -> Sequence[Order]:
        """Orders that entered ``state`` before ``before``, oldest first."""
        query = (select(_o).where(_o.c.state == state.value, _o.c.entered_at < before)
                 .order_by(_o.c.entered_at, _o.c.id).limit(max(limit, 0)))
        return self._load(list(self._conn.execute(query)))

    def with_sos(self, since: Instant, *, limit: int = PAGE) -> Sequence[Order]:
        """Orders with a recent SOS (indexed on order_timeline action, at), the most recent first."""
        latest = (select(_s.c.order_id, func.max(_s.c.at).label("sos_at"))
                  .where(_s.c.action == OrderAction.SOS.value, _s.c.at >= since)
                  .group_by(_s.c.order_id).subquery())
        query = (select(_o).join(latest, latest.c.order_id == _o.c.id)
                 .order_by(latest.c.sos_at.desc(), _o.c.id.desc()).limit(max(limit, 0)))
        return self._load(list(self._conn.execute(query)))

    def open_offers(self, *, limit: int = PAGE) -> Sequence[Order]:
        """Broadcast offers, oldest first."""
        query = (select(_o).where(_o.c.state == OrderState.AWAITING_ACCEPTANCE.value, _o.c.therapist_id.is_(None))
                 .order_by(_o.c.entered_at, _o.c.id).limit(max(limit, 0)))
        return self._load(list(self._conn.execute(query)))

    def therapist_load(self, therapist_ids: Collection[AccountId], since: Instant) -> Mapping[AccountId, TherapistLoad]:
        """Three grouped reads: live orders by therapist, accept steps by actor (indexed on actor, action, at),
        and the rejecters of the orders placed since ``since`` that have any."""
        wanted = sorted(set(therapist_ids))
        if not wanted:
            return {}
        live: dict[str, int] = {who: n for who, n in self._conn.execute(
            select(_o.c.therapist_id, func.count()).where(
                _o.c.therapist_id.in_(wanted), _o.c.state.in_([s.value for s in TIME_HOLDING_STATES]))
            .group_by(_o.c.therapist_id))}
        accepted: dict[str, int] = {who: n for who, n in self._conn.execute(
            select(_s.c.actor, func.count()).where(
                _s.c.actor.in_(wanted), _s.c.action == OrderAction.ACCEPT.value, _s.c.at >= since)
            .group_by(_s.c.actor))}
        declined = dict.fromkeys(wanted, 0)
        for (joined,) in self._conn.execute(
                select(_o.c.rejected_by).where(_o.c.placed_at >= since, _o.c.rejected_by != "")):
            for rejecter in set(joined.split(",")) & declined.keys():
                declined[rejecter] += 1
        return {AccountId(t): TherapistLoad(live.get(t, 0), accepted.get(t, 0), declined[t]) for t in wanted}

    def service_records(self, therapist_ids: Collection[AccountId], since: Instant,
                        until: Instant) -> Mapping[AccountId, ServiceRecord]:
        """One grouped statement over the therapists' orders (indexed on therapist_id), the SOS test a
        correlated EXISTS on the timeline (its primary key leads with the order id)."""
        wanted = sorted(set(therapist_ids))
        if not wanted:
            return {}
        sos = exists().where(_s.c.order_id == _o.c.id, _s.c.action == OrderAction.SOS.value)
        dropped = _o.c.penalty_therapist_id.is_not(None)
        conditions = (or_(_o.c.arrived_at.is_not(None), dropped), dropped, _o.c.arrived_at.is_not(None),
                      _o.c.late_minutes.is_not(None), _o.c.finished_at.is_not(None),
                      and_(_o.c.finished_at.is_not(None), sos))
        query = (select(_o.c.therapist_id, *(func.sum(case((c, 1), else_=0)) for c in conditions))
                 .where(_o.c.therapist_id.in_(wanted), _o.c.scheduled_start >= since, _o.c.scheduled_start < until)
                 .group_by(_o.c.therapist_id))
        found = {row[0]: ServiceRecord(*(int(v or 0) for v in row[1:])) for row in self._conn.execute(query)}
        return {AccountId(t): found.get(t, ServiceRecord()) for t in wanted}

    def penalties_of(self, therapist_id: AccountId, *, offset: int = 0,
                     limit: int = PAGE) -> Sequence[PenaltyRecord]:
        """The ``penalty_*`` columns of the therapist's settled orders and the ``late_penalty_*`` columns of
        their late arrivals (one UNION ALL), newest first, a settlement's record before a late arrival's of
        the same order at the same time (no timelines loaded)."""
        settled = select(_o.c.id, _o.c.penalty_cause.label("cause"), _o.c.penalty_at.label("at"),
                         literal_column("1").label("rank")).where(_o.c.penalty_therapist_id == therapist_id)
        late = select(_o.c.id, literal_column(f"'{CancellationCause.THERAPIST_LATE.value}'").label("cause"),
                      _o.c.late_penalty_at.label("at"), literal_column("0").label("rank")
                      ).where(_o.c.late_penalty_therapist_id == therapist_id)
        both = union_all(settled, late).subquery()
        query = (select(both.c.id, both.c.cause, both.c.at)
                 .order_by(both.c.at.desc(), both.c.id.desc(), both.c.rank.desc())
                 .offset(max(offset, 0)).limit(max(limit, 0)))
        return [PenaltyRecord(OrderId(row.id), Penalty(therapist_id, CancellationCause(row.cause), row.at))
                for row in self._conn.execute(query)]
