"""Key rotation for the memory store: nothing is encrypted at rest in memory."""

from __future__ import annotations

from massage_core.ports.key_rotation import FieldReencryptor


class MemoryFieldReencryptor(FieldReencryptor):
    """The memory store keeps no ciphertext (nothing is at rest), so nothing is ever pending."""

    def pending(self) -> int:
        """Always 0: no field of the memory store is encrypted."""
        return 0

    def reencrypt_batch(self, limit: int) -> int:
        """Nothing to do; returns 0."""
        return 0
