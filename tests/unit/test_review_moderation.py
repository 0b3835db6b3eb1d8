"""Review moderation (approve, reject with a reason, mask by spans or by the screener's findings; audited),
and the Bayesian ratings fed to search, against hand-computed figures (decision 0037)."""

from __future__ import annotations

import pendulum
import pytest

from conftest import Kit, MakeKit, Person
from massage_core.domain.access import Actor
from massage_core.domain.audit import AuditOutcome
from massage_core.domain.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationError
from massage_core.domain.review_ratings import ScoreSums, TherapistRating, bayesian
from massage_core.domain.reviews import ModerationAction, ModerationState, Moderation, allowed_moderation
from massage_core.domain.search import PRIOR, Rating, RatingPrior
from massage_core.services.base import Policies
from order_kit import LAT, LNG, catalogue, make_public
from review_kit import PHONE_TEXT, SYSTEM, later, order_in, refused, search_rating, submit
from search_support import Shop

AT = pendulum.datetime(2026, 1, 5, tz="UTC")


def public_pending(kit: Kit, shop: Shop, customer: Person, therapist: Person, text: str = PHONE_TEXT) -> str:
    """A review that waits for moderation, with the blind already lifted."""
    order = order_in(kit, shop, customer, therapist)
    made = submit(kit, customer, order, text)
    kit.platform.reviews.rate_customer(therapist.actor, order, 5)
    return made.id


def test_approval_publishes_and_is_audited(kit: Kit, shop: Shop, customer: Person, therapist: Person) -> None:
    reviews, support = kit.platform.reviews, kit.support()
    made = public_pending(kit, shop, customer, therapist)
    assert search_rating(kit, therapist) is None
    approved = reviews.approve(support.actor, made)
    assert (approved.state, approved.text) == (ModerationState.APPROVED, PHONE_TEXT)
    last = kit.audit_entries()[-1]
    assert (last.action, last.target, last.actor, last.outcome, dict(last.details)) == (
        "reviews.approve", made, support.account_id, AuditOutcome.OK, {"part": "review"})
    assert [r.id for r in reviews.for_therapist(SYSTEM, therapist.account_id)] == [made]
    assert search_rating(kit, therapist) == Rating(4.0, 1)
    refused(InvalidTransition, "invalid_transition", reviews.approve, support.actor, made)


def test_rejection_needs_a_reason_the_author_sees_and_takes_the_review_out_of_the_rating(
        kit: Kit, shop: Shop, customer: Person, therapist: Person) -> None:
    reviews, support = kit.platform.reviews, kit.support()
    order = order_in(kit, shop, customer, therapist)
    made = submit(kit, customer, order, "fine").id
    reviews.rate_customer(therapist.actor, order, 5)
    assert search_rating(kit, therapist) == Rating(4.0, 1)
    refused(ValidationError, "review.reason", reviews.reject, support.actor, made, " ")
    rejected = reviews.reject(support.actor, made, "  off-topic  ")
    assert (rejected.state, rejected.reason) == (ModerationState.REJECTED, "off-topic")
    [mine] = reviews.mine(customer.actor)
    assert (mine.state, mine.reason) == (ModerationState.REJECTED, "off-topic")
    assert reviews.for_therapist(SYSTEM, therapist.account_id) == []
    assert search_rating(kit, therapist) is None
    assert reviews.rating(SYSTEM, therapist.account_id).count == 0
    last = kit.audit_entries()[-1]
    assert (last.action, dict(last.details)) == ("reviews.reject", {"part": "review", "reason": "off-topic"})
    refused(InvalidTransition, "invalid_transition", reviews.reject, support.actor, made, "again")
    refused(InvalidTransition, "invalid_transition", reviews.mask, support.actor, made, [(0, 1)])


def test_masking_by_the_screeners_findings(kit: Kit, shop: Shop, customer: Person, therapist: Person) -> None:
    reviews, support = kit.platform.reviews, kit.support()
    made = public_pending(kit, shop, customer, therapist)
    masked = reviews.mask(support.actor, made)
    assert masked.text == "great massage, add me: *************"
    assert (masked.state, masked.masked) == (ModerationState.APPROVED, True)
    assert reviews.get(Actor.anonymous(), made).text == "great massage, add me: *************"
    assert dict(kit.audit_entries()[-1].details) == {"part": "review", "spans": "23-36"}


def test_masking_by_spans_and_bad_spans(kit: Kit, shop: Shop, customer: Person, therapist: Person) -> None:
    reviews, support = kit.platform.reviews, kit.support()
    made = public_pending(kit, shop, customer, therapist, "good but rude words here")
    for spans in ([], [(5, 5)], [(-1, 2)], [(20, 99)], "0-3", [(0,)], [(True, 2)]):
        refused(ValidationError, "review.mask", reviews.mask, support.actor, made, spans)
    refused(ValidationError, "review.mask", reviews.mask, support.actor, made)  # the screener finds nothing
    masked = reviews.mask(support.actor, made, [(9, 13), (14, 19)])
    assert masked.text == "good but **** ***** here"
    again = reviews.mask(support.actor, made, [(0, 4)])  # an approved review may be masked further
    assert again.text == "**** but **** ***** here"


