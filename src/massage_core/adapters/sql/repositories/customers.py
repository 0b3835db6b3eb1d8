"""Customer profiles in SQL: one ``customer_profiles`` row per account, health data and birth encrypted.

Every plaintext is padded before encryption (``pad``) and every row carries all
three tokens, so the database shows neither whether a customer declared
conditions, a note or a birth, nor (beyond a coarse bucket) how long they are.
"""

from __future__ import annotations

from typing import Any

import attrs
from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.engine import Connection

from massage_core.adapters.sql.fields import (
    CUSTOMER_BIRTH,
    CUSTOMER_CONDITIONS,
    CUSTOMER_HEALTH_NOTE,
    EncryptedField,
    FieldCodec,
)
from massage_core.adapters.sql.prepared import Prepared
from massage_core.adapters.sql.repositories._guard import guarded
from massage_core.adapters.sql.tables_customers import customer_profiles
from massage_core.domain.customers import Birth, CustomerProfile
from massage_core.domain.errors import Conflict, IntegrityError
from massage_core.domain.ids import AccountId
from massage_core.ports.customers import CustomerProfileRepository

C = customer_profiles
END = "\x1f"
"""Ends the value inside a padded plaintext; only spaces follow it."""
BLOCKS: dict[str, int] = {CUSTOMER_BIRTH.column: 16, CUSTOMER_CONDITIONS.column: 128, CUSTOMER_HEALTH_NOTE.column: 256}
"""Padded plaintexts are a whole number of these UTF-8 bytes (the birth and the conditions always fit one)."""
_BY_ID = Prepared(select(C).where(C.c.account_id == bindparam("p_id")))  # on SQLite on the driver


def pad(value: str, block: int) -> str:
    """``value``, the end mark and spaces up to a multiple of ``block`` UTF-8 bytes."""
    size = len(value.encode("utf-8")) + 1
    return value + END + " " * (-size % block)


def unpad(padded: str) -> str:
    """The value inside ``pad``'s output; IntegrityError when the end mark is missing."""
    value, mark, rest = padded.rpartition(END)
    if not mark or rest.strip(" "):
        raise IntegrityError("a customer profile field is not in the padded format", code="integrity")
    return value


class SqlCustomerProfileRepository(CustomerProfileRepository):
    """Profiles in ``customer_profiles``; compare-and-set on ``version`` (0 inserts)."""

    def __init__(self, connection: Connection, codec: FieldCodec) -> None:
        """Work inside ``connection``'s transaction, encrypting with ``codec``."""
        self._conn = connection
        self._codec = codec

    def _seal(self, field: EncryptedField, key: tuple[str], value: str) -> str:
        token = self._codec.seal(field, key, pad(value, BLOCKS[field.column]))
        assert token is not None  # a padded value is never empty
        return token

    def _open(self, field: EncryptedField, key: tuple[str], token: str) -> str:
        return unpad(self._codec.open(field, key, token))

    def _values(self, p: CustomerProfile) -> dict[str, Any]:
        key = (p.customer_id,)
        return {
            "gender": p.gender.value if p.gender else None,
            "preferred_therapist_gender": p.preferred_therapist_gender.value if p.preferred_therapist_gender
            else None,
            "birth_enc": self._seal(CUSTOMER_BIRTH, key, p.birth.to_text() if p.birth else ""),
            "conditions_enc": self._seal(CUSTOMER_CONDITIONS, key, ",".join(sorted(p.condition_values()))),
            "health_note_enc": self._seal(CUSTOMER_HEALTH_NOTE, key, p.health_note),
            "updated_at": p.updated_at,
        }

    def save(self, profile: CustomerProfile) -> CustomerProfile:
        """Insert at version 0, else update where the version matches; the stored profile at version + 1."""
        values = self._values(profile)
        with guarded(self._conn, duplicate="conflict.stale"):
            if profile.version == 0:
                self._conn.execute(insert(C).values(account_id=profile.customer_id, version=1, **values))
            else:
                result = self._conn.execute(
                    update(C).where(C.c.account_id == profile.customer_id, C.c.version == profile.version)
                    .values(version=profile.version + 1, **values))
                if result.rowcount == 0:
                    raise Conflict(f"the profile of {profile.customer_id} was changed by somebody else",
                                   code="conflict.stale")
        return attrs.evolve(profile, version=profile.version + 1)

    def find(self, customer_id: AccountId) -> CustomerProfile | None:
        """The profile or None."""
        rows = _BY_ID.rows(self._conn, {"p_id": customer_id})  # at most one: the primary key
        return self._to_profile(rows[0]) if rows else None

    def _to_profile(self, row: Row[Any]) -> CustomerProfile:
        key = (row.account_id,)
        birth = self._open(CUSTOMER_BIRTH, key, row.birth_enc)
        return CustomerProfile(
            customer_id=AccountId(row.account_id),
            updated_at=row.updated_at,
            gender=row.gender,
            birth=Birth.parse(birth) if birth else None,
            conditions=self._open(CUSTOMER_CONDITIONS, key, row.conditions_enc),
            health_note=self._open(CUSTOMER_HEALTH_NOTE, key, row.health_note_enc),
            preferred_therapist_gender=row.preferred_therapist_gender,
            version=row.version,
        )
