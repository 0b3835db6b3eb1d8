"""Id generators: random time-ordered ids, and a sequential one for tests."""

from __future__ import annotations

import os
import time

from massage_core.domain.ids import PREFIXES
from massage_core.ports.ids import IdGenerator

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _base32(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


class UlidGenerator(IdGenerator):
    """ULID bodies: 48-bit millisecond time then 80 random bits; sortable by creation time."""

    def new_id(self, kind: str) -> str:
        """Return ``<prefix>_<ULID>``."""
        prefix = PREFIXES[kind]
        value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
        return f"{prefix}_{_base32(value, 26)}"


class SequentialIdGenerator(IdGenerator):
    """Predictable ids ``acc_00000000000000000000000001``... for readable tests."""

    def __init__(self) -> None:
        self._next = 0

    def new_id(self, kind: str) -> str:
        """Return the next id of ``kind``."""
        prefix = PREFIXES[kind]
        self._next += 1
        return f"{prefix}_{_base32(self._next, 26)}"
