"""The FieldCipher port: authenticated encryption of personal data fields."""

from __future__ import annotations

import abc

from attrs import frozen


@frozen
class FieldContext:
    """Where a ciphertext lives: it decrypts only in this table, column and row."""

    table: str
    column: str
    row_id: str

    def associated_data(self) -> bytes:
        return f"{self.table}\x1f{self.column}\x1f{self.row_id}".encode()


class FieldCipher(abc.ABC):
    """Encrypts and decrypts single fields; computes blind indexes."""

    @abc.abstractmethod
    def encrypt(self, plaintext: str, context: FieldContext) -> str:
        """Return a text token (key id + nonce + ciphertext) under the primary key, bound to ``context``."""

    @abc.abstractmethod
    def decrypt(self, token: str, context: FieldContext) -> str:
        """Return the plaintext.

        Raises ``IntegrityError`` when the token was tampered with, belongs to
        another context (moved row or column), or names a key the ring lacks.
        """

    @abc.abstractmethod
    def blind_index(self, kind: str, normalised: str) -> str:
        """Return a keyed, deterministic digest (hex) of ``normalised`` for equality lookup.

        ``kind`` separates domains (``phone``, ``email``, ``wechat``...), so equal
        values of different kinds do not collide.
        """

    @abc.abstractmethod
    def key_id_of(self, token: str) -> str:
        """Return the id of the key that encrypted ``token``; IntegrityError if malformed."""

    @property
    @abc.abstractmethod
    def primary_key_id(self) -> str:
        """The id of the key used for new encryptions."""
