"""Run the CustomerProfileRepository contract against every backend (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

from .customers import CustomerProfileRepositoryContract


class TestCustomerProfileRepository(CustomerProfileRepositoryContract):
    """CustomerProfileRepository on every backend."""
