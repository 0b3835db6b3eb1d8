"""Re-encrypting every encrypted column under the primary key after a rotation.

Candidates are found per column in primary-key order.  When the cipher's
tokens start with a fixed prefix naming the key (``v1:<key id>:`` for
``AesGcmFieldCipher``), the database filters out rows already under the
primary key; every candidate is still checked with ``cipher.key_id_of``.
Each row is rewritten with compare-and-set (``UPDATE ... WHERE pk = ? AND
col = <old token>``), so a value written concurrently is never clobbered:
the row is simply picked up again by a later batch if it still needs it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, tuple_, update
from sqlalchemy.engine import Connection, Engine

from massage_core.adapters.sql.engine import translating
from massage_core.adapters.sql.fields import ENCRYPTED_FIELDS, EncryptedField
from massage_core.ports.cipher import FieldCipher, FieldContext
from massage_core.ports.key_rotation import FieldReencryptor

SCAN_CHUNK = 500


def primary_prefix(cipher: FieldCipher) -> str | None:
    """The text every new token starts with, up to and including the key id and one separator.

    None when the cipher's tokens do not show the key id at a fixed place;
    then every token is checked in Python.
    """
    probe = FieldContext("probe", "probe", "probe")
    key_id = cipher.primary_key_id
    first, second = cipher.encrypt("probe", probe), cipher.encrypt("probe", probe)
    where = first.find(key_id)
    end = where + len(key_id) + 1
    if where < 0 or end > len(first) or first[:end] != second[:end]:
        return None
    return first[:end]


class SqlFieldReencryptor(FieldReencryptor):
    """Moves every encrypted field of the schema (``fields.ENCRYPTED_FIELDS``) to the primary key."""

    def __init__(
        self, engine: Engine, cipher: FieldCipher, fields: Sequence[EncryptedField] = ENCRYPTED_FIELDS
    ) -> None:
        """Re-encrypt ``fields`` (default: all) in ``engine``'s database with ``cipher``'s primary key."""
        self._engine = engine
        self._cipher = cipher
        self._fields = tuple(fields)
        self._prefix = primary_prefix(cipher)

    def _outdated(self, field: EncryptedField) -> ColumnElement[bool]:
        column = field.sql_column
        if self._prefix is None:
            return column.is_not(None)
        return and_(column.is_not(None), func.substr(column, 1, len(self._prefix)) != self._prefix)

    def _candidates(self, connection: Connection, field: EncryptedField) -> Iterator[tuple[tuple[Any, ...], str]]:
        """(primary key, token) of rows whose token is not under the primary key, in key order."""
        keys = field.key_sql_columns
        after: tuple[Any, ...] | None = None
        while True:
            query = select(*keys, field.sql_column).where(self._outdated(field)).order_by(*keys).limit(SCAN_CHUNK)
            if after is not None:
                query = query.where(tuple_(*keys) > tuple_(*after))
            rows = connection.execute(query).all()
            for row in rows:
                key, token = tuple(row[: len(keys)]), row[len(keys)]
                if self._cipher.key_id_of(token) != self._cipher.primary_key_id:
                    yield key, token
            if len(rows) < SCAN_CHUNK:
                return
            after = tuple(rows[-1][: len(keys)])

    def pending(self) -> int:
        """How many stored tokens are not under the primary key."""
        with translating(), self._engine.connect() as connection:
            return sum(1 for field in self._fields for _ in self._candidates(connection, field))

    def _swap(self, connection: Connection, field: EncryptedField, key: tuple[Any, ...], token: str) -> bool:
        """Re-encrypt one token; False when the row changed since it was read."""
        context = field.context(key)
        fresh = self._cipher.encrypt(self._cipher.decrypt(token, context), context)
        where = [column == value for column, value in zip(field.key_sql_columns, key, strict=True)]
        result = connection.execute(
            update(field.table).where(*where, field.sql_column == token).values({field.column: fresh})
        )
        return bool(result.rowcount == 1)

    def reencrypt_batch(self, limit: int) -> int:
        """Re-encrypt up to ``limit`` tokens in one transaction; return how many (0 when done)."""
        if limit <= 0:
            return 0
        done = 0
        with translating(), self._engine.begin() as connection:
            for field in self._fields:
                batch = []
                for candidate in self._candidates(connection, field):
                    batch.append(candidate)
                    if done + len(batch) >= limit:
                        break
                for key, token in batch:
                    done += self._swap(connection, field, key, token)
                if done >= limit:
                    break
        return done
