"""In-memory therapist profiles, with the uniqueness and reference rules of the SQL schema."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence

import attrs

from massage_core.adapters.memory.locator import touched
from massage_core.adapters.memory.store import Tables
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import AccountId, ServiceId
from massage_core.domain.therapists import TherapistProfile
from massage_core.domain.vetting import VettingState
from massage_core.ports.therapists import TherapistRepository


class MemoryTherapistRepository(TherapistRepository):
    """Profiles in a dict keyed by account id."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def _check(self, profile: TherapistProfile) -> None:
        if profile.id not in self._t.accounts:
            raise Conflict(f"account {profile.id} does not exist", code="conflict.reference")
        for service in profile.services:
            if service not in self._t.catalog_services:
                raise Conflict(f"service {service} does not exist", code="conflict.reference")
        if profile.level is not None and profile.level not in self._t.levels:
            raise Conflict(f"level {profile.level} does not exist", code="conflict.reference")
        for other in self._t.therapists.values():
            if other.id != profile.id and other.id_number == profile.id_number:
                raise Conflict("this ID number belongs to another therapist", code="therapist.duplicate")

    def add(self, profile: TherapistProfile) -> TherapistProfile:
        """Store a new profile with version 1."""
        if profile.id in self._t.therapists:
            raise Conflict(f"account {profile.id} has a therapist profile already", code="therapist.duplicate")
        self._check(profile)
        stored = attrs.evolve(profile.clear_events(), version=1)
        self._t.therapists[profile.id] = stored
        touched(self._t, profile.id)
        return stored

    def get(self, therapist_id: AccountId) -> TherapistProfile:
        """The profile or NotFound."""
        found = self.find(therapist_id)
        if found is None:
            raise NotFound("therapist", therapist_id)
        return found

    def find(self, therapist_id: AccountId) -> TherapistProfile | None:
        """The profile or None."""
        return self._t.therapists.get(therapist_id)

    def zones_of(self, therapist_ids: Collection[AccountId]) -> Mapping[AccountId, str]:
        """The zone of each id with a profile."""
        found = (self._t.therapists.get(i) for i in set(therapist_ids))
        return {p.id: p.time_zone for p in found if p is not None}

    def save(self, profile: TherapistProfile) -> TherapistProfile:
        """Compare-and-set on the version."""
        current = self.get(profile.id)
        if current.version != profile.version:
            raise Conflict(f"therapist {profile.id} was changed by somebody else", code="conflict.stale")
        self._check(profile)
        stored = attrs.evolve(profile.clear_events(), version=profile.version + 1)
        self._t.therapists[profile.id] = stored
        touched(self._t, profile.id)
        return stored

    def _ordered(self) -> list[TherapistProfile]:
        return sorted(self._t.therapists.values(), key=lambda p: (p.created_at, p.id))

    def list(self, *, offset: int = 0, limit: int = 50,
             state: VettingState | None = None) -> Sequence[TherapistProfile]:
        """By creation time, then id."""
        rows = [p for p in self._ordered() if state is None or p.state is state]
        return rows[max(offset, 0) : max(offset, 0) + max(limit, 0)]

    def list_public(self, *, offset: int = 0, limit: int = 50, service_id: ServiceId | None = None,
                    level: str | None = None) -> Sequence[TherapistProfile]:
        """Public profiles whose account is active, by creation time, then id."""
        rows = [
            p for p in self._ordered()
            if p.is_public and self._t.accounts[p.id].is_active
            and (service_id is None or service_id in p.services) and (level is None or p.level == level)
        ]
        return rows[max(offset, 0) : max(offset, 0) + max(limit, 0)]

    def with_certificates_expiring_before(self, day: dt.date) -> Sequence[TherapistProfile]:
        """Approved profiles with a certificate whose last day is before ``day``."""
        return sorted(
            (p for p in self._t.therapists.values()
             if p.state is VettingState.APPROVED and any(c.expires_on < day for c in p.certificates)),
            key=lambda p: p.id,
        )