def test_moderation_needs_the_permission(kit: Kit, shop: Shop, customer: Person, therapist: Person) -> None:
    reviews = kit.platform.reviews
    made = public_pending(kit, shop, customer, therapist)
    for person in (kit.finance(), kit.auditor(), customer, therapist):
        refused(PermissionDenied, "permission_denied", reviews.approve, person.actor, made)
        refused(PermissionDenied, "permission_denied", reviews.reject, person.actor, made, "no")
        refused(PermissionDenied, "permission_denied", reviews.mask, person.actor, made)
        refused(PermissionDenied, "permission_denied", reviews.queue, person.actor)
    assert reviews.get(customer.actor, made).state is ModerationState.PENDING
    assert reviews.approve(kit.superadmin().actor, made).state is ModerationState.APPROVED


def test_the_queue_is_oldest_first_and_reply_moderation_needs_a_reply(
        kit: Kit, shop: Shop, customer: Person, therapist: Person) -> None:
    reviews, support = kit.platform.reviews, kit.support()
    first = public_pending(kit, shop, customer, therapist)
    later(kit, minutes=1)
    second = public_pending(kit, shop, customer, therapist, "email me at lily@example.com")
    assert [r.id for r in reviews.queue(support.actor)] == [first, second]
    assert [r.id for r in reviews.queue(support.actor, offset=1, limit=1)] == [second]
    refused(ValidationError, "page.limit", reviews.queue, support.actor, limit=0)
    refused(Conflict, "review.no_reply", reviews.approve, support.actor, first, reply=True)
    reviews.approve(support.actor, first)
    reviews.reply(therapist.actor, first, "see you: http://example.com/lily")
    [waiting, _] = reviews.queue(support.actor)
    assert waiting.id == first and waiting.reply is not None and waiting.reply.findings == ("link",)
    shown = reviews.mask(support.actor, first, reply=True)
    assert shown.reply is not None and shown.reply.text == "see you: " + "*" * 23
    assert reviews.get(customer.actor, first).reply is not None


def test_screening_uses_the_configured_word_list(make_kit: MakeKit) -> None:
    kit = make_kit(policies=Policies(review_words=("durian",)))
    shop = catalogue(kit.platform)
    customer, therapist = kit.customer_by_phone(), kit.therapist()
    make_public(kit.platform, therapist.account_id, shop)
    made = submit(kit, customer, order_in(kit, shop, customer, therapist), "smelled of Durian")
    assert (made.state, made.findings) == (ModerationState.PENDING, ("sensitive",))


# -- ratings ----------------------------------------------------------------------------------------------------


def test_one_perfect_review_does_not_make_a_newcomer_top_rated(kit: Kit, shop: Shop, customer: Person,
                                                               therapist: Person) -> None:
    order = order_in(kit, shop, customer, therapist)
    submit(kit, customer, order, attitude=5, skill=5, pressure=5)
    kit.platform.reviews.rate_customer(therapist.actor, order, 5)
    rating = kit.platform.reviews.rating(Actor.anonymous(), therapist.account_id)
    # (3.5 * 5 + 5) / (5 + 1) = 3.75 in every dimension
    assert rating == TherapistRating(1, 3.75, 3.75, 3.75, 3.75, 5.0)
    assert search_rating(kit, therapist) == Rating(5.0, 1)


def test_search_sees_the_fed_rating(kit: Kit, shop: Shop, customer: Person, therapist: Person) -> None:
    order = order_in(kit, shop, customer, therapist)
    submit(kit, customer, order, attitude=4, skill=4, pressure=4)
    page = kit.platform.search.therapists(Actor.anonymous(), lat=LAT, lng=LNG, min_rating=3.0)
    assert page.results == ()  # still blind: unrated for search
    kit.platform.reviews.rate_customer(therapist.actor, order, 5)
    page = kit.platform.search.therapists(Actor.anonymous(), lat=LAT, lng=LNG, min_rating=3.0)
    assert [(r.therapist.id, r.rating) for r in page.results] == [(therapist.account_id, Rating(4.0, 1))]


def test_a_configured_prior_per_dimension_and_overall(make_kit: MakeKit) -> None:
    kit = make_kit(policies=Policies(rating_prior=RatingPrior(4.0, 2)))
    shop = catalogue(kit.platform)
    customer, therapist = kit.customer_by_phone(), kit.therapist()
    make_public(kit.platform, therapist.account_id, shop)
    for scores in ((5, 3, 1), (4, 4, 5)):
        order = order_in(kit, shop, customer, therapist)
        submit(kit, customer, order, attitude=scores[0], skill=scores[1], pressure=scores[2])
        kit.platform.reviews.rate_customer(therapist.actor, order, 4)
    rating = kit.platform.reviews.rating(SYSTEM, therapist.account_id)
    # attitude (8 + 9) / 4 = 4.25; skill (8 + 7) / 4 = 3.75; pressure (8 + 6) / 4 = 3.5;
    # overall: reviews of 3 and 13/3 stars -> (8 + 22/3) / 4 = 3.833; plain (3 + 13/3) / 2 = 3.667
    assert rating == TherapistRating(2, 4.25, 3.75, 3.5, 3.833, 3.667)
    assert search_rating(kit, therapist) == Rating(3.667, 2)


