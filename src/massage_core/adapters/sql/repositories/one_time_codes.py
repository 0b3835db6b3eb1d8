"""SMS one-time codes (only a keyed hash of each code is stored)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.engine import Connection

from massage_core.adapters.sql.repositories._guard import guarded
from massage_core.adapters.sql.tables import one_time_codes
from massage_core.domain.authentication import CodePurpose, OneTimeCode
from massage_core.domain.errors import NotFound
from massage_core.domain.ids import OneTimeCodeId
from massage_core.domain.time import Instant
from massage_core.ports.repositories import OneTimeCodeRepository

DUPLICATE = "otp.duplicate"


def _values(code: OneTimeCode) -> dict[str, Any]:
    return {
        "subject_key": code.subject_key,
        "purpose": code.purpose.value,
        "code_hash": code.code_hash,
        "created_at": code.created_at,
        "expires_at": code.expires_at,
        "attempts": code.attempts,
        "consumed_at": code.consumed_at,
    }


def _to_code(row: Row[Any]) -> OneTimeCode:
    return OneTimeCode(
        id=OneTimeCodeId(row.id),
        subject_key=row.subject_key,
        purpose=CodePurpose(row.purpose),
        code_hash=row.code_hash,
        created_at=row.created_at,
        expires_at=row.expires_at,
        attempts=row.attempts,
        consumed_at=row.consumed_at,
    )


class SqlOneTimeCodeRepository(OneTimeCodeRepository):
    """The ``one_time_codes`` table, indexed by (subject_key, created_at)."""

    def __init__(self, connection: Connection) -> None:
        """Work inside ``connection``'s transaction."""
        self._conn = connection

    def add(self, code: OneTimeCode) -> None:
        """Insert; Conflict ``otp.duplicate`` for a taken id."""
        with guarded(self._conn, duplicate=DUPLICATE):
            self._conn.execute(insert(one_time_codes).values(id=code.id, **_values(code)))

    def latest(self, subject_key: str, purpose: CodePurpose) -> OneTimeCode | None:
        """The newest code (by creation time, then id) for the phone and purpose."""
        t = one_time_codes
        row = self._conn.execute(
            select(t)
            .where(t.c.subject_key == subject_key, t.c.purpose == purpose.value)
            .order_by(t.c.created_at.desc(), t.c.id.desc())
            .limit(1)
        ).first()
        return _to_code(row) if row is not None else None

    def sent_since(self, subject_key: str, since: Instant) -> Sequence[Instant]:
        """Creation times at or after ``since``, oldest first."""
        t = one_time_codes
        rows = self._conn.execute(
            select(t.c.created_at).where(t.c.subject_key == subject_key, t.c.created_at >= since).order_by(t.c.created_at)
        )
        return [row.created_at for row in rows]

    def save(self, code: OneTimeCode) -> None:
        """Replace the stored code; NotFound when absent."""
        with guarded(self._conn, duplicate=DUPLICATE):
            result = self._conn.execute(
                update(one_time_codes).where(one_time_codes.c.id == code.id).values(_values(code))
            )
        if result.rowcount == 0:
            raise NotFound("one_time_code", code.id)
