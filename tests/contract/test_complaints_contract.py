"""Run the ComplaintsRepository and FeedbackRepository contracts against every backend (memory, SQLite,
PostgreSQL)."""

from __future__ import annotations

from .complaints import ComplaintsRepositoryContract


class TestComplaintsRepository(ComplaintsRepositoryContract):
    """ComplaintsRepository and FeedbackRepository on every backend."""
