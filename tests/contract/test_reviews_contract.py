"""Run the ReviewRepository contract against every backend (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

from .reviews import ReviewRepositoryContract


class TestReviewRepository(ReviewRepositoryContract):
    """ReviewRepository on every backend."""
