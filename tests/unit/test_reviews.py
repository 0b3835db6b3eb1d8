"""``platform.reviews`` on memory (acceptance 1 of issue 6): once per completed order inside the window,
double-blind visibility with a fake clock, the therapist's private rating and flag, one reply; every illegal
action refused with a stable code (decision 0037)."""

from __future__ import annotations

import pytest

from conftest import Kit, MakeKit, Person
from massage_core.domain.access import Actor
from massage_core.domain.audit import AuditOutcome
from massage_core.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from massage_core.domain.reviews import ModerationState, Tag
from massage_core.services.base import Policies
from order_kit import catalogue, make_public
from review_kit import PHONE_TEXT, SYSTEM, later, order_in, refused, submit
from search_support import Shop


def test_a_clean_review_is_approved_but_hidden_until_the_therapist_rates_back(
        kit: Kit, shop: Shop, customer: Person, therapist: Person) -> None:
    reviews = kit.platform.reviews
    order = order_in(kit, shop, customer, therapist)
    made = submit(kit, customer, order, "Very skilled, on time", tags=["Punctual", "skilled", "punctual"])
    assert (made.state, made.reason, made.visible, made.order_id, made.customer_id) == (
        ModerationState.APPROVED, None, False, order, customer.account_id)
    assert (made.attitude, made.skill, made.pressure, made.overall) == (5, 4, 3, 4.0)
    assert made.tags == (Tag.PUNCTUAL, Tag.SKILLED)
    assert [r.id for r in reviews.mine(customer.actor)] == [made.id]
    # blind: neither the public nor the therapist sees it
    assert reviews.for_therapist(Actor.anonymous(), therapist.account_id) == []
    assert reviews.about_me(therapist.actor) == []
    refused(NotFound, "not_found", reviews.get, therapist.actor, made.id)
    refused(NotFound, "not_found", reviews.get, Actor.anonymous(), made.id)
    assert reviews.rating(Actor.anonymous(), therapist.account_id).count == 0
    # the therapist rates the customer: both sides reviewed, the blind lifts
    feedback = reviews.rate_customer(therapist.actor, order, 4, "polite, on time")
    assert (feedback.stars, feedback.note, feedback.customer_id) == (4, "polite, on time", customer.account_id)
    [public] = reviews.for_therapist(Actor.anonymous(), therapist.account_id)
    assert (public.id, public.customer_id, public.order_id, public.visible) == (made.id, None, None, True)
    [seen] = reviews.about_me(therapist.actor)
    assert seen.customer_id == customer.account_id
    assert reviews.get(Actor.anonymous(), made.id).text == "Very skilled, on time"
    assert reviews.rating(Actor.anonymous(), therapist.account_id).count == 1


def test_the_blind_lifts_when_the_window_closes(kit: Kit, shop: Shop, customer: Person, therapist: Person) -> None:
    reviews = kit.platform.reviews
    made = submit(kit, customer, order_in(kit, shop, customer, therapist))
    later(kit, days=7, seconds=-1)
    assert reviews.for_therapist(SYSTEM, therapist.account_id) == []
    later(kit, seconds=1)  # exactly 7 days after completion
    assert [r.id for r in reviews.for_therapist(SYSTEM, therapist.account_id)] == [made.id]
    assert reviews.get(therapist.actor, made.id).visible


def test_a_review_submitted_after_the_therapist_rated_is_visible_at_once(
        kit: Kit, shop: Shop, customer: Person, therapist: Person) -> None:
    order = order_in(kit, shop, customer, therapist)
    kit.platform.reviews.rate_customer(therapist.actor, order, 2)
    made = submit(kit, customer, order)
    assert made.visible and kit.platform.reviews.get(Actor.anonymous(), made.id).id == made.id


def test_the_window_is_configurable_and_a_late_review_or_rating_is_refused(
        make_kit: MakeKit) -> None:
    kit = make_kit(policies=Policies(review_window_days=2))
    shop = catalogue(kit.platform)
    customer, therapist = kit.customer_by_phone(), kit.therapist()
    make_public(kit.platform, therapist.account_id, shop)
    order = order_in(kit, shop, customer, therapist)
    later(kit, days=2)
    refused(Conflict, "review.window_closed", submit, kit, customer, order)
    refused(Conflict, "review.window_closed", kit.platform.reviews.rate_customer, therapist.actor, order, 3)


