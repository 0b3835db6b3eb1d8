"""AES-256-GCM field encryption and HMAC-SHA256 blind indexes over a KeyRing.

Token format: ``v1:<key id>:<urlsafe base64 of nonce(12) + ciphertext + tag(16)>``.
The associated data is the field's context (table, column, row id), so a
ciphertext copied to another row, column or table does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.domain.errors import IntegrityError
from massage_core.ports.cipher import FieldCipher, FieldContext

TOKEN_VERSION = "v1"
NONCE_BYTES = 12
TAG_BYTES = 16
INDEX_SEPARATOR = "\x1f"
MAX_TOKEN_CHARS = 1_000_000

_BODY = re.compile(r"[A-Za-z0-9_-]+={0,2}")


def _integrity(message: str) -> IntegrityError:
    return IntegrityError(message, code="crypto.decrypt")


class AesGcmFieldCipher(FieldCipher):
    """The production FieldCipher: AES-256-GCM with a random 96-bit nonce per encryption."""

    def __init__(self, ring: KeyRing) -> None:
        """Use ``ring``: its primary key encrypts, every key of the ring decrypts."""
        self._ring = ring
        self._aeads = {key_id: AESGCM(key) for key_id, key in ring.keys.items()}

    @property
    def ring(self) -> KeyRing:
        """The key ring this cipher was built from."""
        return self._ring

    @property
    def primary_key_id(self) -> str:
        """The id of the key used for new encryptions."""
        return self._ring.primary

    def encrypt(self, plaintext: str, context: FieldContext) -> str:
        """Encrypt ``plaintext`` under the primary key, bound to ``context``."""
        if not isinstance(plaintext, str):
            raise TypeError("plaintext must be a str")
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aeads[self._ring.primary].encrypt(
            nonce, plaintext.encode("utf-8"), context.associated_data()
        )
        body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
        return f"{TOKEN_VERSION}:{self._ring.primary}:{body}"

    def decrypt(self, token: str, context: FieldContext) -> str:
        """Return the plaintext; IntegrityError(code="crypto.decrypt") on any failure."""
        key_id, blob = self._split(token)
        aead = self._aeads.get(key_id)
        if aead is None:
            raise _integrity(f"field was encrypted under key {key_id!r}, which is not in the key ring")
        nonce, sealed = blob[:NONCE_BYTES], blob[NONCE_BYTES:]
        try:
            plain = aead.decrypt(nonce, sealed, context.associated_data())
        except InvalidTag:
            raise _integrity(
                f"encrypted field failed authentication for {context.table}.{context.column} "
                "(tampered, moved from another row, or wrong key)"
            ) from None
        try:
            return plain.decode("utf-8")
        except UnicodeDecodeError:
            raise _integrity("decrypted field is not valid UTF-8") from None

    def key_id_of(self, token: str) -> str:
        """Return the id of the key that encrypted ``token``; IntegrityError if malformed."""
        key_id, _ = self._split(token)
        return key_id

    def blind_index(self, kind: str, normalised: str) -> str:
        """Hex HMAC-SHA256 under the index key of ``kind + "\\x1f" + normalised``."""
        if not kind or INDEX_SEPARATOR in kind:
            raise ValueError("blind index kind must be non-empty and contain no unit separator")
        message = f"{kind}{INDEX_SEPARATOR}{normalised}".encode()
        return hmac.new(self._ring.index_key, message, hashlib.sha256).hexdigest()

    @staticmethod
    def _split(token: str) -> tuple[str, bytes]:
        """Parse a token into (key id, nonce + ciphertext + tag); IntegrityError when malformed."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
            raise _integrity("encrypted field is malformed")
        parts = token.split(":")
        if len(parts) != 3 or parts[0] != TOKEN_VERSION or not parts[1]:
            raise _integrity("encrypted field is malformed (expected v1:<key id>:<data>)")
        _, key_id, body = parts
        if not _BODY.fullmatch(body):
            raise _integrity("encrypted field is malformed (bad base64)")
        try:
            blob = base64.urlsafe_b64decode(body)
        except (binascii.Error, ValueError):
            raise _integrity("encrypted field is malformed (bad base64)") from None
        if len(blob) < NONCE_BYTES + TAG_BYTES:
            raise _integrity("encrypted field is malformed (too short)")
        return key_id, blob
