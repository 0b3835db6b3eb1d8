"""The feedback context (``platform.feedback``; C10, A1): feedback, suggestions and bug reports to the platform,
with the admins' replies (decision 0038).

Any signed-in account (``own_account.manage``: customers, therapists, admins) ``submit``s and reads its own
(``mine``, ``get``), replies included; ``feedback.manage`` (support, superadmin, the system) ``list``s the queue
(paged, by state), reads any item (audited when it is somebody else's) and ``reply``s (audited).  Somebody
else's item looks missing (NotFound).
"""

from __future__ import annotations

from attrs import frozen

from massage_core.domain.access import Actor, Permission
from massage_core.domain.errors import ValidationError
from massage_core.domain.feedback import (
    Feedback,
    FeedbackId,
    FeedbackKind,
    FeedbackReply,
    FeedbackState,
    feedback_id,
    feedback_state,
)
from massage_core.domain.ids import AccountId
from massage_core.domain.time import Instant
from massage_core.ports.feedback import PAGE
from massage_core.services.base import Service, not_found, page_bounds

PLATFORM = "platform"


@frozen
class FeedbackView:
    """One item as its author or an admin sees it; the author sees ``platform`` as the replying admin."""

    id: FeedbackId
    author_id: AccountId
    kind: FeedbackKind
    text: str
    submitted_at: Instant
    state: FeedbackState
    replies: tuple[FeedbackReply, ...]

    @classmethod
    def of(cls, item: Feedback, *, staff: bool) -> FeedbackView:
        replies = item.replies if staff else tuple(
            FeedbackReply(r.at, AccountId(PLATFORM), r.text) for r in item.replies)
        return cls(item.id, item.author_id, item.kind, item.text, item.submitted_at, item.state, replies)


@frozen
class FeedbackPage:
    """One page of feedback."""

    items: tuple[FeedbackView, ...]
    offset: int
    limit: int


class FeedbackService(Service):
    """``platform.feedback``: see the module docstring."""

    def _author(self, actor: Actor, action: str) -> AccountId:
        self._require(actor, Permission.OWN_ACCOUNT_MANAGE, action, actor.label)
        if actor.account_id is None:
            raise ValidationError("the system has no account of its own", code="actor.no_account")
        return actor.account_id

    def submit(self, actor: Actor, kind: FeedbackKind | str, text: str) -> FeedbackView:
        """Send feedback, a suggestion or a bug report (``kind``) with a text of 1..2000 characters.

        Errors: PermissionDenied (not signed in), ValidationError ``actor.no_account`` (the system),
        ``feedback.kind``, ``feedback.text``.
        """
        me = self._author(actor, "feedback.submit")
        now = self._now()
        made = Feedback.submit(FeedbackId(self._deps.ids.new_id("feedback")), me, kind, text, now)
        with self._uow() as uow:
            saved = uow.feedback.add(made)
            uow.commit()
        return FeedbackView.of(saved, staff=False)

    def mine(self, actor: Actor, *, offset: int = 0, limit: int = PAGE) -> FeedbackPage:
        """The acting account's items with their replies, newest first.  Errors: PermissionDenied,
        ValidationError ``actor.no_account``, ``page.offset``, ``page.limit``."""
        me = self._author(actor, "feedback.mine")
        offset, limit = page_bounds(offset, limit)
        with self._uow() as uow:
            found = uow.feedback.for_author(me, offset=offset, limit=limit)
        return FeedbackPage(tuple(FeedbackView.of(f, staff=False) for f in found), offset, limit)

    def get(self, actor: Actor, item: str) -> FeedbackView:
        """One item: its author, or ``feedback.manage`` (audited when staff read somebody else's).  Errors:
        PermissionDenied (not signed in), ValidationError ``invalid_id``, NotFound (missing or somebody
        else's)."""
        target = feedback_id(item)
        staff = actor.may(Permission.FEEDBACK_MANAGE)
        if not staff:
            self._require(actor, Permission.OWN_ACCOUNT_MANAGE, "feedback.get", target)
        with self._guard(actor, "feedback.get", target), self._uow() as uow:
            found = uow.feedback.get(target)
            if not staff and found.author_id != actor.account_id:
                raise not_found("feedback", target)
            if staff and not actor.is_system and not actor.owns(found.author_id):
                self._audit_ok(uow, actor, "feedback.get", target, self._now())
                uow.commit()
        return FeedbackView.of(found, staff=staff)

    def list(self, actor: Actor, state: FeedbackState | str | None = None, *, offset: int = 0,
             limit: int = PAGE) -> FeedbackPage:
        """Every item (in ``state`` when given: open, answered), oldest first (``feedback.manage``).
        Errors: PermissionDenied, ValidationError ``feedback.state``, ``page.offset``, ``page.limit``."""
        self._require(actor, Permission.FEEDBACK_MANAGE, "feedback.list", "feedback")
        wanted = None if state is None else feedback_state(state)
        offset, limit = page_bounds(offset, limit)
        with self._uow() as uow:
            found = uow.feedback.list(wanted, offset=offset, limit=limit)
        return FeedbackPage(tuple(FeedbackView.of(f, staff=True) for f in found), offset, limit)

    def reply(self, actor: Actor, item: str, text: str) -> FeedbackView:
        """A named admin (``feedback.manage``) replies (1..2000 characters); the item is answered.  Audited.

        Errors: PermissionDenied, ValidationError ``actor.no_account`` / ``invalid_id`` / ``feedback.reply``,
        NotFound, Conflict ``feedback.too_many_replies`` / ``conflict.stale``.
        """
        target = feedback_id(item)
        self._require(actor, Permission.FEEDBACK_MANAGE, "feedback.reply", target)
        if actor.account_id is None:
            raise ValidationError("a named admin replies, not the system", code="actor.no_account")
        now = self._now()
        with self._uow() as uow:
            current = uow.feedback.get(target)
            saved = uow.feedback.save(current.reply(actor.account_id, now, text))
            self._audit_ok(uow, actor, "feedback.reply", target, now, replies=str(len(saved.replies)))
            uow.commit()
        return FeedbackView.of(saved, staff=True)
