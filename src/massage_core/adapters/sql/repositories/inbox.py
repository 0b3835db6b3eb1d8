"""The in-app inbox and notification preferences on SQL (decision 0041).

``inbox_items``: ``deliver`` is ``INSERT ... ON CONFLICT DO NOTHING`` on the unique dedupe key (and the id),
so a message delivered twice is one item and the caller's transaction goes on; every read and update is
scoped to the recipient.  Subject and body are FieldCipher tokens bound to the item id
(``fields.INBOX_SUBJECT``, ``INBOX_BODY``).  ``notification_preferences``: one row per account, the
channels per category as JSON, the quiet hours as ``HH:MM-HH:MM``.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import Row, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from massage_core.adapters.sql.engine import translating
from massage_core.adapters.sql.fields import INBOX_BODY, INBOX_SUBJECT, FieldCodec
from massage_core.adapters.sql.tables import accounts
from massage_core.adapters.sql.tables_notifications import inbox_items, notification_preferences
from massage_core.adapters.sql.tables_therapists import therapist_profiles
from massage_core.domain.accounts import AccountStatus
from massage_core.domain.ids import AccountId
from massage_core.domain.inbox import InboxItem, NotificationSettings
from massage_core.domain.notifications import Category, Preferences
from massage_core.domain.time import Instant
from massage_core.ports.inbox import PAGE, InboxRepository
from massage_core.ports.notification_preferences import NotificationPreferencesRepository, Recipient

_i, _p, _a, _t = inbox_items, notification_preferences, accounts, therapist_profiles
# ``recipients``: the active accounts among the ids, with their stored settings and therapist zone if any (the
# primary keys make each join at most one row); no encrypted column is read.
_RECIPIENTS = (
    select(_a.c.id, _p.c.account_id.label("chose"), _p.c.channels, _p.c.quiet_hours, _p.c.locale, _t.c.time_zone)
    .select_from(_a.outerjoin(_p, _p.c.account_id == _a.c.id).outerjoin(_t, _t.c.account_id == _a.c.id))
    .where(_a.c.id.in_(bindparam("ids", expanding=True)), _a.c.status == AccountStatus.ACTIVE.value))
_IN_CHUNK = 1000  # accounts per ``IN`` list of ``recipients``


def _settings(row: Any) -> NotificationSettings:  # a row of ``_p`` or of ``_RECIPIENTS``
    return NotificationSettings(Preferences(json.loads(row.channels), row.quiet_hours), row.locale)


class SqlInboxRepository(InboxRepository):
    """The ``inbox_items`` table; see the module docstring."""

    def __init__(self, connection: Connection, codec: FieldCodec) -> None:
        self._conn = connection
        self._codec = codec

    def _to_item(self, row: Row[Any]) -> InboxItem:
        key = (row.id,)
        return InboxItem(row.id, row.recipient, row.dedupe_key, Category(row.category),
                         self._codec.open(INBOX_SUBJECT, key, row.subject_enc),
                         self._codec.open(INBOX_BODY, key, row.body_enc), row.delivered_at, row.read_at)

    def deliver(self, item: InboxItem) -> bool:
        dialect = pg_insert if self._conn.dialect.name == "postgresql" else sqlite_insert
        key = (item.id,)
        statement = dialect(_i).values(
            id=item.id, recipient=item.recipient, dedupe_key=item.dedupe_key, category=item.category.value,
            subject_enc=self._codec.seal(INBOX_SUBJECT, key, item.subject),
            body_enc=self._codec.seal(INBOX_BODY, key, item.body), delivered_at=item.delivered_at,
            read_at=item.read_at).on_conflict_do_nothing().returning(_i.c.id)
        with translating():
            return self._conn.execute(statement).first() is not None

    def list(self, recipient: str, *, unread_only: bool = False, offset: int = 0,
             limit: int = PAGE) -> Sequence[InboxItem]:
        query = select(_i).where(_i.c.recipient == recipient)
        if unread_only:
            query = query.where(_i.c.read_at.is_(None))
        query = query.order_by(_i.c.delivered_at.desc(), _i.c.id.desc()).offset(max(offset, 0)).limit(max(limit, 0))
        return [self._to_item(row) for row in self._conn.execute(query)]

    def unread_count(self, recipient: str) -> int:
        found = self._conn.execute(select(func.count()).select_from(_i).where(
            _i.c.recipient == recipient, _i.c.read_at.is_(None))).scalar_one()
        return int(found)

    def mark_read(self, recipient: str, ids: Collection[str], at: Instant) -> int:
        wanted = sorted(set(ids))
        if not wanted:
            return 0
        with translating():
            result = self._conn.execute(update(_i).where(
                _i.c.recipient == recipient, _i.c.id.in_(wanted), _i.c.read_at.is_(None)).values(read_at=at))
        return int(result.rowcount)


class SqlNotificationPreferencesRepository(NotificationPreferencesRepository):
    """The ``notification_preferences`` table; see the module docstring."""

    def __init__(self, connection: Connection) -> None:
        self._conn = connection

    def get(self, account: str) -> NotificationSettings | None:
        row = self._conn.execute(select(_p).where(_p.c.account_id == account)).first()
        if row is None:
            return None
        return _settings(row)

    def recipients(self, accounts: Collection[str]) -> Mapping[AccountId, Recipient]:
        """One ``SELECT`` of ``accounts`` LEFT JOIN ``notification_preferences`` LEFT JOIN ``therapist_profiles``
        ``WHERE id IN (...) AND status = 'active'`` per 1,000 distinct ids."""
        wanted = sorted(set(accounts))
        found: dict[AccountId, Recipient] = {}
        for start in range(0, len(wanted), _IN_CHUNK):
            rows = self._conn.execute(_RECIPIENTS, {"ids": wanted[start:start + _IN_CHUNK]})
            found.update((AccountId(row.id), (_settings(row) if row.chose is not None else None, row.time_zone))
                         for row in rows)
        return found

    def set(self, account: str, settings: NotificationSettings) -> None:
        prefs = settings.preferences
        channels = json.dumps({c.value: sorted(ch.value for ch in prefs.channels_for(c)) for c in Category},
                              sort_keys=True)
        quiet = str(prefs.quiet_hours) if prefs.quiet_hours is not None else None
        with translating():
            self._conn.execute(delete(_p).where(_p.c.account_id == account))
            self._conn.execute(insert(_p).values(account_id=account, channels=channels, quiet_hours=quiet,
                                                 locale=settings.locale))
