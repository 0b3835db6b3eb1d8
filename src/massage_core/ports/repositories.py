"""Repositories: collections of aggregates, used inside a unit of work.

Every method reads or writes through the unit of work's transaction; nothing
is durable until ``UnitOfWork.commit``.  Adapters translate storage errors
into the domain errors named here.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Sequence

from massage_core.domain.accounts import Account, AccountStatus, Provider
from massage_core.domain.audit import AuditEntry, AuditRecord
from massage_core.domain.authentication import CodePurpose, LoginRecord, OneTimeCode, Session
from massage_core.domain.contact import Email, PhoneNumber
from massage_core.domain.ids import AccountId
from massage_core.domain.time import Instant


class AccountRepository(abc.ABC):
    """Accounts, looked up by id or by any login identifier."""

    @abc.abstractmethod
    def add(self, account: Account) -> Account:
        """Store a new account; return it with its stored version (1).

        Raises ``Conflict`` (code ``account.duplicate``) when its id, phone,
        email or a third-party identity already belongs to an account.
        """

    @abc.abstractmethod
    def get(self, account_id: AccountId) -> Account:
        """Return the account; raise ``NotFound`` when there is none."""

    def status_of(self, account_id: AccountId) -> AccountStatus:
        """Return the account's status (``get(account_id).status``, which adapters may read more cheaply:
        no identities, nothing decrypted); raise ``NotFound`` when there is none."""
        return self.get(account_id).status

    @abc.abstractmethod
    def active_among(self, account_ids: Collection[AccountId]) -> frozenset[AccountId]:
        """Return those of ``account_ids`` whose account exists and is active (unknown ids are left out).

        Reads the status alone, in a bounded number of statements whatever the number of ids (the outbox
        writer asks this for a whole page of recipients): no identities read, nothing decrypted.
        """

    @abc.abstractmethod
    def find_by_phone(self, phone: PhoneNumber) -> Account | None:
        """Return the account with this phone number, or None."""

    @abc.abstractmethod
    def find_by_email(self, email: Email) -> Account | None:
        """Return the account with this email address, or None."""

    @abc.abstractmethod
    def find_by_identity(self, provider: Provider, subject: str) -> Account | None:
        """Return the account linked to this third-party identity, or None."""

    @abc.abstractmethod
    def save(self, account: Account) -> Account:
        """Store changes to an existing account; return it with version + 1.

        Raises ``Conflict`` (code ``conflict.stale``) when the stored version is
        not ``account.version`` (somebody else changed it first), ``Conflict``
        (``account.duplicate``) for an identifier taken by another account,
        and ``NotFound`` when the account does not exist.
        """

    @abc.abstractmethod
    def list(self, *, offset: int = 0, limit: int = 50, status: AccountStatus | None = None) -> Sequence[Account]:
        """Return accounts ordered by creation time then id, optionally by status."""

    @abc.abstractmethod
    def count(self) -> int:
        """Return how many accounts exist."""


class SessionRepository(abc.ABC):
    """Login sessions, found by the hash of their token."""

    @abc.abstractmethod
    def add(self, session: Session) -> None:
        """Store a new session. Raises ``Conflict`` for a duplicate id or token hash."""

    @abc.abstractmethod
    def find_by_token_hash(self, token_hash: str) -> Session | None:
        """Return the session whose token hashes to ``token_hash``, or None."""

    @abc.abstractmethod
    def save(self, session: Session) -> None:
        """Store changes (revocation). Raises ``NotFound`` when absent."""

    @abc.abstractmethod
    def revoke_all(self, account_id: AccountId, now: Instant) -> int:
        """Revoke every live session of the account; return how many were revoked."""

    @abc.abstractmethod
    def list_for_account(self, account_id: AccountId) -> Sequence[Session]:
        """Return the account's sessions, newest first."""


class LoginRecordRepository(abc.ABC):
    """The record of every login attempt."""

    @abc.abstractmethod
    def add(self, record: LoginRecord) -> None:
        """Append a record."""

    @abc.abstractmethod
    def failures_since(self, subject_key: str, account_id: AccountId | None, since: Instant) -> Sequence[Instant]:
        """Times of FAILED attempts since ``since`` for this identifier or (when given) this account."""

    @abc.abstractmethod
    def list_for_account(self, account_id: AccountId, *, limit: int = 100) -> Sequence[LoginRecord]:
        """Return the account's records, newest first."""


class OneTimeCodeRepository(abc.ABC):
    """SMS one-time codes (hashed)."""

    @abc.abstractmethod
    def add(self, code: OneTimeCode) -> None:
        """Store a newly sent code."""

    @abc.abstractmethod
    def latest(self, subject_key: str, purpose: CodePurpose) -> OneTimeCode | None:
        """Return the most recently created code for this phone and purpose, or None."""

    @abc.abstractmethod
    def sent_since(self, subject_key: str, since: Instant) -> Sequence[Instant]:
        """Creation times of codes sent to this phone since ``since`` (any purpose)."""

    @abc.abstractmethod
    def save(self, code: OneTimeCode) -> None:
        """Store a code's attempts and consumption. Raises ``NotFound`` when absent."""


class AuditTrail(abc.ABC):
    """The append-only, hash-chained operation log."""

    @abc.abstractmethod
    def append(self, record: AuditRecord, at: Instant) -> AuditEntry:
        """Chain ``record`` after the newest entry and store it; return the entry.

        Concurrent appenders are serialised so the chain never forks.
        """

    @abc.abstractmethod
    def entries(self, *, after_sequence: int = 0, limit: int | None = None) -> Sequence[AuditEntry]:
        """Return entries in stored order (by sequence) after ``after_sequence``."""

    @abc.abstractmethod
    def head(self) -> tuple[int, str]:
        """Return (sequence, hash) of the newest entry as separately recorded; (0, "") when empty."""
