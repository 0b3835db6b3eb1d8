"""In-memory customer profiles, with the reference and version rules of the SQL adapter."""

from __future__ import annotations

import attrs

from massage_core.adapters.memory.store import Tables
from massage_core.domain.customers import CustomerProfile
from massage_core.domain.errors import Conflict
from massage_core.domain.ids import AccountId
from massage_core.ports.customers import CustomerProfileRepository


class MemoryCustomerProfileRepository(CustomerProfileRepository):
    """Profiles in a dict keyed by account id."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def find(self, customer_id: AccountId) -> CustomerProfile | None:
        """The profile or None."""
        return self._t.customer_profiles.get(customer_id)

    def save(self, profile: CustomerProfile) -> CustomerProfile:
        """Compare-and-set on the version (0 creates); the account must exist."""
        current = self._t.customer_profiles.get(profile.customer_id)
        if (current.version if current is not None else 0) != profile.version:
            raise Conflict(f"the profile of {profile.customer_id} was changed by somebody else",
                           code="conflict.stale")
        if profile.customer_id not in self._t.accounts:
            raise Conflict(f"account {profile.customer_id} does not exist", code="conflict.reference")
        stored = attrs.evolve(profile, version=profile.version + 1)
        self._t.customer_profiles[profile.customer_id] = stored
        return stored
