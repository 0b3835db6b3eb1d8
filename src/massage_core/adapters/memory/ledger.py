"""In-memory ledger with the contract of the SQL one: idempotent keys, key reuse refused, balances kept.

Entries live in a dict keyed by business key (insertion order = storage order); balances in a dict keyed by
account code.  Both are plain dicts of immutable values, so the unit of work's snapshot copies them cheaply
and a rollback forgets a posting together with its balance changes.  The store's lock serialises units of
work, so two postings never interleave.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence

from massage_core.adapters.memory.store import Tables
from massage_core.domain.errors import Conflict
from massage_core.domain.ledger import Book, JournalEntry, LedgerAccount
from massage_core.domain.money import Money
from massage_core.domain.time import Instant
from massage_core.ports.ledger import KEY_REUSED, PAGE, AccountBalance, LedgerRepository, PostResult


def key_reused(key: str) -> Conflict:
    """The error of a business key posted again with other lines."""
    return Conflict(f"ledger key {key} was posted with different lines", code=KEY_REUSED)


class MemoryLedgerRepository(LedgerRepository):
    """``tables.ledger_entries`` (key -> entry) and ``tables.ledger_balances`` (code -> (fen, at))."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def post(self, entry: JournalEntry) -> PostResult:
        """Store the entry and add its effects, unless the key is taken (see the port)."""
        stored = self._t.ledger_entries.get(entry.key)
        if stored is not None:
            if not stored.same_posting(entry):
                raise key_reused(entry.key)
            return PostResult(stored, posted=False)
        self._t.ledger_entries[entry.key] = entry
        for account, delta in entry.effects().items():
            fen, _ = self._t.ledger_balances.get(account.code, (0, None))
            self._t.ledger_balances[account.code] = (fen + delta, entry.at)
        return PostResult(entry, posted=True)

    def balance(self, account: LedgerAccount) -> Money:
        """The stored balance, zero when never posted to."""
        return Money(self._t.ledger_balances.get(account.code, (0, None))[0])

    def balances(self, book: Book) -> Sequence[AccountBalance]:
        """Every stored balance of the book, by code."""
        prefix = f"{book.value}:"
        return [AccountBalance(LedgerAccount.parse(code), Money(fen), at)
                for code, (fen, at) in sorted(self._t.ledger_balances.items())
                if code == book.value or code.startswith(prefix)]

    def entries(self, account: LedgerAccount, *, since: Instant | None = None, until: Instant | None = None,
                offset: int = 0, limit: int = PAGE) -> Sequence[JournalEntry]:
        """Entries touching the account, newest first."""
        found = [(e.at, n, e) for n, e in enumerate(self._t.ledger_entries.values())
                 if any(line.account == account for line in e.lines)
                 and (since is None or e.at >= since) and (until is None or e.at < until)]
        found.sort(key=lambda item: (item[0], item[1]), reverse=True)
        start = max(offset, 0)
        return [e for _, _, e in found[start:start + max(limit, 0)]]

    def entry(self, key: str) -> JournalEntry | None:
        """The entry under ``key``, or None."""
        return self._t.ledger_entries.get(key)

    def posted_keys(self, keys: Collection[str]) -> set[str]:
        """The keys that are stored."""
        return {key for key in keys if key in self._t.ledger_entries}

    def compared_balances(self) -> Iterator[tuple[str, int, int | None]]:
        """Sum every line again and set the sums beside the maintained balances."""
        totals: dict[str, int] = {}
        for entry in self._t.ledger_entries.values():
            for line in entry.lines:
                totals[line.account.code] = totals.get(line.account.code, 0) + line.signed
        stored = {code: fen for code, (fen, _) in self._t.ledger_balances.items()}
        for code in totals.keys() | stored.keys():
            yield code, totals.get(code, 0), stored.get(code)

    def unbalanced_entries(self) -> Iterator[str]:
        """Entries whose lines do not balance (impossible for a ``JournalEntry``; kept for the contract)."""
        for entry in self._t.ledger_entries.values():
            debits = sum(line.amount.fen for line in entry.lines if line.side.value == "debit")
            if len(entry.lines) < 2 or debits * 2 != sum(line.amount.fen for line in entry.lines):
                yield entry.key

    def entry_count(self) -> int:
        """How many entries are stored."""
        return len(self._t.ledger_entries)
