"""Login sessions; the client IP and device are encrypted."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.engine import Connection

from massage_core.adapters.sql.fields import SESSION_DEVICE, SESSION_IP, FieldCodec
from massage_core.adapters.sql.repositories._guard import guarded
from massage_core.adapters.sql.tables import sessions
from massage_core.domain.accounts import LoginMethod
from massage_core.domain.authentication import Session
from massage_core.domain.errors import NotFound
from massage_core.domain.ids import AccountId, SessionId
from massage_core.domain.time import Instant
from massage_core.ports.repositories import SessionRepository

DUPLICATE = "session.duplicate"


_BY_TOKEN_HASH = select(sessions).where(sessions.c.token_hash == bindparam("token_hash"))

class SqlSessionRepository(SessionRepository):
    """Sessions in the ``sessions`` table, unique by id and by token hash."""

    def __init__(self, connection: Connection, codec: FieldCodec) -> None:
        """Work inside ``connection``'s transaction, encrypting with ``codec``."""
        self._conn = connection
        self._codec = codec

    def _values(self, session: Session) -> dict[str, Any]:
        key = (session.id,)
        return {
            "account_id": session.account_id,
            "token_hash": session.token_hash,
            "method": session.method.value,
            "created_at": session.created_at,
            "expires_at": session.expires_at,
            "revoked_at": session.revoked_at,
            "ip_enc": self._codec.seal(SESSION_IP, key, session.ip),
            "device_enc": self._codec.seal(SESSION_DEVICE, key, session.device),
        }

    def _to_session(self, row: Row[Any]) -> Session:
        key = (row.id,)
        return Session(
            id=SessionId(row.id),
            account_id=AccountId(row.account_id),
            token_hash=row.token_hash,
            method=LoginMethod(row.method),
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            ip=self._codec.open(SESSION_IP, key, row.ip_enc),
            device=self._codec.open(SESSION_DEVICE, key, row.device_enc),
        )

    def add(self, session: Session) -> None:
        """Insert; Conflict ``session.duplicate`` for a taken id or token hash."""
        with guarded(self._conn, duplicate=DUPLICATE):
            self._conn.execute(insert(sessions).values(id=session.id, **self._values(session)))

    def find_by_token_hash(self, token_hash: str) -> Session | None:
        """The session with this token hash, or None."""
        row = self._conn.execute(_BY_TOKEN_HASH, {"token_hash": token_hash}).first()
        return self._to_session(row) if row is not None else None

    def save(self, session: Session) -> None:
        """Replace the stored session; NotFound when absent."""
        with guarded(self._conn, duplicate=DUPLICATE):
            result = self._conn.execute(
                update(sessions).where(sessions.c.id == session.id).values(self._values(session))
            )
        if result.rowcount == 0:
            raise NotFound("session", session.id)

    def revoke_all(self, account_id: AccountId, now: Instant) -> int:
        """Revoke the account's live sessions (not revoked, not expired)."""
        result = self._conn.execute(
            update(sessions)
            .where(
                sessions.c.account_id == account_id,
                sessions.c.revoked_at.is_(None),
                sessions.c.expires_at > now,
            )
            .values(revoked_at=now)
        )
        return int(result.rowcount)

    def list_for_account(self, account_id: AccountId) -> Sequence[Session]:
        """Newest first (by creation time, then id)."""
        rows = self._conn.execute(
            select(sessions)
            .where(sessions.c.account_id == account_id)
            .order_by(sessions.c.created_at.desc(), sessions.c.id.desc())
        )
        return [self._to_session(row) for row in rows]
