"""Run the InvoiceRepository contract against every backend (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

from .invoices import InvoiceRepositoryContract


class TestInvoiceRepository(InvoiceRepositoryContract):
    """InvoiceRepository on every backend, the concurrent-request race included."""
