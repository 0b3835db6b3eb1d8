"""Records of therapist media in ``therapist_media`` (the bytes are in the MediaStore)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
from sqlalchemy import Row, func, insert, select, update
from sqlalchemy.engine import Connection

from massage_core.adapters.sql.repositories._guard import guarded
from massage_core.adapters.sql.tables_therapists import therapist_media
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import AccountId, MediumId
from massage_core.domain.media import MediaKind, MediaStatus, Medium
from massage_core.ports.media import MediaRepository

M = therapist_media


class SqlMediaRepository(MediaRepository):
    """Media records; optimistic locking on ``version``."""

    def __init__(self, connection: Connection) -> None:
        """Work inside ``connection``'s transaction."""
        self._conn = connection

    @staticmethod
    def _values(m: Medium) -> dict[str, Any]:
        return {"therapist_id": m.therapist_id, "kind": m.kind.value, "content_type": m.content_type,
                "size_bytes": m.size_bytes, "sha256": m.sha256, "created_at": m.created_at, "status": m.status.value,
                "reviewed_by": m.reviewed_by, "reviewed_at": m.reviewed_at, "rejection_reason": m.rejection_reason}

    @staticmethod
    def _to_medium(row: Row[Any]) -> Medium:
        return Medium(MediumId(row.id), AccountId(row.therapist_id), MediaKind(row.kind), row.content_type,
                      row.size_bytes, row.sha256, row.created_at, MediaStatus(row.status), row.reviewed_by,
                      row.reviewed_at, row.rejection_reason, row.version)

    def add(self, medium: Medium) -> Medium:
        """Insert with version 1."""
        with guarded(self._conn, duplicate="media.duplicate"):
            self._conn.execute(insert(M).values(id=medium.id, version=1, **self._values(medium)))
        return attrs.evolve(medium, version=1)

    def get(self, medium_id: MediumId) -> Medium:
        """The record or NotFound."""
        row = self._conn.execute(select(M).where(M.c.id == medium_id)).first()
        if row is None:
            raise NotFound("medium", medium_id)
        return self._to_medium(row)

    def save(self, medium: Medium) -> Medium:
        """Compare-and-set on the version."""
        result = self._conn.execute(update(M).where(M.c.id == medium.id, M.c.version == medium.version)
                                    .values(version=medium.version + 1, **self._values(medium)))
        if result.rowcount == 0:
            self.get(medium.id)
            raise Conflict(f"medium {medium.id} was changed by somebody else", code="conflict.stale")
        return attrs.evolve(medium, version=medium.version + 1)

    def list_for_therapist(self, therapist_id: AccountId, *,
                           status: MediaStatus | None = None) -> Sequence[Medium]:
        """Oldest first."""
        query = select(M).where(M.c.therapist_id == therapist_id).order_by(M.c.created_at, M.c.id)
        if status is not None:
            query = query.where(M.c.status == status.value)
        return [self._to_medium(row) for row in self._conn.execute(query)]

    def list_pending(self, *, offset: int = 0, limit: int = 50) -> Sequence[Medium]:
        """Oldest first."""
        query = (select(M).where(M.c.status == MediaStatus.PENDING.value).order_by(M.c.created_at, M.c.id)
                 .offset(max(offset, 0)).limit(max(limit, 0)))
        return [self._to_medium(row) for row in self._conn.execute(query)]

    def count_live(self, therapist_id: AccountId, kind: MediaKind) -> int:
        """Pending or approved media of ``kind``."""
        query = select(func.count()).select_from(M).where(
            M.c.therapist_id == therapist_id, M.c.kind == kind.value, M.c.status != MediaStatus.REJECTED.value)
        return int(self._conn.execute(query).scalar_one())