def test_only_a_completed_order_may_be_reviewed_and_only_once(
        kit: Kit, shop: Shop, customer: Person, therapist: Person) -> None:
    finished = order_in(kit, shop, customer, therapist, "finished")
    refused(Conflict, "review.not_completed", submit, kit, customer, finished)
    refused(Conflict, "review.not_completed", kit.platform.reviews.rate_customer, therapist.actor, finished, 3)
    order = order_in(kit, shop, customer, therapist)
    submit(kit, customer, order)
    refused(Conflict, "review.duplicate", submit, kit, customer, order, "again")
    assert len(kit.platform.reviews.mine(customer.actor)) == 1


def test_somebody_elses_order_looks_missing_and_the_denial_is_audited(
        kit: Kit, shop: Shop, customer: Person, therapist: Person) -> None:
    order = order_in(kit, shop, customer, therapist)
    stranger, other_therapist = kit.customer_by_phone(), kit.therapist()
    before = len(kit.denied_entries())
    refused(NotFound, "not_found", submit, kit, stranger, order)
    refused(NotFound, "not_found", submit, kit, stranger, "ord_" + "Z" * 26)
    refused(NotFound, "not_found", kit.platform.reviews.rate_customer, other_therapist.actor, order, 3)
    refused(NotFound, "not_found", kit.platform.reviews.flag_customer, other_therapist.actor, order, "rude")
    denied = kit.denied_entries()[before:]
    assert [(e.action, e.target) for e in denied] == [  # (a missing order is no denial: nothing to audit)
        ("reviews.submit", order), ("reviews.rate_customer", order), ("reviews.flag_customer", order)]


def test_roles_are_checked(kit: Kit, shop: Shop, customer: Person, therapist: Person) -> None:
    order = order_in(kit, shop, customer, therapist)
    refused(PermissionDenied, "permission_denied", submit, kit, therapist, order)
    refused(PermissionDenied, "permission_denied", kit.platform.reviews.rate_customer, customer.actor, order, 3)
    refused(ValidationError, "actor.no_account", kit.platform.reviews.submit, SYSTEM, order, attitude=5, skill=5,
            pressure=5)


@pytest.mark.parametrize(("changes", "code"), [
    ({"attitude": 0}, "review.score"), ({"skill": 6}, "review.score"), ({"pressure": True}, "review.score"),
    ({"attitude": "5"}, "review.score"), ({"pressure": 4.5}, "review.score"),
    ({"text": "x" * 501}, "review.text"), ({"text": None}, "review.text"),
    ({"tags": ["splendid"]}, "review.tag"), ({"tags": "punctual"}, "review.tag"),
    ({"tags": ["punctual", "skilled", "clean", "friendly", "relaxing", "late"]}, "review.tag"),
])
def test_bad_input_is_refused_and_nothing_is_stored(kit: Kit, shop: Shop, customer: Person, therapist: Person,
                                                     changes: dict[str, object], code: str) -> None:
    order = order_in(kit, shop, customer, therapist)
    args: dict[str, object] = {"attitude": 5, "skill": 5, "pressure": 5, "text": "ok"}
    args.update(changes)
    refused(ValidationError, code, kit.platform.reviews.submit, customer.actor, order, **args)
    assert kit.platform.reviews.mine(customer.actor) == []


def test_a_malformed_id_is_refused(kit: Kit, customer: Person) -> None:
    refused(ValidationError, "invalid_id", kit.platform.reviews.submit, customer.actor, "rev_1", attitude=5,
            skill=5, pressure=5)
    refused(ValidationError, "invalid_id", kit.platform.reviews.get, customer.actor, "ord_" + "0" * 26)


def test_the_therapist_rates_once_privately(kit: Kit, shop: Shop, customer: Person, therapist: Person) -> None:
    reviews = kit.platform.reviews
    order = order_in(kit, shop, customer, therapist)
    refused(ValidationError, "review.score", reviews.rate_customer, therapist.actor, order, 0)
    refused(ValidationError, "review.note", reviews.rate_customer, therapist.actor, order, 3, "n" * 501)
    reviews.rate_customer(therapist.actor, order, 1, "kept me waiting")
    refused(Conflict, "review.rated_duplicate", reviews.rate_customer, therapist.actor, order, 5)
    made = submit(kit, customer, order)
    mine = reviews.mine(customer.actor)
    assert "kept me waiting" not in repr(mine) and "kept me waiting" not in repr(reviews.get(customer.actor, made.id))


