"""Announcements, receipts and the duty roster in SQL (decision 0044; migration 0018).

The audience is one keyset-paged read of ``accounts`` left-joined to ``therapist_profiles`` (ids after a
cursor, active, holding a wanted role; the comma-joined ``roles`` column is matched exactly in the SQL, as
``',' || roles || ','`` LIKE ``'%,therapist,%'``, so no row is dropped after the LIMIT and a short page
really is the last one); recipients are written with one multi-row insert per page.  ``delivered_count`` counts the
announcement's sent in-app messages in the outbox (``outbox_messages``; one per recipient).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Row, and_, bindparam, delete, func, insert, literal, or_, select, update
from sqlalchemy.engine import Connection

from massage_core.adapters.sql.repositories._guard import guarded
from massage_core.adapters.sql.tables import accounts
from massage_core.adapters.sql.tables_announcements import announcement_recipients, announcements, support_duty
from massage_core.adapters.sql.tables_notifications import outbox_messages
from massage_core.adapters.sql.tables_therapists import therapist_profiles
from massage_core.domain.access import AdminRole, Role
from massage_core.domain.accounts import AccountStatus
from massage_core.domain.announcements import Announcement, AnnouncementId, AudienceMember, Receipt, StaffMember
from massage_core.domain.errors import NotFound
from massage_core.domain.ids import AccountId
from massage_core.domain.notifications import Channel
from massage_core.domain.outbox import OutboxState
from massage_core.domain.time import Instant
from massage_core.ports.announcements import AUDIENCE_PAGE, PAGE, AnnouncementRepository, DutyRoster

_a, _r, _d = announcements, announcement_recipients, support_duty
_tp = therapist_profiles
E6 = 1_000_000.0


def _split(text: str) -> list[str]:
    return [part for part in text.split(",") if part]


def _to_announcement(row: Row[Any]) -> Announcement:
    return Announcement(AnnouncementId(row.id), row.kind, row.title, row.text, row.audience, row.city,
                        _split(row.levels), row.sent_by, row.sent_at, row.targeted)


def _has_role(column: Any, names: Collection[str]) -> Any:
    """The comma-joined ``column`` holds one of ``names`` exactly: ``',' || column || ','`` contains
    ``',name,'`` (a bare substring match would also catch a longer name that merely contains one)."""
    framed = literal(",").concat(column).concat(",")
    return or_(*(framed.like(f"%,{name},%") for name in sorted(names)))


def _roles(text: str) -> frozenset[Role]:
    """The roles named in ``text``; a name this version does not know is ignored (never fatal to a send)."""
    known = {role.value for role in Role}
    return frozenset(Role(name) for name in _split(text) if name in known)


class SqlAnnouncementRepository(AnnouncementRepository):
    """The ``announcements`` and ``announcement_recipients`` tables; see the module docstring."""

    def __init__(self, connection: Connection) -> None:
        self._conn = connection

    def add(self, announcement: Announcement) -> None:
        with guarded(self._conn, duplicate="announcement.duplicate"):
            self._conn.execute(insert(_a).values(
                id=announcement.id, kind=announcement.kind.value, title=announcement.title, text=announcement.text,
                audience=announcement.audience.value, city=announcement.city,
                levels=",".join(sorted(announcement.levels)), sent_by=announcement.sent_by,
                sent_at=announcement.sent_at, targeted=announcement.targeted))

    def get(self, ident: AnnouncementId) -> Announcement:
        row = self._conn.execute(select(_a).where(_a.c.id == ident)).first()
        if row is None:
            raise NotFound("announcement", ident)
        return _to_announcement(row)

    def set_targeted(self, ident: AnnouncementId, targeted: int) -> None:
        if self._conn.execute(update(_a).where(_a.c.id == ident).values(targeted=targeted)).rowcount != 1:
            raise NotFound("announcement", ident)

    def list(self, *, offset: int = 0, limit: int = PAGE) -> Sequence[Announcement]:
        rows = self._conn.execute(select(_a).order_by(_a.c.sent_at.desc(), _a.c.id.desc())
                                  .offset(max(offset, 0)).limit(max(limit, 0)))
        return [_to_announcement(row) for row in rows]

    def audience(self, roles: Collection[Role], *, after: AccountId | None = None,
                 limit: int = AUDIENCE_PAGE) -> Sequence[AudienceMember]:
        wanted = frozenset(Role(r) for r in roles)
        if not wanted:
            return []
        query = (select(accounts.c.id, accounts.c.roles, _tp.c.area_lat_e6, _tp.c.area_lng_e6, _tp.c.level_code)
                 .select_from(accounts.outerjoin(_tp, _tp.c.account_id == accounts.c.id))
                 .where(accounts.c.status == AccountStatus.ACTIVE.value, _has_role(accounts.c.roles, wanted))
                 .order_by(accounts.c.id).limit(max(limit, 0)))
        if after is not None:
            query = query.where(accounts.c.id > after)
        found: list[AudienceMember] = []
        for row in self._conn.execute(query):  # the SQL chose exactly: a page is never shortened here
            held = _roles(row.roles)
            if row.area_lat_e6 is None or Role.THERAPIST not in held:
                found.append(AudienceMember(AccountId(row.id), held))
            else:
                found.append(AudienceMember(AccountId(row.id), held, row.area_lat_e6 / E6, row.area_lng_e6 / E6,
                                            row.level_code))
        return found

    def add_recipients(self, ident: AnnouncementId, recipients: Sequence[AccountId]) -> int:
        wanted = list(dict.fromkeys(recipients))
        if not wanted:
            return 0
        known = set(self._conn.execute(select(_r.c.account_id).where(
            _r.c.announcement_id == ident, _r.c.account_id.in_(wanted))).scalars())
        new = [{"announcement_id": ident, "account_id": who, "read_at": None} for who in wanted if who not in known]
        if new:
            with guarded(self._conn, duplicate="announcement.duplicate"):
                self._conn.execute(insert(_r), new)
        return len(new)

    def receipt(self, ident: AnnouncementId, recipient: AccountId) -> Receipt | None:
        row = self._conn.execute(select(_r.c.read_at).where(_r.c.announcement_id == ident,
                                                            _r.c.account_id == recipient)).first()
        return None if row is None else Receipt(ident, recipient, row.read_at)

    def mark_read(self, ident: AnnouncementId, recipient: AccountId, at: Instant) -> bool:
        mine = and_(_r.c.announcement_id == ident, _r.c.account_id == recipient)
        if self._conn.execute(update(_r).where(mine, _r.c.read_at.is_(None)).values(read_at=at)).rowcount:
            return True
        if self.receipt(ident, recipient) is None:
            raise NotFound("announcement", ident)
        return False

    def for_recipient(self, recipient: AccountId, *, unread_only: bool = False, offset: int = 0,
                      limit: int = PAGE) -> Sequence[tuple[Announcement, Receipt]]:
        query = (select(_a, _r.c.read_at).select_from(_a.join(_r, _r.c.announcement_id == _a.c.id))
                 .where(_r.c.account_id == recipient))
        if unread_only:
            query = query.where(_r.c.read_at.is_(None))
        rows = self._conn.execute(query.order_by(_a.c.sent_at.desc(), _a.c.id.desc())
                                  .offset(max(offset, 0)).limit(max(limit, 0)))
        return [(_to_announcement(row), Receipt(AnnouncementId(row.id), recipient, row.read_at)) for row in rows]

    def read_count(self, ident: AnnouncementId) -> int:
        return int(self._conn.execute(select(func.count()).select_from(_r).where(
            _r.c.announcement_id == ident, _r.c.read_at.is_not(None))).scalar_one())

    def delivered_count(self, ident: AnnouncementId) -> int:
        prefix = f"announcement:{ident}|".replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return int(self._conn.execute(select(func.count()).select_from(outbox_messages).where(
            outbox_messages.c.dedupe_key.like(f"{prefix}%|{Channel.INBOX.value}", escape="\\"),
            outbox_messages.c.state == OutboxState.SENT.value)).scalar_one())

    def unread(self, ident: AnnouncementId, *, offset: int = 0, limit: int = PAGE) -> Sequence[AccountId]:
        rows = self._conn.execute(select(_r.c.account_id).where(_r.c.announcement_id == ident,
                                                                _r.c.read_at.is_(None))
                                  .order_by(_r.c.account_id).offset(max(offset, 0)).limit(max(limit, 0)))
        return [AccountId(who) for who in rows.scalars()]


class SqlDutyRoster(DutyRoster):
    """The ``support_duty`` table."""

    def __init__(self, connection: Connection) -> None:
        self._conn = connection

    def set(self, account: AccountId, on: bool, at: Instant) -> bool:
        if not on:
            return bool(self._conn.execute(delete(_d).where(_d.c.account_id == account)).rowcount)
        if self._conn.execute(select(_d.c.account_id).where(_d.c.account_id == account)).first() is not None:
            return False
        with guarded(self._conn, duplicate="duty.duplicate"):
            self._conn.execute(insert(_d).values(account_id=account, since=bindparam("p_since")),
                               {"p_since": at})
        return True

    def staff(self, admin_roles: Collection[AdminRole]) -> Sequence[StaffMember]:
        wanted = frozenset(AdminRole(r) for r in admin_roles)
        if not wanted:
            return []
        rows = self._conn.execute(
            select(accounts.c.id, accounts.c.roles, accounts.c.admin_roles, _d.c.account_id.label("duty"))
            .select_from(accounts.outerjoin(_d, _d.c.account_id == accounts.c.id))
            .where(accounts.c.status == AccountStatus.ACTIVE.value, _has_role(accounts.c.admin_roles, wanted))
            .order_by(accounts.c.id))
        found: list[StaffMember] = []
        for row in rows:
            held = frozenset(AdminRole(name) for name in _split(row.admin_roles))
            if Role.ADMIN.value in _split(row.roles) and held & wanted:
                found.append(StaffMember(AccountId(row.id), held, row.duty is not None))
        return found
