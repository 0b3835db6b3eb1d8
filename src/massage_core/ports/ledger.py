"""The ledger repository (``uow.ledger``): journal entries, their lines, and the maintained balances.

``post`` stores one balanced ``JournalEntry`` and, in the same transaction, adds its effect to the stored
balance of every account it touches, so ``balance`` is one keyed read (O(1)) however long the ledger grows.
Posting is idempotent by the entry's business key: the same key with the same lines
(``JournalEntry.same_posting``) is "already posted" and changes nothing; the same key with other lines is a
``Conflict`` (``ledger.key_reused``).  Concurrent postings never lose an update: the adapters add deltas
atomically (memory: the store's lock; SQLite: the ``BEGIN IMMEDIATE`` writer lock; PostgreSQL:
``INSERT ... ON CONFLICT DO UPDATE SET balance_fen = balance_fen + delta``), and a key posted concurrently
from several units of work is applied exactly once (the unique key decides; the losers see the winner's
entry and answer "already posted", or ``ledger.key_reused`` when their lines differ).

Balances are in fen in the account's *normal* sense (``JournalLine.signed``): an asset or an expense grows
with debits, a liability or revenue with credits.  The ledger keeps one currency (CNY): a balance is
``Money(fen)``.  Entries are immutable; the SQL storage refuses updates and deletes of entries and lines,
lines added to an entry already stored, and an unbalanced entry, even from raw SQL (decision 0029).

The ``compared_balances`` / ``unbalanced_entries`` / ``posted_keys`` reads exist
for ``LedgerService.verify``: the storage aggregates the lines as it scans them and hands back one row per
account (or per broken entry), so verifying a million entries never holds the entries in memory.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Iterator, Sequence

from attrs import frozen

from massage_core.domain.ledger import Book, JournalEntry, LedgerAccount
from massage_core.domain.money import Money
from massage_core.domain.time import Instant

PAGE = 50
"""The default page size of ``entries``."""

KEY_REUSED = "ledger.key_reused"
"""The Conflict code of a business key posted again with different lines."""


@frozen
class PostResult:
    """What ``post`` did: ``posted`` is False when the same posting was already stored (nothing changed);
    ``entry`` is the stored entry (for a replay: the one stored first, with its own ``at`` and memo)."""

    entry: JournalEntry
    posted: bool

    @property
    def already_posted(self) -> bool:
        return not self.posted


@frozen
class AccountBalance:
    """One account's stored balance in fen (normal sense) and when a posting last changed it."""

    account: LedgerAccount
    balance: Money
    updated_at: Instant | None


class LedgerRepository(abc.ABC):
    """Journal entries and maintained balances; see the module docstring."""

    @abc.abstractmethod
    def post(self, entry: JournalEntry) -> PostResult:
        """Store ``entry`` and add its effects to the stored balances, atomically; return what was done.

        Idempotent by ``entry.key``: when an entry with that key is stored and ``same_posting`` holds,
        return ``PostResult(stored, posted=False)`` and change nothing.  Raises ``Conflict``
        (``ledger.key_reused``) when the key is stored with different lines, and on SQL ``Conflict``
        (``conflict.busy``) when the database gives up waiting for a lock.  A refused post changes nothing
        and leaves the unit of work usable.
        """

    @abc.abstractmethod
    def balance(self, account: LedgerAccount) -> Money:
        """The account's stored balance (normal sense); ``Money(0)`` for an account nothing was posted to.
        One keyed read.  Never raises for an unknown account."""

    @abc.abstractmethod
    def balances(self, book: Book) -> Sequence[AccountBalance]:
        """The stored balances of every account of ``book`` that was ever posted to, by account code.
        For a per-owner book, one per owner; for a platform book, at most one."""

    @abc.abstractmethod
    def entries(self, account: LedgerAccount, *, since: Instant | None = None, until: Instant | None = None,
                offset: int = 0, limit: int = PAGE) -> Sequence[JournalEntry]:
        """The entries with a line on ``account``, newest first (``at`` then storage order, both descending),
        those with ``since <= at < until`` when given, a page at a time."""

    @abc.abstractmethod
    def entry(self, key: str) -> JournalEntry | None:
        """The entry stored under business key ``key``, or None."""

    @abc.abstractmethod
    def posted_keys(self, keys: Collection[str]) -> set[str]:
        """Which of ``keys`` have an entry stored (any number of keys; the adapters batch them)."""

    @abc.abstractmethod
    def compared_balances(self) -> Iterator[tuple[str, int, int | None]]:
        """Every account that has lines or a stored balance, streamed as ``(account code, recomputed fen,
        stored fen or None)`` in no particular order: the balance recomputed from the lines (normal sense;
        0 without lines) beside the maintained one (None when there is no balance row).  On SQL it is one
        statement, so both sides come from one snapshot even while others post."""

    @abc.abstractmethod
    def unbalanced_entries(self) -> Iterator[str]:
        """Keys of stored entries whose lines do not balance (debits != credits) or number fewer than two.
        Empty unless the storage was tampered with below the repository."""

    @abc.abstractmethod
    def entry_count(self) -> int:
        """How many entries are stored."""