def test_a_flag_is_audited_once_per_order_and_read_by_support_only(
        kit: Kit, shop: Shop, customer: Person, therapist: Person) -> None:
    reviews = kit.platform.reviews
    order = order_in(kit, shop, customer, therapist, "accepted")  # any state of the therapist's order
    refused(ValidationError, "review.reason", reviews.flag_customer, therapist.actor, order, "  ")
    flagged = reviews.flag_customer(therapist.actor, order, "shouted and threatened me")
    assert (flagged.flag_reason, flagged.customer_id) == ("shouted and threatened me", customer.account_id)
    last = kit.audit_entries()[-1]
    assert (last.action, last.target, last.outcome, dict(last.details)) == (
        "reviews.flag_customer", order, AuditOutcome.OK, {"customer": customer.account_id})
    refused(Conflict, "review.flag_duplicate", reviews.flag_customer, therapist.actor, order, "again")
    [seen] = reviews.flags(kit.support().actor)
    assert (seen.order_id, seen.flag_reason, seen.therapist_id) == (order, "shouted and threatened me",
                                                                    therapist.account_id)
    refused(PermissionDenied, "permission_denied", reviews.flags, kit.finance().actor)
    refused(PermissionDenied, "permission_denied", reviews.flags, customer.actor)


def test_a_rating_after_a_flag_keeps_the_flag(kit: Kit, shop: Shop, customer: Person, therapist: Person) -> None:
    reviews = kit.platform.reviews
    order = order_in(kit, shop, customer, therapist)
    reviews.flag_customer(therapist.actor, order, "rude")
    rated = reviews.rate_customer(therapist.actor, order, 1)
    assert (rated.stars, rated.flag_reason, rated.flagged) == (1, "rude", True)


def test_the_therapist_replies_once_to_a_review_they_can_see(
        kit: Kit, shop: Shop, customer: Person, therapist: Person) -> None:
    reviews = kit.platform.reviews
    order = order_in(kit, shop, customer, therapist)
    made = submit(kit, customer, order)
    refused(NotFound, "not_found", reviews.reply, therapist.actor, made.id, "thanks")  # still blind
    reviews.rate_customer(therapist.actor, order, 5)
    refused(NotFound, "not_found", reviews.reply, kit.therapist().actor, made.id, "thanks")  # not theirs
    refused(PermissionDenied, "permission_denied", reviews.reply, customer.actor, made.id, "thanks")
    refused(ValidationError, "review.reply", reviews.reply, therapist.actor, made.id, " ")
    answered = reviews.reply(therapist.actor, made.id, "Thank you, see you soon")
    assert answered.reply is not None and answered.reply.state is ModerationState.APPROVED
    refused(Conflict, "review.reply_duplicate", reviews.reply, therapist.actor, made.id, "again")
    public = reviews.get(Actor.anonymous(), made.id)
    assert public.reply is not None and public.reply.text == "Thank you, see you soon"


def test_a_screened_reply_waits_for_moderation_and_its_outcome_reaches_the_therapist(
        kit: Kit, shop: Shop, customer: Person, therapist: Person) -> None:
    reviews = kit.platform.reviews
    order = order_in(kit, shop, customer, therapist)
    made = submit(kit, customer, order)
    reviews.rate_customer(therapist.actor, order, 5)
    pending = reviews.reply(therapist.actor, made.id, "book me directly: wechat: lily_8899")
    assert pending.reply is not None and pending.reply.state is ModerationState.PENDING
    assert pending.reply.findings == ("contact_id",)
    assert reviews.get(Actor.anonymous(), made.id).reply is None
    assert reviews.get(customer.actor, made.id).reply is None
    support = kit.support()
    assert [r.id for r in reviews.queue(support.actor)] == [made.id]
    reviews.reject(support.actor, made.id, "contact details", reply=True)
    [mine] = reviews.about_me(therapist.actor)
    assert mine.reply is not None and (mine.reply.state, mine.reply.reason) == (ModerationState.REJECTED,
                                                                              "contact details")
    assert reviews.get(Actor.anonymous(), made.id).reply is None
    assert reviews.queue(support.actor) == []


def test_a_flagged_review_is_pending_and_the_author_sees_it(
        kit: Kit, shop: Shop, customer: Person, therapist: Person) -> None:
    order = order_in(kit, shop, customer, therapist)
    made = submit(kit, customer, order, PHONE_TEXT)
    assert (made.state, made.findings) == (ModerationState.PENDING, ("phone",))
    kit.platform.reviews.rate_customer(therapist.actor, order, 5)
    assert kit.platform.reviews.for_therapist(SYSTEM, therapist.account_id) == []
    refused(NotFound, "not_found", kit.platform.reviews.get, therapist.actor, made.id)
    assert kit.platform.reviews.get(customer.actor, made.id).state is ModerationState.PENDING
