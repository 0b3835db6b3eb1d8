"""Announcements with their receipts (``uow.announcements``) and the support duty roster (``uow.duty``).

The audience of an announcement is read a page at a time (``audience``: every active account with the
roles asked for, with a therapist's service-area centre and level, in id order after a cursor) and its
recipients written a page at a time (``add_recipients``), so a send costs a few statements per page, never
one per person.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Sequence

from massage_core.domain.access import AdminRole, Role
from massage_core.domain.announcements import Announcement, AnnouncementId, AudienceMember, Receipt, StaffMember
from massage_core.domain.ids import AccountId
from massage_core.domain.time import Instant

PAGE = 50
AUDIENCE_PAGE = 500


class AnnouncementRepository(abc.ABC):
    """Announcements, their recipients and read receipts; see the module docstring."""

    @abc.abstractmethod
    def add(self, announcement: Announcement) -> None:
        """Store a new announcement (Conflict ``announcement.duplicate`` for a known id)."""

    @abc.abstractmethod
    def get(self, ident: AnnouncementId) -> Announcement:
        """The announcement, or NotFound."""

    @abc.abstractmethod
    def set_targeted(self, ident: AnnouncementId, targeted: int) -> None:
        """Record how many recipients the announcement reached (NotFound when there is none)."""

    @abc.abstractmethod
    def list(self, *, offset: int = 0, limit: int = PAGE) -> Sequence[Announcement]:
        """Announcements, newest first (sent time, then id)."""

    @abc.abstractmethod
    def audience(self, roles: Collection[Role], *, after: AccountId | None = None,
                 limit: int = AUDIENCE_PAGE) -> Sequence[AudienceMember]:
        """Up to ``limit`` active accounts holding any of ``roles`` with ids greater than ``after``, in id
        order; a therapist's profile (area centre, level) is joined in the same read."""

    @abc.abstractmethod
    def add_recipients(self, ident: AnnouncementId, recipients: Sequence[AccountId]) -> int:
        """Write an unread receipt per recipient not yet recorded; return how many were new."""

    @abc.abstractmethod
    def receipt(self, ident: AnnouncementId, recipient: AccountId) -> Receipt | None:
        """The recipient's receipt of the announcement, or None when they are not a recipient."""

    @abc.abstractmethod
    def mark_read(self, ident: AnnouncementId, recipient: AccountId, at: Instant) -> bool:
        """Set the receipt's read time unless already set; True when it changed (NotFound when the account
        is not a recipient)."""

    @abc.abstractmethod
    def for_recipient(self, recipient: AccountId, *, unread_only: bool = False, offset: int = 0,
                      limit: int = PAGE) -> Sequence[tuple[Announcement, Receipt]]:
        """The announcements sent to ``recipient`` with their receipts, newest first."""

    @abc.abstractmethod
    def read_count(self, ident: AnnouncementId) -> int:
        """How many recipients read the announcement."""

    @abc.abstractmethod
    def delivered_count(self, ident: AnnouncementId) -> int:
        """How many recipients' in-app (inbox) outbox message of the announcement has been sent."""

    @abc.abstractmethod
    def unread(self, ident: AnnouncementId, *, offset: int = 0, limit: int = PAGE) -> Sequence[AccountId]:
        """The recipients who have not read the announcement, in account id order."""


class DutyRoster(abc.ABC):
    """Which support admins are on duty."""

    @abc.abstractmethod
    def set(self, account: AccountId, on: bool, at: Instant) -> bool:
        """Put ``account`` on or off duty; True when that changed something."""

    @abc.abstractmethod
    def staff(self, admin_roles: Collection[AdminRole]) -> Sequence[StaffMember]:
        """Every active account holding the admin role and any of ``admin_roles``, with its duty flag, in id
        order."""
