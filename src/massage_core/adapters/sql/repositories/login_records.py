"""Login attempts; the client IP and device are encrypted."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, insert, or_, select
from sqlalchemy.engine import Connection

from massage_core.adapters.sql.fields import LOGIN_DEVICE, LOGIN_IP, FieldCodec
from massage_core.adapters.sql.repositories._guard import guarded
from massage_core.adapters.sql.tables import login_records
from massage_core.domain.accounts import LoginMethod
from massage_core.domain.authentication import LoginOutcome, LoginRecord
from massage_core.domain.ids import AccountId, LoginRecordId
from massage_core.domain.time import Instant
from massage_core.ports.repositories import LoginRecordRepository

DUPLICATE = "login_record.duplicate"


class SqlLoginRecordRepository(LoginRecordRepository):
    """The ``login_records`` table, indexed by (subject_key, at) and (account_id, at)."""

    def __init__(self, connection: Connection, codec: FieldCodec) -> None:
        """Work inside ``connection``'s transaction, encrypting with ``codec``."""
        self._conn = connection
        self._codec = codec

    def add(self, record: LoginRecord) -> None:
        """Append a record."""
        key = (record.id,)
        with guarded(self._conn, duplicate=DUPLICATE):
            self._conn.execute(
                insert(login_records).values(
                    id=record.id,
                    at=record.at,
                    method=record.method.value,
                    subject_key=record.subject_key,
                    outcome=record.outcome.value,
                    account_id=record.account_id,
                    ip_enc=self._codec.seal(LOGIN_IP, key, record.ip),
                    device_enc=self._codec.seal(LOGIN_DEVICE, key, record.device),
                )
            )

    def failures_since(self, subject_key: str, account_id: AccountId | None, since: Instant) -> Sequence[Instant]:
        """Times of failed attempts at or after ``since`` for the identifier or the account, oldest first."""
        t = login_records
        who = t.c.subject_key == subject_key
        if account_id is not None:
            who = or_(who, t.c.account_id == account_id)
        rows = self._conn.execute(
            select(t.c.at)
            .where(t.c.outcome == LoginOutcome.FAILED.value, t.c.at >= since, who)
            .order_by(t.c.at, t.c.id)
        )
        return [row.at for row in rows]

    def _to_record(self, row: Row[Any]) -> LoginRecord:
        key = (row.id,)
        return LoginRecord(
            id=LoginRecordId(row.id),
            at=row.at,
            method=LoginMethod(row.method),
            subject_key=row.subject_key,
            outcome=LoginOutcome(row.outcome),
            account_id=AccountId(row.account_id) if row.account_id is not None else None,
            ip=self._codec.open(LOGIN_IP, key, row.ip_enc),
            device=self._codec.open(LOGIN_DEVICE, key, row.device_enc),
        )

    def list_for_account(self, account_id: AccountId, *, limit: int = 100) -> Sequence[LoginRecord]:
        """Newest first (by time, then id), at most ``limit``."""
        t = login_records
        rows = self._conn.execute(
            select(t).where(t.c.account_id == account_id).order_by(t.c.at.desc(), t.c.id.desc()).limit(max(limit, 0))
        )
        return [self._to_record(row) for row in rows]
