"""Therapist media: the blob store for their bytes and the repository of their records."""

from __future__ import annotations

import abc
from collections.abc import Sequence

from massage_core.domain.ids import AccountId, MediumId
from massage_core.domain.media import MediaKind, MediaStatus, Medium


class MediaStore(abc.ABC):
    """Where the bytes of photos and videos are kept, by medium id (outside the database transaction)."""

    @abc.abstractmethod
    def put(self, key: MediumId, data: bytes) -> None:
        """Store ``data`` under ``key`` atomically (readers see all of it or nothing); overwrites."""

    @abc.abstractmethod
    def get(self, key: MediumId) -> bytes:
        """Return the bytes stored under ``key``; raise ``NotFound`` when there are none."""

    @abc.abstractmethod
    def delete(self, key: MediumId) -> None:
        """Remove ``key``; nothing happens when it is absent."""


class MediaRepository(abc.ABC):
    """Records of uploaded media."""

    @abc.abstractmethod
    def add(self, medium: Medium) -> Medium:
        """Store a new record; return it with version 1.

        Raises ``Conflict`` (``conflict.reference``) when the therapist profile does not exist.
        """

    @abc.abstractmethod
    def get(self, medium_id: MediumId) -> Medium:
        """Return the record; raise ``NotFound`` when there is none."""

    @abc.abstractmethod
    def save(self, medium: Medium) -> Medium:
        """Store a reviewed record; return it with version + 1. ``Conflict`` (``conflict.stale``), ``NotFound``."""

    @abc.abstractmethod
    def list_for_therapist(self, therapist_id: AccountId, *,
                           status: MediaStatus | None = None) -> Sequence[Medium]:
        """The therapist's media, oldest first, optionally in one status."""

    @abc.abstractmethod
    def list_pending(self, *, offset: int = 0, limit: int = 50) -> Sequence[Medium]:
        """Media waiting for review, oldest first."""

    @abc.abstractmethod
    def count_live(self, therapist_id: AccountId, kind: MediaKind) -> int:
        """How many pending or approved media of ``kind`` the therapist has."""
