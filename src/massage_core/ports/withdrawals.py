"""The withdrawal repository (``uow.withdrawals``): therapists' withdrawal requests and what became of them.

A withdrawal is stored whole with an optimistic ``version``.  ``lock_therapist`` serialises the withdrawal
requests of one therapist for the rest of the unit of work, so that the balance read after it is still the
balance when the hold is posted (decision 0033): memory -- the store's lock already serialises every unit;
SQLite -- the ``BEGIN IMMEDIATE`` writer lock does; PostgreSQL -- a transaction-scoped advisory lock keyed
by the therapist, released at commit or rollback.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from massage_core.domain.ids import AccountId
from massage_core.domain.withdrawals import Withdrawal, WithdrawalId, WithdrawalState

PAGE = 50
"""The default page size of the lists."""


class WithdrawalRepository(abc.ABC):
    """Withdrawals by id, by therapist and by state; see the module docstring."""

    @abc.abstractmethod
    def lock_therapist(self, therapist_id: AccountId) -> None:
        """Hold the therapist's withdrawal lock until the unit of work ends (see the module docstring)."""

    @abc.abstractmethod
    def add(self, withdrawal: Withdrawal) -> Withdrawal:
        """Store a new withdrawal; return it with version 1.  Conflict ``withdrawal.duplicate`` for a taken
        id; on SQL ``conflict.reference`` for an unknown therapist account."""

    @abc.abstractmethod
    def get(self, ident: WithdrawalId) -> Withdrawal:
        """The withdrawal, or NotFound."""

    @abc.abstractmethod
    def save(self, withdrawal: Withdrawal) -> Withdrawal:
        """Store the changes of a loaded withdrawal; return it with version + 1.  Conflict
        ``conflict.stale`` when the stored version differs, NotFound when there is none."""

    @abc.abstractmethod
    def for_therapist(self, therapist_id: AccountId, *, offset: int = 0, limit: int = PAGE) -> Sequence[Withdrawal]:
        """The therapist's withdrawals, newest request first."""

    @abc.abstractmethod
    def list(self, state: WithdrawalState | None = None, *, offset: int = 0,
             limit: int = PAGE) -> Sequence[Withdrawal]:
        """Withdrawals (in ``state`` when given), oldest request first (the finance queue)."""