def test_ratings_follow_the_window_through_release_due(kit: Kit, shop: Shop, customer: Person,
                                                       therapist: Person) -> None:
    reviews = kit.platform.reviews
    submit(kit, customer, order_in(kit, shop, customer, therapist), attitude=2, skill=2, pressure=2)
    assert reviews.release_due(SYSTEM) == 0
    later(kit, days=7)
    assert reviews.rating(SYSTEM, therapist.account_id).count == 1  # computed on read
    assert search_rating(kit, therapist) is None  # the feed waits for the job
    assert reviews.release_due(SYSTEM) == 1
    assert search_rating(kit, therapist) == Rating(2.0, 1)
    assert reviews.release_due(SYSTEM) == 0
    refused(PermissionDenied, "permission_denied", reviews.release_due, kit.support().actor)


def test_the_rating_of_an_account_without_a_profile_is_not_found(kit: Kit, customer: Person) -> None:
    refused(NotFound, "not_found", kit.platform.reviews.rating, SYSTEM, customer.account_id)


@pytest.mark.parametrize(("sums", "prior", "expected"), [
    (ScoreSums(), PRIOR, TherapistRating(0, 3.5, 3.5, 3.5, 3.5, None)),
    (ScoreSums(3, 15, 12, 9), PRIOR, TherapistRating(3, 4.062, 3.688, 3.312, 3.688, 4.0)),
    (ScoreSums(2, 10, 2, 6), RatingPrior(3.0, 0), TherapistRating(2, 5.0, 1.0, 3.0, 3.0, 3.0)),
    (ScoreSums(), RatingPrior(3.0, 0), TherapistRating(0, 3.0, 3.0, 3.0, 3.0, None)),
])
def test_hand_computed_bayesian_ratings(sums: ScoreSums, prior: RatingPrior, expected: TherapistRating) -> None:
    # (17.5 + 15) / 8 = 4.0625 -> 4.062 and 3.3125 -> 3.312, but 3.6875 -> 3.688 (half-even, exact in binary)
    assert TherapistRating.of(sums, prior) == expected
    assert (expected.for_search() is None) == (sums.count == 0)


def test_the_prior_is_validated_and_search_keeps_its_default() -> None:
    for bad in ((0.5, 5), (3.5, -1), (True, 5), (3.5, 2.5)):
        refused(ValidationError, "rating.prior", RatingPrior, *bad)
    assert Rating(5.0, 1).bayesian() == 3.75 == Rating(5.0, 1).bayesian(PRIOR)
    assert Rating(5.0, 1).bayesian(RatingPrior(1.0, 1)) == 3.0
    assert bayesian(9, 2, RatingPrior(4.0, 2)) == 4.25


def test_the_moderation_table() -> None:
    assert allowed_moderation(ModerationState.PENDING) == (ModerationAction.APPROVE, ModerationAction.MASK,
                                                           ModerationAction.REJECT)
    assert allowed_moderation(ModerationState.APPROVED) == (ModerationAction.MASK, ModerationAction.REJECT)
    assert allowed_moderation(ModerationState.REJECTED) == ()
    assert Moderation.screened(("phone", "link", "phone")).findings == ("link", "phone")
    fresh = Moderation.screened(())
    with pytest.raises(PermissionDenied) as err:
        fresh.apply(ModerationAction.REJECT, None, AT, admin=False, reason="x")
    assert err.value.code == "review.moderator"
    with pytest.raises(InvalidTransition) as bad:
        fresh.apply(ModerationAction.APPROVE, None, AT, admin=True)
    assert (bad.value.state, bad.value.action, bad.value.allowed) == ("approved", "approve", ("mask", "reject"))


def test_the_jobs_run_refreshes_ratings_whose_window_closed(kit: Kit, shop: Shop, customer: Person,
                                                            therapist: Person) -> None:
    submit(kit, customer, order_in(kit, shop, customer, therapist), attitude=4, skill=4, pressure=4)
    assert kit.platform.jobs.run_due(SYSTEM).ratings.fired == 0
    later(kit, days=7)
    report = kit.platform.jobs.run_due(SYSTEM)
    assert report.ratings.fired == 1 and report.rules()["ratings"].fired == 1
    assert search_rating(kit, therapist) == Rating(4.0, 1)
    assert kit.platform.jobs.run_due(SYSTEM).ratings.fired == 0
