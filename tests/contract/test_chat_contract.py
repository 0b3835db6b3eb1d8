"""Run the ChatRepository contract against every backend (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

from .chat import ChatRepositoryContract


class TestChatRepository(ChatRepositoryContract):
    """ChatRepository on every backend."""
