"""Password hashing and the common-password list."""

from __future__ import annotations

import abc


class PasswordHasher(abc.ABC):
    """Slow, salted password hashing (Argon2id in production)."""

    @abc.abstractmethod
    def hash(self, password: str) -> str:
        """Return a self-describing encoded hash (salt and parameters included)."""

    @abc.abstractmethod
    def verify(self, encoded: str, password: str) -> bool:
        """Return True when ``password`` matches ``encoded``; False otherwise, including a malformed hash."""

    @abc.abstractmethod
    def dummy_verify(self, password: str) -> None:
        """Spend the same work as ``verify`` against no account (enumeration resistance)."""

    @abc.abstractmethod
    def needs_rehash(self, encoded: str) -> bool:
        """True when ``encoded`` was made with weaker parameters than the current ones."""


class CommonPasswords(abc.ABC):
    """A maintained list of passwords too common to allow."""

    @abc.abstractmethod
    def is_common(self, password: str) -> bool:
        """True when ``password`` (compared case-insensitively) is on the list."""
