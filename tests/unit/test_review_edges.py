"""Review R1 of issue 6 (acceptance 1): the last second of the review window is still inside it, the ratings job
refuses a bad limit, and what the author of a rejected or masked review sees (decision 0037)."""

from __future__ import annotations

import pytest

from conftest import Kit, MakeKit, Person
from massage_core.domain.access import Actor
from massage_core.domain.errors import NotFound, PermissionDenied, ValidationError
from massage_core.domain.reviews import ModerationState
from massage_core.services.base import Policies
from order_kit import catalogue, make_public
from review_kit import PHONE_TEXT, SYSTEM, later, order_in, refused, submit
from search_support import Shop


def test_the_last_second_of_the_window_is_inside_it(make_kit: MakeKit) -> None:
    kit = make_kit(policies=Policies(review_window_days=2))
    shop = catalogue(kit.platform)
    customer, therapist = kit.customer_by_phone(), kit.therapist()
    make_public(kit.platform, therapist.account_id, shop)
    order = order_in(kit, shop, customer, therapist)
    later(kit, days=2, seconds=-1)
    made = submit(kit, customer, order)
    assert (made.state, made.visible) == (ModerationState.APPROVED, False)
    rated = kit.platform.reviews.rate_customer(therapist.actor, order, 4)
    assert rated.stars == 4
    assert kit.platform.reviews.get(Actor.anonymous(), made.id).visible  # the blind lifted by the rating


@pytest.mark.parametrize("limit", [0, -1, 10_001, True, "5", 2.0])
def test_the_ratings_job_refuses_a_bad_limit(kit: Kit, limit: object) -> None:
    refused(ValidationError, "jobs.limit", kit.platform.reviews.release_due, SYSTEM, limit=limit)


def test_the_ratings_job_needs_jobs_run(kit: Kit, customer: Person, therapist: Person) -> None:
    for person in (customer, therapist, kit.support()):
        refused(PermissionDenied, "permission_denied", kit.platform.reviews.release_due, person.actor)
    assert kit.platform.reviews.release_due(SYSTEM, limit=1) == 0


def test_a_rejected_review_stays_hidden_from_everybody_but_its_author_and_moderators(
        kit: Kit, shop: Shop, customer: Person, therapist: Person) -> None:
    reviews, support = kit.platform.reviews, kit.support()
    order = order_in(kit, shop, customer, therapist)
    made = submit(kit, customer, order, PHONE_TEXT)
    reviews.rate_customer(therapist.actor, order, 5)
    reviews.reject(support.actor, made.id, "contact details")
    for reader in (Actor.anonymous(), therapist.actor, kit.customer_by_phone().actor):
        refused(NotFound, "not_found", reviews.get, reader, made.id)
    refused(NotFound, "not_found", reviews.reply, therapist.actor, made.id, "thanks")
    assert reviews.about_me(therapist.actor) == []
    mine = reviews.get(customer.actor, made.id)
    assert (mine.state, mine.reason) == (ModerationState.REJECTED, "contact details")
    assert reviews.get(support.actor, made.id).findings == ("phone",)



def test_reply_moderation_is_audited_with_its_part(kit: Kit, shop: Shop, customer: Person,
                                                   therapist: Person) -> None:
    reviews, support = kit.platform.reviews, kit.support()
    order = order_in(kit, shop, customer, therapist)
    made = submit(kit, customer, order)
    reviews.rate_customer(therapist.actor, order, 5)
    reviews.reply(therapist.actor, made.id, "call me: 138 0013 8000")
    reviews.mask(support.actor, made.id, reply=True)
    last = kit.audit_entries()[-1]
    assert (last.action, last.target, last.actor, dict(last.details)) == (
        "reviews.mask", made.id, support.account_id, {"part": "reply", "spans": "9-22"})
    assert "0013" not in repr(reviews.get(Actor.anonymous(), made.id))


def test_a_rejected_text_keeps_no_contact_details_in_clear(kit: Kit, shop: Shop, customer: Person,
                                                           therapist: Person) -> None:
    """A rejected review or reply is never public, so what the screener found in it (the reason it waited) is
    masked in the stored text; the author still sees the outcome and the reason."""
    reviews, support = kit.platform.reviews, kit.support()
    order = order_in(kit, shop, customer, therapist)
    made = submit(kit, customer, order, PHONE_TEXT)
    reviews.rate_customer(therapist.actor, order, 5)
    rejected = reviews.reject(support.actor, made.id, "contact details")
    assert rejected.text == "great massage, add me: " + "*" * 13
    assert "0013" not in repr(kit.tables.reviews[made.id])
    mine = reviews.get(customer.actor, made.id)
    assert (mine.state, mine.reason, mine.text) == (ModerationState.REJECTED, "contact details", rejected.text)
    clean = submit(kit, customer, order_in(kit, shop, customer, therapist), "fine, but rushed")
    assert reviews.reject(support.actor, clean.id, "off-topic").text == "fine, but rushed"  # nothing to mask
    other = order_in(kit, shop, customer, therapist)
    answered = submit(kit, customer, other)
    reviews.rate_customer(therapist.actor, other, 5)
    reviews.reply(therapist.actor, answered.id, "wechat: lily_8899 for a discount")
    shown = reviews.reject(support.actor, answered.id, "contact details", reply=True)
    assert shown.reply is not None and shown.reply.text == "wechat: ********* for a discount"
