"""The repository of customer profiles (feature C2), keyed by the customer's account id."""

from __future__ import annotations

import abc

from massage_core.domain.customers import CustomerProfile
from massage_core.domain.ids import AccountId


class CustomerProfileRepository(abc.ABC):
    """At most one profile per account; health data in it is encrypted at rest by SQL adapters."""

    @abc.abstractmethod
    def find(self, customer_id: AccountId) -> CustomerProfile | None:
        """Return the account's profile, or None when it has none (or the account does not exist)."""

    @abc.abstractmethod
    def save(self, profile: CustomerProfile) -> CustomerProfile:
        """Store the profile with compare-and-set on ``version``; return it with version + 1.

        Version 0 creates the profile; a higher version replaces the stored one
        of that very version.  Raises ``Conflict`` (``conflict.stale``) when the
        stored version differs (a profile created or changed meanwhile),
        ``Conflict`` (``conflict.reference``) when the account does not exist.
        """
