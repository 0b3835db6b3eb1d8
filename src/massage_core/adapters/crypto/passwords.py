"""Argon2id password hashing (cryptography's Argon2id, PHC-encoded strings).

Hashes look like ``$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>``, so the
salt and parameters travel with the hash and ``needs_rehash`` can tell when
a stored hash was made with weaker settings than the current ones.
"""

from __future__ import annotations

import base64
import binascii
import os
import re

from attrs import frozen
from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from massage_core.domain.errors import ValidationError
from massage_core.ports.passwords import PasswordHasher

# OWASP's minimum recommendation for Argon2id: 19 MiB, 2 iterations, 1 lane.
MIN_MEMORY_KIB = 19456
MIN_ITERATIONS = 2
MIN_LANES = 1
MIN_SALT_BYTES = 16
MIN_HASH_BYTES = 32

# Stored hashes above these bounds are refused rather than verified, so a
# planted hash cannot make one login consume gigabytes or minutes.
MAX_MEMORY_KIB = 4 * 1024 * 1024
MAX_ITERATIONS = 64
MAX_LANES = 64
MAX_ENCODED_CHARS = 512

ARGON2_VERSION = 19

_PHC = re.compile(
    r"^\$argon2id\$v=(?P<v>\d{1,3})\$m=(?P<m>\d{1,10}),t=(?P<t>\d{1,10}),p=(?P<p>\d{1,10})"
    r"\$(?P<salt>[A-Za-z0-9+/]{1,128})\$(?P<hash>[A-Za-z0-9+/]{1,256})$"
)


@frozen
class Argon2Parameters:
    """The cost parameters read from (or used to write) a PHC string."""

    memory_cost: int
    iterations: int
    lanes: int
    salt_length: int
    hash_length: int
    version: int = ARGON2_VERSION


def _b64_length(text: str) -> int:
    """Decoded length of unpadded standard base64; -1 when it is not valid base64."""
    try:
        return len(base64.b64decode(text + "=" * (-len(text) % 4), validate=True))
    except (binascii.Error, ValueError):
        return -1


def parse_phc(encoded: str) -> Argon2Parameters | None:
    """Return the parameters of an Argon2id PHC string, or None when it is not one."""
    if not isinstance(encoded, str) or len(encoded) > MAX_ENCODED_CHARS:
        return None
    match = _PHC.match(encoded)
    if match is None:
        return None
    salt_length = _b64_length(match["salt"])
    hash_length = _b64_length(match["hash"])
    if salt_length < 0 or hash_length < 0:
        return None
    return Argon2Parameters(
        memory_cost=int(match["m"]),
        iterations=int(match["t"]),
        lanes=int(match["p"]),
        salt_length=salt_length,
        hash_length=hash_length,
        version=int(match["v"]),
    )


class Argon2idPasswordHasher(PasswordHasher):
    """Argon2id with production defaults m=19456 KiB, t=2, p=1, 16-byte salt, 32-byte hash."""

    def __init__(
        self,
        memory_cost: int = MIN_MEMORY_KIB,
        iterations: int = MIN_ITERATIONS,
        lanes: int = MIN_LANES,
        salt_length: int = MIN_SALT_BYTES,
        hash_length: int = MIN_HASH_BYTES,
        *,
        allow_weak: bool = False,
    ) -> None:
        """Hash with the given cost; parameters below the production minimum need ``allow_weak=True``."""
        params = Argon2Parameters(memory_cost, iterations, lanes, salt_length, hash_length)
        if lanes < 1 or lanes > MAX_LANES or iterations < 1 or iterations > MAX_ITERATIONS:
            raise ValidationError("argon2id lanes and iterations must be 1..64", code="passwords.params")
        if memory_cost < 8 * lanes or memory_cost > MAX_MEMORY_KIB:
            raise ValidationError(
                f"argon2id memory_cost must be {8 * lanes}..{MAX_MEMORY_KIB} KiB", code="passwords.params"
            )
        if salt_length < 8 or hash_length < 16:
            raise ValidationError("argon2id salt must be >= 8 bytes and hash >= 16 bytes", code="passwords.params")
        weak = (
            memory_cost < MIN_MEMORY_KIB
            or iterations < MIN_ITERATIONS
            or lanes < MIN_LANES
            or salt_length < MIN_SALT_BYTES
            or hash_length < MIN_HASH_BYTES
        )
        if weak and not allow_weak:
            raise ValidationError(
                f"argon2id parameters below the production minimum (m={MIN_MEMORY_KIB}, t={MIN_ITERATIONS}, "
                f"p={MIN_LANES}, salt {MIN_SALT_BYTES} B, hash {MIN_HASH_BYTES} B); pass allow_weak=True "
                "only in tests",
                code="passwords.weak_params",
            )
        self._params = params
        # Precomputed once so dummy_verify costs exactly one verification, like a real login.
        self._dummy_hash = self.hash(base64.b64encode(os.urandom(24)).decode("ascii"))

    @classmethod
    def for_tests(cls) -> Argon2idPasswordHasher:
        """A fast, deliberately weak hasher (64 KiB, 1 iteration) for test suites only."""
        return cls(memory_cost=64, iterations=1, lanes=1, allow_weak=True)

    @property
    def parameters(self) -> Argon2Parameters:
        """The parameters new hashes are made with."""
        return self._params

    def hash(self, password: str) -> str:
        """Return a PHC-encoded Argon2id hash of ``password`` with a fresh random salt."""
        if not isinstance(password, str):
            raise TypeError("password must be a str")
        return self._kdf(os.urandom(self._params.salt_length)).derive_phc_encoded(password.encode("utf-8"))

    def verify(self, encoded: str, password: str) -> bool:
        """True when ``password`` matches ``encoded``; False on mismatch or any malformed input."""
        if not isinstance(password, str):
            return False
        stored = parse_phc(encoded)
        if stored is None or not _within_limits(stored):
            return False
        try:
            Argon2id.verify_phc_encoded(password.encode("utf-8"), encoded)
        except (InvalidKey, ValueError, TypeError, OverflowError):
            return False
        return True

    def dummy_verify(self, password: str) -> None:
        """Verify ``password`` against a fixed hash of the current parameters, discarding the result."""
        candidate = password if isinstance(password, str) else ""
        self.verify(self._dummy_hash, candidate)

    def needs_rehash(self, encoded: str) -> bool:
        """True when ``encoded`` is malformed or weaker than the current parameters."""
        stored = parse_phc(encoded)
        if stored is None:
            return True
        current = self._params
        return (
            stored.version != ARGON2_VERSION
            or stored.memory_cost < current.memory_cost
            or stored.iterations < current.iterations
            or stored.lanes < current.lanes
            or stored.salt_length < current.salt_length
            or stored.hash_length < current.hash_length
        )

    def _kdf(self, salt: bytes) -> Argon2id:
        return Argon2id(
            salt=salt,
            length=self._params.hash_length,
            iterations=self._params.iterations,
            lanes=self._params.lanes,
            memory_cost=self._params.memory_cost,
        )


def _within_limits(params: Argon2Parameters) -> bool:
    return (
        params.version == ARGON2_VERSION
        and 1 <= params.lanes <= MAX_LANES
        and 1 <= params.iterations <= MAX_ITERATIONS
        and 8 * params.lanes <= params.memory_cost <= MAX_MEMORY_KIB
    )
