"""The in-app inbox (``uow.inbox``): the messages of the ``inbox`` channel, kept by the library.

``deliver`` is idempotent by dedupe key: a dispatcher that delivers one message twice (it died after
delivering and before marking the message sent) leaves one item.  Every read and ``mark_read`` is scoped to
one recipient, so nobody reads or marks another person's items through this port.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Sequence

from massage_core.domain.inbox import InboxItem
from massage_core.domain.time import Instant

PAGE = 50


class InboxRepository(abc.ABC):
    """Inbox items per recipient; see the module docstring."""

    @abc.abstractmethod
    def deliver(self, item: InboxItem) -> bool:
        """Store ``item`` unless an item with its dedupe key exists; True when it was new."""

    @abc.abstractmethod
    def list(self, recipient: str, *, unread_only: bool = False, offset: int = 0,
             limit: int = PAGE) -> Sequence[InboxItem]:
        """The recipient's items (only the unread ones when ``unread_only``), newest first."""

    @abc.abstractmethod
    def unread_count(self, recipient: str) -> int:
        """How many of the recipient's items are unread."""

    @abc.abstractmethod
    def mark_read(self, recipient: str, ids: Collection[str], at: Instant) -> int:
        """Mark the recipient's unread items among ``ids`` read at ``at``; return how many changed (ids of
        other recipients' items, unknown ids and items already read are not counted)."""
