"""Re-encrypting personal data after a key rotation."""

from __future__ import annotations

from collections.abc import Callable

from massage_core.domain.access import Actor, Permission
from massage_core.domain.errors import ValidationError
from massage_core.services.base import Service


class KeysService(Service):
    """For superadmins: move every encrypted field under the primary key, resumably."""

    def pending(self, actor: Actor) -> int:
        """How many encrypted fields are not yet under the primary key."""
        self._require(actor, Permission.KEYS_MANAGE, "keys.pending", "field_cipher")
        return self._deps.reencryptor.pending()

    def reencrypt(self, actor: Actor, *, batch_size: int = 500,
                  progress: Callable[[int], None] | None = None) -> int:
        """Re-encrypt in batches until nothing is pending; return how many fields moved.

        Each batch commits on its own, so an interrupted run resumes where it
        stopped; reads keep working throughout (old keys stay in the ring).
        ``progress`` is called with each batch's count.  Audited at the end.
        """
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or not 1 <= batch_size <= 10_000:
            raise ValidationError("batch size must be 1..10000", code="keys.batch_size", field="batch_size")
        self._require(actor, Permission.KEYS_MANAGE, "keys.reencrypt", "field_cipher")
        total = 0
        while moved := self._deps.reencryptor.reencrypt_batch(batch_size):
            total += moved
            if progress is not None:
                progress(moved)
        with self._uow() as uow:
            self._audit_ok(uow, actor, "keys.reencrypt", self._deps.cipher.primary_key_id, self._now(),
                           fields=str(total))
            uow.commit()
        return total
