"""The repository of therapist profiles (keyed by the therapist's account id)."""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Collection, Mapping, Sequence

from massage_core.domain.ids import AccountId, ServiceId
from massage_core.domain.therapists import TherapistProfile
from massage_core.domain.vetting import VettingState


class TherapistRepository(abc.ABC):
    """Therapist profiles with their certificates, services and vetting history."""

    @abc.abstractmethod
    def add(self, profile: TherapistProfile) -> TherapistProfile:
        """Store a new profile; return it with version 1.

        Raises ``Conflict`` (``therapist.duplicate``) when the account already has a
        profile or the resident ID number belongs to another profile, ``Conflict``
        (``conflict.reference``) when the account, a service or the level does not exist.
        """

    @abc.abstractmethod
    def get(self, therapist_id: AccountId) -> TherapistProfile:
        """Return the profile; raise ``NotFound`` when there is none."""

    @abc.abstractmethod
    def find(self, therapist_id: AccountId) -> TherapistProfile | None:
        """Return the profile, or None."""

    @abc.abstractmethod
    def zones_of(self, therapist_ids: Collection[AccountId]) -> Mapping[AccountId, str]:
        """Return the profile time zone of each of ``therapist_ids`` that has a profile (others are left out).

        A bounded number of statements whatever the number of ids; nothing else of the profile is read or
        decrypted (the outbox writer's zone of a page of recipients).
        """

    @abc.abstractmethod
    def save(self, profile: TherapistProfile) -> TherapistProfile:
        """Store changes (history is append-only); return the profile with version + 1.

        Raises ``Conflict`` (``conflict.stale``; ``therapist.duplicate`` for an ID
        number of another profile; ``conflict.reference``), ``NotFound``.
        """

    @abc.abstractmethod
    def list(self, *, offset: int = 0, limit: int = 50,
             state: VettingState | None = None) -> Sequence[TherapistProfile]:
        """Return profiles ordered by creation time then id, optionally in one vetting state."""

    @abc.abstractmethod
    def list_public(self, *, offset: int = 0, limit: int = 50, service_id: ServiceId | None = None,
                    level: str | None = None) -> Sequence[TherapistProfile]:
        """Return the profiles customers may see, ordered by creation time then id.

        Public means: approved, active, not suspended, and the account itself is
        active.  Optionally only those offering ``service_id`` or of ``level``.
        """

    @abc.abstractmethod
    def with_certificates_expiring_before(self, day: dt.date) -> Sequence[TherapistProfile]:
        """Approved profiles holding a certificate whose last valid day is before ``day``, by id."""
