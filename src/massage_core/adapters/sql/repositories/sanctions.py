"""Sanctions: the ``sanctions`` row (optimistic ``version``) and its ``sanction_appeals`` row (decision 0039).

``save`` updates the sanction row where the version matches (on PostgreSQL a concurrent saver waits for the
row lock and then finds the new version: ``conflict.stale``; SQLite's units are serialised), then inserts a
new appeal -- the appeal's primary key is the sanction id, so a second one is refused by the database
(``appeal.once``) -- or updates a decided one where it is still pending.  The reason, the appeal's text and
the decision's reason are FieldCipher tokens bound to the sanction id (``fields.SANCTION_REASON``,
``APPEAL_TEXT``, ``APPEAL_DECISION``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import attrs
from sqlalchemy import Row, Select, bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from massage_core.adapters.sql.fields import APPEAL_DECISION, APPEAL_TEXT, SANCTION_REASON, FieldCodec
from massage_core.adapters.sql.repositories._guard import guarded
from massage_core.adapters.sql.tables_sanctions import sanction_appeals, sanctions
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import AccountId
from massage_core.domain.money import Money
from massage_core.domain.sanctions import (
    Appeal,
    AppealState,
    Sanction,
    SanctionId,
    SanctionKind,
    SanctionState,
)
from massage_core.domain.time import Instant
from massage_core.ports.sanctions import PAGE, SanctionRepository

DUPLICATE = "sanction.duplicate"
APPEALED = "appeal.once"

_s, _a = sanctions, sanction_appeals
_WITH_APPEAL = select(_s, _a.c.text_enc, _a.c.filed_at, _a.c.state.label("appeal_state"), _a.c.decided_by,
                      _a.c.decided_at, _a.c.decision_enc).select_from(_s.outerjoin(_a, _a.c.sanction_id == _s.c.id))
_BY_ID = _WITH_APPEAL.where(_s.c.id == bindparam("p_id"))
_EXISTS = select(_s.c.version).where(_s.c.id == bindparam("p_id"))


def _values(sanction: Sanction, version: int) -> dict[str, Any]:
    return {
        "therapist_id": sanction.therapist_id, "kind": sanction.kind.value, "imposed_by": sanction.imposed_by,
        "imposed_at": sanction.imposed_at, "currency": sanction.amount.currency if sanction.amount else None,
        "amount_fen": sanction.amount.fen if sanction.amount else None, "ends_at": sanction.ends_at,
        "state": sanction.state.value, "ended_at": sanction.ended_at, "version": version,
    }


class SqlSanctionRepository(SanctionRepository):
    """The ``sanctions`` and ``sanction_appeals`` tables; see the module docstring."""

    def __init__(self, connection: Connection, codec: FieldCodec) -> None:
        self._conn = connection
        self._codec = codec

    def _to_sanction(self, row: Row[Any]) -> Sanction:
        key = (row.id,)
        appeal = None
        if row.appeal_state is not None:
            appeal = Appeal(self._codec.open(APPEAL_TEXT, key, row.text_enc), row.filed_at,
                            AppealState(row.appeal_state),
                            AccountId(row.decided_by) if row.decided_by is not None else None, row.decided_at,
                            self._codec.open(APPEAL_DECISION, key, row.decision_enc))
        return Sanction(
            id=SanctionId(row.id), therapist_id=AccountId(row.therapist_id), kind=SanctionKind(row.kind),
            reason=self._codec.open(SANCTION_REASON, key, row.reason_enc),
            imposed_by=AccountId(row.imposed_by) if row.imposed_by is not None else None,
            imposed_at=row.imposed_at,
            amount=Money(row.amount_fen, row.currency) if row.amount_fen is not None else None,
            ends_at=row.ends_at, state=SanctionState(row.state), ended_at=row.ended_at, appeal=appeal,
            version=row.version,
        )

    def _many(self, query: Select[Any]) -> list[Sanction]:
        return [self._to_sanction(row) for row in self._conn.execute(query)]

    def add(self, sanction: Sanction) -> Sanction:
        with guarded(self._conn, duplicate=DUPLICATE):
            if self._conn.execute(_EXISTS, {"p_id": sanction.id}).first() is not None:
                raise Conflict(f"sanction {sanction.id} already exists", code=DUPLICATE)
            reason = self._codec.seal(SANCTION_REASON, (sanction.id,), sanction.reason)
            self._conn.execute(insert(_s).values(id=sanction.id, reason_enc=reason, **_values(sanction, 1)))
        return attrs.evolve(sanction, appeal=None, version=1)

    def get(self, ident: SanctionId) -> Sanction:
        row = self._conn.execute(_BY_ID, {"p_id": ident}).first()
        if row is None:
            raise NotFound("sanction", ident)
        return self._to_sanction(row)

    def save(self, sanction: Sanction) -> Sanction:
        new_version = sanction.version + 1
        key = (sanction.id,)
        with guarded(self._conn, duplicate=APPEALED):
            result = self._conn.execute(
                update(_s).where(_s.c.id == sanction.id, _s.c.version == sanction.version)
                .values(_values(sanction, new_version)))
            if result.rowcount == 0:
                if self._conn.execute(_EXISTS, {"p_id": sanction.id}).first() is None:
                    raise NotFound("sanction", sanction.id)
                raise Conflict("the sanction was changed by somebody else; reload it", code="conflict.stale")
            appeal = sanction.appeal
            if appeal is not None:
                stored = self._conn.execute(select(_a.c.state).where(_a.c.sanction_id == sanction.id)).first()
                decision = self._codec.seal(APPEAL_DECISION, key, appeal.decision_reason)
                if stored is None:
                    self._conn.execute(insert(_a).values(
                        sanction_id=sanction.id, text_enc=self._codec.seal(APPEAL_TEXT, key, appeal.text),
                        filed_at=appeal.filed_at, state=appeal.state.value, decided_by=appeal.decided_by,
                        decided_at=appeal.decided_at, decision_enc=decision))
                elif stored.state != appeal.state.value:
                    done = self._conn.execute(
                        update(_a).where(_a.c.sanction_id == sanction.id, _a.c.state == AppealState.PENDING.value)
                        .values(state=appeal.state.value, decided_by=appeal.decided_by,
                                decided_at=appeal.decided_at, decision_enc=decision))
                    if done.rowcount == 0:
                        raise Conflict("the appeal was decided by somebody else", code="conflict.stale")
        return attrs.evolve(sanction, version=new_version)

    def for_therapist(self, therapist_id: AccountId, *, offset: int = 0, limit: int = PAGE) -> Sequence[Sanction]:
        return self._many(_WITH_APPEAL.where(_s.c.therapist_id == therapist_id)
                          .order_by(_s.c.imposed_at.desc(), _s.c.id.desc())
                          .offset(max(offset, 0)).limit(max(limit, 0)))

    def list(self, *, appeal: AppealState | None = None, offset: int = 0, limit: int = PAGE) -> Sequence[Sanction]:
        if appeal is None:
            query = _WITH_APPEAL.order_by(_s.c.imposed_at.desc(), _s.c.id.desc())
        elif appeal is AppealState.PENDING:
            query = _WITH_APPEAL.where(_a.c.state == appeal.value).order_by(_a.c.filed_at, _s.c.id)
        else:
            query = _WITH_APPEAL.where(_a.c.state == appeal.value).order_by(_s.c.imposed_at.desc(), _s.c.id.desc())
        return self._many(query.offset(max(offset, 0)).limit(max(limit, 0)))

    def due_to_end(self, now: Instant, *, limit: int = PAGE) -> Sequence[Sanction]:
        return self._many(_WITH_APPEAL.where(_s.c.state == SanctionState.IN_FORCE.value, _s.c.ends_at.is_not(None),
                                             _s.c.ends_at <= now)
                          .order_by(_s.c.ends_at, _s.c.id).limit(max(limit, 0)))

    def standing_counts(self, therapist_ids: Collection[AccountId], since: Instant) -> Mapping[AccountId, int]:
        wanted = sorted(set(therapist_ids))
        if not wanted:
            return {}
        found: dict[str, int] = {who: n for who, n in self._conn.execute(
            select(_s.c.therapist_id, func.count()).where(
                _s.c.therapist_id.in_(wanted), _s.c.imposed_at >= since,
                _s.c.state != SanctionState.REVERSED.value).group_by(_s.c.therapist_id))}
        return {AccountId(t): found.get(t, 0) for t in wanted}
