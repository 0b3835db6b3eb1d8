"""Complaints: the ``complaints`` row (optimistic ``version``) and its ``complaint_steps`` (decision 0038).

A step's note is sealed with the FieldCodec bound to (complaint id, position); the complaint's description, the
therapist's answer and the resolution note are the notes of its ``file``, ``respond`` and ``resolve`` steps, so
each text is stored once.  ``add`` checks for a live complaint of the order first and the partial unique index
``ix_complaints_order_id`` refuses the loser of two concurrent filings (Conflict ``complaint.already_open``).
``get_for_update`` locks the row on PostgreSQL (``FOR UPDATE``); SQLite's ``BEGIN IMMEDIATE`` serialises anyway.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import attrs
from sqlalchemy import Row, bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from massage_core.adapters.sql.fields import COMPLAINT_STEP_NOTE, FieldCodec
from massage_core.adapters.sql.repositories._guard import guarded
from massage_core.adapters.sql.tables_complaints import complaint_steps, complaints
from massage_core.domain.complaints import (
    LIVE_STATES,
    Complaint,
    ComplaintAction,
    ComplaintCategory,
    ComplaintId,
    ComplaintParty,
    ComplaintState,
    ComplaintStep,
    Outcome,
    Resolution,
)
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import AccountId
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderId
from massage_core.domain.time import Instant
from massage_core.ports.complaints import LIVE_EXISTS, PAGE, ComplaintsRepository

_c, _s = complaints, complaint_steps
_BY_ID = select(_c).where(_c.c.id == bindparam("p_id"))
_STEPS_OF = (select(_s).where(_s.c.complaint_id.in_(bindparam("p_ids", expanding=True)))
             .order_by(_s.c.complaint_id, _s.c.position))
_STEP_COUNT = select(func.count()).select_from(_s).where(_s.c.complaint_id == bindparam("p_id"))
_LIVE_OF_ORDER = select(_c.c.id).where(_c.c.order_id == bindparam("p_order"),
                                       _c.c.state.in_([s.value for s in LIVE_STATES]))


def _values(complaint: Complaint, version: int) -> dict[str, Any]:
    decided = complaint.resolution
    return {
        "order_id": complaint.order_id, "customer_id": complaint.customer_id, "therapist_id": complaint.therapist_id,
        "category": complaint.category.value, "evidence": "\n".join(complaint.evidence),
        "state": complaint.state.value, "filed_at": complaint.filed_at, "answer_due": complaint.answer_due,
        "answered_at": complaint.answered_at, "mediator_id": complaint.mediator_id,
        "outcome": decided.outcome.value if decided else None,
        "currency": decided.amount.currency if decided else None,
        "amount_fen": decided.amount.fen if decided else None,
        "resolved_by": decided.by if decided else None, "resolved_at": decided.at if decided else None,
        "version": version,
    }


def _note_of(steps: Sequence[ComplaintStep], action: ComplaintAction) -> str | None:
    return next((step.note for step in steps if step.action is action), None)


def _to_complaint(row: Row[Any], steps: tuple[ComplaintStep, ...]) -> Complaint:
    resolution = None
    if row.outcome is not None:
        resolution = Resolution(Outcome(row.outcome), Money(row.amount_fen, row.currency),
                                AccountId(row.resolved_by) if row.resolved_by is not None else None,
                                row.resolved_at, _note_of(steps, ComplaintAction.RESOLVE) or "")
    return Complaint(
        id=ComplaintId(row.id), order_id=OrderId(row.order_id), customer_id=AccountId(row.customer_id),
        therapist_id=AccountId(row.therapist_id), category=ComplaintCategory(row.category),
        description=_note_of(steps, ComplaintAction.FILE) or "",
        evidence=tuple(ref for ref in row.evidence.split("\n") if ref), filed_at=row.filed_at,
        answer_due=row.answer_due, state=ComplaintState(row.state),
        answer=_note_of(steps, ComplaintAction.RESPOND), answered_at=row.answered_at,
        mediator_id=AccountId(row.mediator_id) if row.mediator_id is not None else None,
        resolution=resolution, timeline=steps, version=row.version,
    )


class SqlComplaintsRepository(ComplaintsRepository):
    """The ``complaints`` and ``complaint_steps`` tables; see the module docstring."""

    def __init__(self, connection: Connection, codec: FieldCodec) -> None:
        self._conn = connection
        self._codec = codec

    def _insert_steps(self, complaint: Complaint, first: int) -> None:
        rows = [
            {"complaint_id": complaint.id, "position": n, "at": step.at, "action": step.action.value,
             "party": step.party.value, "actor": step.actor,
             "from_state": step.from_state.value if step.from_state is not None else None,
             "to_state": step.to_state.value,
             "note_enc": self._codec.seal(COMPLAINT_STEP_NOTE, (complaint.id, n), step.note)}
            for n, step in enumerate(complaint.timeline) if n >= first
        ]
        if rows:
            self._conn.execute(insert(_s), rows)

    def _load(self, rows: Sequence[Row[Any]]) -> list[Complaint]:
        if not rows:
            return []
        steps: dict[str, list[ComplaintStep]] = defaultdict(list)
        for step in self._conn.execute(_STEPS_OF, {"p_ids": [row.id for row in rows]}):
            note = self._codec.open(COMPLAINT_STEP_NOTE, (step.complaint_id, step.position), step.note_enc)
            steps[step.complaint_id].append(ComplaintStep(
                step.at, ComplaintAction(step.action), ComplaintParty(step.party), step.actor,
                ComplaintState(step.from_state) if step.from_state is not None else None,
                ComplaintState(step.to_state), note))
        return [_to_complaint(row, tuple(steps[row.id])) for row in rows]

    def add(self, complaint: Complaint) -> Complaint:
        with guarded(self._conn, duplicate=LIVE_EXISTS):
            if self._conn.execute(_BY_ID, {"p_id": complaint.id}).first() is not None:
                raise Conflict(f"complaint {complaint.id} already exists", code="complaint.duplicate")
            if complaint.is_live and self._conn.execute(_LIVE_OF_ORDER, {"p_order": complaint.order_id}).first():
                raise Conflict("this order already has an open complaint", code=LIVE_EXISTS)
            self._conn.execute(insert(_c).values(id=complaint.id, **_values(complaint, 1)))
            self._insert_steps(complaint, 0)
        return attrs.evolve(complaint, version=1)

    def get(self, ident: ComplaintId) -> Complaint:
        row = self._conn.execute(_BY_ID, {"p_id": ident}).first()
        if row is None:
            raise NotFound("complaint", ident)
        return self._load([row])[0]

    def get_for_update(self, ident: ComplaintId) -> Complaint:
        query = _BY_ID.with_for_update() if self._conn.dialect.name == "postgresql" else _BY_ID
        row = self._conn.execute(query, {"p_id": ident}).first()
        if row is None:
            raise NotFound("complaint", ident)
        return self._load([row])[0]

    def save(self, complaint: Complaint) -> Complaint:
        new_version = complaint.version + 1
        with guarded(self._conn, duplicate=LIVE_EXISTS):
            result = self._conn.execute(
                update(_c).where(_c.c.id == complaint.id, _c.c.version == complaint.version)
                .values(_values(complaint, new_version)))
            if result.rowcount == 0:
                if self._conn.execute(_BY_ID, {"p_id": complaint.id}).first() is None:
                    raise NotFound("complaint", complaint.id)
                raise Conflict("the complaint was changed by somebody else; reload it", code="conflict.stale")
            stored = self._conn.execute(_STEP_COUNT, {"p_id": complaint.id}).scalar_one()
            self._insert_steps(complaint, stored)
        return attrs.evolve(complaint, version=new_version)

    def _page(self, *where: Any, newest: bool, offset: int, limit: int) -> list[Complaint]:
        order = (_c.c.filed_at.desc(), _c.c.id.desc()) if newest else (_c.c.filed_at, _c.c.id)
        query = select(_c).where(*where).order_by(*order).offset(max(offset, 0)).limit(max(limit, 0))
        return self._load(self._conn.execute(query).all())

    def for_order(self, order_id: OrderId) -> Sequence[Complaint]:
        return self._page(_c.c.order_id == order_id, newest=False, offset=0, limit=1_000)

    def for_customer(self, customer_id: AccountId, *, offset: int = 0, limit: int = PAGE) -> Sequence[Complaint]:
        return self._page(_c.c.customer_id == customer_id, newest=True, offset=offset, limit=limit)

    def for_therapist(self, therapist_id: AccountId, *, offset: int = 0, limit: int = PAGE) -> Sequence[Complaint]:
        return self._page(_c.c.therapist_id == therapist_id, newest=True, offset=offset, limit=limit)

    def list(self, state: ComplaintState | None = None, *, offset: int = 0, limit: int = PAGE) -> Sequence[Complaint]:
        where = () if state is None else (_c.c.state == state.value,)
        return self._page(*where, newest=False, offset=offset, limit=limit)

    def overdue(self, now: Instant, *, limit: int = PAGE) -> Sequence[ComplaintId]:
        query = (select(_c.c.id).where(_c.c.state == ComplaintState.OPEN.value, _c.c.answer_due <= now)
                 .order_by(_c.c.answer_due, _c.c.id).limit(max(limit, 0)))
        return [ComplaintId(ident) for ident in self._conn.execute(query).scalars()]

    def upheld_counts(self, therapist_ids: Sequence[AccountId]) -> dict[AccountId, int]:
        counts = {AccountId(t): 0 for t in therapist_ids}
        if not counts:
            return counts
        query = (select(_c.c.therapist_id, func.count())
                 .where(_c.c.therapist_id.in_(list(counts)), _c.c.state == ComplaintState.RESOLVED.value,
                        _c.c.outcome != Outcome.NO_ACTION.value)
                 .group_by(_c.c.therapist_id))
        for therapist, count in self._conn.execute(query):
            counts[AccountId(therapist)] = int(count)
        return counts
