"""Run the LedgerRepository contract against every backend (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

from .ledger import LedgerRepositoryContract


class TestLedgerRepository(LedgerRepositoryContract):
    """LedgerRepository on every backend, concurrency included."""
