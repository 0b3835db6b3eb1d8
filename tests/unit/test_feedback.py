"""``platform.feedback`` on memory (decision 0038): any signed-in account submits; admins list the queue and
reply; the author reads their own with the replies; somebody else's looks missing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from conftest import Kit
from massage_core.domain.access import Actor
from massage_core.domain.audit import AuditOutcome
from massage_core.domain.errors import Conflict, MassageError, NotFound, PermissionDenied, ValidationError
from massage_core.domain.feedback import REPLIES_MAX, FeedbackKind, FeedbackState
from massage_core.services.feedback import PLATFORM

SYSTEM = Actor.system()


def raises(error: type[MassageError], code: str, call: Callable[[], object]) -> None:
    with pytest.raises(error) as caught:
        call()
    assert caught.value.code == code, caught.value


def test_submit_reply_and_read_the_reply(kit: Kit) -> None:
    feedback = kit.platform.feedback
    author, support = kit.customer_by_phone(), kit.support()
    sent = feedback.submit(author.actor, "suggestion", "  Please add foot massage packages.  ")
    assert (sent.kind, sent.text, sent.state, sent.replies) == (
        FeedbackKind.SUGGESTION, "Please add foot massage packages.", FeedbackState.OPEN, ())
    assert [f.id for f in feedback.list(support.actor, "open").items] == [sent.id]
    kit.clock.advance(dt.timedelta(hours=1))
    replied = feedback.reply(support.actor, sent.id, "Thanks, coming next month.")
    assert replied.state is FeedbackState.ANSWERED
    assert [(r.admin_id, r.text) for r in replied.replies] == [(support.account_id, "Thanks, coming next month.")]
    [mine] = feedback.mine(author.actor).items
    assert (mine.state, [(r.admin_id, r.text) for r in mine.replies]) == (
        FeedbackState.ANSWERED, [(PLATFORM, "Thanks, coming next month.")])
    assert feedback.get(author.actor, sent.id) == mine
    assert feedback.list(support.actor, FeedbackState.OPEN).items == ()
    assert [f.id for f in feedback.list(support.actor, "answered").items] == [sent.id]
    [entry] = [e for e in kit.audit_entries() if e.action == "feedback.reply"]
    assert (entry.actor, entry.target, entry.outcome) == (support.account_id, sent.id, AuditOutcome.OK)


def test_every_kind_of_account_may_submit_but_not_the_system_or_nobody(kit: Kit) -> None:
    feedback = kit.platform.feedback
    for person in (kit.customer_by_phone(), kit.therapist(), kit.finance(), kit.superadmin()):
        assert feedback.submit(person.actor, "bug", "The map does not load.").state is FeedbackState.OPEN
    raises(PermissionDenied, "permission_denied", lambda: feedback.submit(Actor.anonymous(), "bug", "x"))
    raises(ValidationError, "actor.no_account", lambda: feedback.submit(SYSTEM, "bug", "x"))


def test_bad_input(kit: Kit) -> None:
    feedback, author = kit.platform.feedback, kit.customer_by_phone()
    raises(ValidationError, "feedback.kind", lambda: feedback.submit(author.actor, "praise", "x"))
    raises(ValidationError, "feedback.text", lambda: feedback.submit(author.actor, "bug", "   "))
    raises(ValidationError, "feedback.text", lambda: feedback.submit(author.actor, "bug", "x" * 2001))
    sent = feedback.submit(author.actor, "feedback", "ok")
    support = kit.support()
    raises(ValidationError, "feedback.reply", lambda: feedback.reply(support.actor, sent.id, ""))
    raises(ValidationError, "feedback.state", lambda: feedback.list(support.actor, "closed"))
    raises(ValidationError, "invalid_id", lambda: feedback.get(author.actor, "fbk_x"))
    raises(ValidationError, "page.limit", lambda: feedback.mine(author.actor, limit=0))
    raises(ValidationError, "actor.no_account", lambda: feedback.reply(SYSTEM, sent.id, "hi"))
    for n in range(REPLIES_MAX):
        feedback.reply(support.actor, sent.id, f"reply {n}")
    raises(Conflict, "feedback.too_many_replies", lambda: feedback.reply(support.actor, sent.id, "one more"))


def test_somebody_elses_feedback_looks_missing_and_the_queue_is_for_admins(kit: Kit) -> None:
    feedback = kit.platform.feedback
    author, other = kit.customer_by_phone(), kit.therapist()
    sent = feedback.submit(author.actor, "feedback", "Great service")
    denied = len(kit.denied_entries())
    raises(NotFound, "not_found", lambda: feedback.get(other.actor, sent.id))
    assert len(kit.denied_entries()) == denied + 1
    assert feedback.mine(other.actor).items == ()
    for outsider in (author, other, kit.finance(), kit.auditor()):
        raises(PermissionDenied, "permission_denied", lambda outsider=outsider: feedback.list(outsider.actor))
        raises(PermissionDenied, "permission_denied",
               lambda outsider=outsider: feedback.reply(outsider.actor, sent.id, "hi"))
    assert feedback.get(kit.superadmin().actor, sent.id).text == "Great service"
    assert [f.id for f in feedback.list(SYSTEM).items] == [sent.id]


def test_the_queue_is_paged_oldest_first_and_mine_newest_first(kit: Kit) -> None:
    feedback, author = kit.platform.feedback, kit.customer_by_phone()
    sent = []
    for n in range(3):
        sent.append(feedback.submit(author.actor, "feedback", f"note {n}").id)
        kit.clock.advance(dt.timedelta(minutes=1))
    assert [f.id for f in feedback.list(SYSTEM, offset=1, limit=1).items] == [sent[1]]
    assert [f.id for f in feedback.mine(author.actor).items] == sent[::-1]


def test_a_staff_read_of_somebody_elses_item_is_audited(kit: Kit) -> None:
    author, support = kit.customer_by_phone(), kit.support()
    sent = kit.platform.feedback.submit(author.actor, "bug", "The map does not load.")
    own = kit.platform.feedback.submit(support.actor, "feedback", "The queue could be sorted by kind.")
    kit.platform.feedback.get(author.actor, sent.id)  # the author's, the system's and staff reading their own item:
    kit.platform.feedback.get(SYSTEM, sent.id)  # not audited
    kit.platform.feedback.get(support.actor, own.id)
    assert kit.platform.feedback.get(support.actor, sent.id).text == "The map does not load."
    reads = [(e.actor, e.target, e.outcome) for e in kit.audit_entries() if e.action == "feedback.get"]
    assert reads == [(support.account_id, sent.id, AuditOutcome.OK)]
