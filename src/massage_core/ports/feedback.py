"""The feedback repository (``uow.feedback``): feedback, suggestions and bug reports with admins' replies.

An item is stored whole (its replies included) with an optimistic ``version``; ``save`` refuses a stale copy.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from massage_core.domain.feedback import Feedback, FeedbackId, FeedbackState
from massage_core.domain.ids import AccountId

PAGE = 50
"""The default page size of the lists."""


class FeedbackRepository(abc.ABC):
    """Feedback by id, by author and by state; see the module docstring."""

    @abc.abstractmethod
    def add(self, item: Feedback) -> Feedback:
        """Store new feedback; return it with version 1.  Conflict ``feedback.duplicate`` for a taken id; on SQL
        ``conflict.reference`` for an unknown author."""

    @abc.abstractmethod
    def get(self, ident: FeedbackId) -> Feedback:
        """The item, or NotFound."""

    @abc.abstractmethod
    def save(self, item: Feedback) -> Feedback:
        """Store the changes of a loaded item (new replies are appended); return it with version + 1.  Conflict
        ``conflict.stale`` when the stored version differs, NotFound when there is none."""

    @abc.abstractmethod
    def for_author(self, author_id: AccountId, *, offset: int = 0, limit: int = PAGE) -> Sequence[Feedback]:
        """The author's items, newest first."""

    @abc.abstractmethod
    def list(self, state: FeedbackState | None = None, *, offset: int = 0, limit: int = PAGE) -> Sequence[Feedback]:
        """Items (in ``state`` when given), oldest first (the admins' queue)."""
