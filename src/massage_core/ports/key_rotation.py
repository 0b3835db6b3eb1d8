"""Re-encrypting stored fields after a key rotation."""

from __future__ import annotations

import abc


class FieldReencryptor(abc.ABC):
    """Finds fields encrypted under a non-primary key and re-encrypts them."""

    @abc.abstractmethod
    def pending(self) -> int:
        """Return how many stored fields are not yet under the primary key."""

    @abc.abstractmethod
    def reencrypt_batch(self, limit: int) -> int:
        """Re-encrypt up to ``limit`` fields under the primary key, each batch in its own transaction.

        Returns how many were re-encrypted (0 when done).  Safe to interrupt
        and run again: finished rows are skipped.  Raises ``IntegrityError``
        when a field cannot be decrypted with any key of the ring.
        """
