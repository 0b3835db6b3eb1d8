"""In-memory media: the records repository and a blob store in a dict."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import attrs

from massage_core.adapters.memory.store import Tables
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import AccountId, MediumId
from massage_core.domain.media import MediaKind, MediaStatus, Medium
from massage_core.ports.media import MediaRepository, MediaStore


class MemoryMediaRepository(MediaRepository):
    """Media records in a dict; the therapist profile must exist."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def add(self, medium: Medium) -> Medium:
        """Store a new record with version 1."""
        if medium.id in self._t.media:
            raise Conflict(f"medium {medium.id} exists already", code="media.duplicate")
        if medium.therapist_id not in self._t.therapists:
            raise Conflict(f"therapist {medium.therapist_id} does not exist", code="conflict.reference")
        stored = attrs.evolve(medium, version=1)
        self._t.media[medium.id] = stored
        return stored

    def get(self, medium_id: MediumId) -> Medium:
        """The record or NotFound."""
        try:
            return self._t.media[medium_id]
        except KeyError:
            raise NotFound("medium", medium_id) from None

    def save(self, medium: Medium) -> Medium:
        """Compare-and-set on the version."""
        if self.get(medium.id).version != medium.version:
            raise Conflict(f"medium {medium.id} was changed by somebody else", code="conflict.stale")
        stored = attrs.evolve(medium, version=medium.version + 1)
        self._t.media[medium.id] = stored
        return stored

    def _ordered(self) -> list[Medium]:
        return sorted(self._t.media.values(), key=lambda m: (m.created_at, m.id))

    def list_for_therapist(self, therapist_id: AccountId, *,
                           status: MediaStatus | None = None) -> Sequence[Medium]:
        """Oldest first."""
        return [m for m in self._ordered() if m.therapist_id == therapist_id and status in (None, m.status)]

    def list_pending(self, *, offset: int = 0, limit: int = 50) -> Sequence[Medium]:
        """Oldest first."""
        rows = [m for m in self._ordered() if m.status is MediaStatus.PENDING]
        return rows[max(offset, 0) : max(offset, 0) + max(limit, 0)]

    def count_live(self, therapist_id: AccountId, kind: MediaKind) -> int:
        """Pending or approved media of ``kind``."""
        return sum(1 for m in self._t.media.values() if m.therapist_id == therapist_id and m.kind is kind
                   and m.status is not MediaStatus.REJECTED)


class MemoryMediaStore(MediaStore):
    """Bytes in a dict (for tests, demos and embedders' test suites)."""

    def __init__(self) -> None:
        """Start empty."""
        self.blobs: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def put(self, key: MediumId, data: bytes) -> None:
        """Keep a copy of ``data``."""
        with self._lock:
            self.blobs[key] = bytes(data)

    def get(self, key: MediumId) -> bytes:
        """The bytes, or NotFound."""
        with self._lock:
            if key not in self.blobs:
                raise NotFound("medium", key)
            return self.blobs[key]

    def delete(self, key: MediumId) -> None:
        """Forget ``key``."""
        with self._lock:
            self.blobs.pop(key, None)
