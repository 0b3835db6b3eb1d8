"""``platform.quality`` on memory (decision 0039): scores from ratings, orders, upheld complaints and standing
sanctions; the ranking per city and service with its tie-breaks and pages; who may read what."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import Kit, Person
from massage_core.domain.access import Actor, Role
from massage_core.domain.audit import AuditOutcome
from massage_core.domain.errors import NotFound, PermissionDenied, ValidationError
from massage_core.domain.quality import QualityFacts, QualityPolicy, quality_score
from massage_core.domain.search import Rating
from massage_core.domain.ids import AccountId
from order_kit import advance, book, pay
from search_support import Shop
from search_support import therapist as located_therapist

SYSTEM = Actor.system()
PEOPLE_SQUARE = (31.2304, 121.4737)
TIANANMEN = (39.9042, 116.4074)


def expected(who: str, rating: Rating | None, **facts: int) -> float:
    """The score the domain gives to a therapist with nothing but these facts (hand-checked in test_quality)."""
    return quality_score(QualityFacts(AccountId(who), rating, **facts), QualityPolicy()).score  # type: ignore[arg-type]


def test_the_ranking_of_a_city_and_service_orders_by_score_then_reviews_then_id(kit: Kit, shop: Shop) -> None:
    uow = kit.platform.deps.uow
    lat, lng = PEOPLE_SQUARE
    star = located_therapist(uow, lat, lng, services=(shop.tuina,), rating=Rating(4.9, 120))
    twin = located_therapist(uow, lat + 0.2, lng, services=(shop.tuina,), rating=Rating(4.9, 120))
    good = located_therapist(uow, lat + 0.1, lng + 0.1, services=(shop.tuina,), rating=Rating(4.4, 30))
    fresh = located_therapist(uow, lat - 0.1, lng, services=(shop.tuina,))
    located_therapist(uow, lat, lng, services=(shop.spa,), rating=Rating(5.0, 300))  # other service
    located_therapist(uow, *TIANANMEN, services=(shop.tuina,), rating=Rating(5.0, 300))  # other city
    located_therapist(uow, lat, lng, services=(shop.tuina,), rating=Rating(5.0, 300), suspended=True)  # hidden
    page = kit.platform.quality.ranking(kit.support().actor, "Shanghai", shop.tuina)
    twins = sorted([star, twin])
    assert [e.therapist_id for e in page.entries] == [*twins, good, fresh]
    assert [e.position for e in page.entries] == [1, 2, 3, 4] and page.total == 4 and page.city == "shanghai"
    assert [e.score.score for e in page.entries] == [
        expected(star, Rating(4.9, 120)), expected(twin, Rating(4.9, 120)), expected(good, Rating(4.4, 30)),
        expected(fresh, None)]
    second = kit.platform.quality.ranking(kit.auditor().actor, "shanghai", shop.tuina, offset=2, limit=1)
    assert [(e.position, e.therapist_id) for e in second.entries] == [(3, good)] and second.total == 4


def test_a_standing_sanction_lowers_the_score_and_a_reversed_one_does_not(kit: Kit, shop: Shop) -> None:
    lat, lng = PEOPLE_SQUARE
    first = located_therapist(kit.platform.deps.uow, lat, lng, services=(shop.tuina,), rating=Rating(4.8, 50))
    second = located_therapist(kit.platform.deps.uow, lat, lng, services=(shop.tuina,), rating=Rating(4.7, 50))
    root, support = kit.superadmin(), kit.support()
    before = kit.platform.quality.score(root.actor, first).score
    made = kit.platform.sanctions.impose(root.actor, first, "warning", "late three times")
    after = kit.platform.quality.score(root.actor, first)
    assert after.standing_sanctions == 1 and after.score == pytest.approx(before - 5.0, abs=0.011)
    assert [e.therapist_id for e in kit.platform.quality.ranking(root.actor, "shanghai", shop.tuina).entries] == [
        second, first]
    located = Actor(AccountId(first), roles=frozenset({Role.THERAPIST}))  # written through the repositories
    kit.platform.sanctions.appeal(located, made.id, "the traffic app logged it")
    kit.platform.sanctions.decide_appeal(support.actor, made.id, True, "logs confirm")
    assert kit.platform.quality.score(root.actor, first).score == before


def test_orders_and_an_upheld_complaint_feed_the_score(kit: Kit, shop: Shop, therapist: Person,
                                                       customer: Person) -> None:
    orders, root = kit.platform.orders, kit.superadmin()
    done = book(kit.platform, customer.actor, therapist.account_id, shop.tuina).id
    pay(kit.platform, done)
    advance(kit.platform, done, therapist.actor, customer.actor, "completed")
    dropped = book(kit.platform, customer.actor, therapist.account_id, shop.tuina,
                   start=dt.datetime(2026, 1, 6, 6, tzinfo=dt.timezone.utc)).id
    pay(kit.platform, dropped)
    orders.accept(therapist.actor, dropped)
    orders.cancel(therapist.actor, dropped, reason="sick")
    kit.clock.advance(dt.timedelta(days=3))  # both visits' starts are in the past window now
    got = kit.platform.quality.score(therapist.actor, therapist.account_id)
    n = QualityPolicy().prior_weight
    assert got.acceptance == round((2 + 0.8 * n) / (2 + n), 4)
    assert got.reliability == round((1 + 0.9 * n) / (2 + n), 4)  # one of two due visits dropped
    assert got.punctuality == round((1 + 0.9 * n) / (1 + n), 4)
    assert got.safety == round((1 + 0.95 * n) / (1 + n), 4)
    assert got.upheld_complaints == 0
    complaint = kit.platform.complaints.file(customer.actor, done, "conduct", "Rude and on the phone.")
    kit.platform.complaints.take(root.actor, complaint.id)
    kit.platform.complaints.resolve(root.actor, complaint.id, "warning", "talked to the therapist")
    assert kit.platform.quality.score(therapist.actor, therapist.account_id).upheld_complaints == 1


def test_who_may_read_scores_and_rankings(kit: Kit, shop: Shop, therapist: Person) -> None:
    other = kit.therapist()
    assert kit.platform.quality.score(therapist.actor, therapist.account_id).therapist_id == therapist.account_id
    with pytest.raises(NotFound):
        kit.platform.quality.score(other.actor, therapist.account_id)
    with pytest.raises(PermissionDenied):
        kit.platform.quality.score(kit.customer().actor, therapist.account_id)
    with pytest.raises(PermissionDenied):
        kit.platform.quality.ranking(therapist.actor, "shanghai", shop.tuina)
    support = kit.support()
    kit.platform.quality.score(support.actor, therapist.account_id)
    entries = [(e.action, e.target, e.outcome) for e in kit.audit_entries() if e.action == "quality.score"]
    assert entries == [("quality.score", therapist.account_id, AuditOutcome.DENIED),
                       ("quality.score", therapist.account_id, AuditOutcome.DENIED),
                       ("quality.score", therapist.account_id, AuditOutcome.OK)]
    with pytest.raises(NotFound):
        kit.platform.quality.score(support.actor, kit.customer().account_id)  # no therapist profile


@pytest.mark.parametrize(("city", "offset", "limit", "code"), [
    ("atlantis", 0, 20, "quality.city"), ("shanghai", -1, 20, "page.offset"), ("shanghai", 0, 101, "page.limit"),
])
def test_bad_ranking_requests_are_refused(kit: Kit, shop: Shop, city: str, offset: int, limit: int,
                                          code: str) -> None:
    with pytest.raises(ValidationError) as bad:
        kit.platform.quality.ranking(SYSTEM, city, shop.tuina, offset=offset, limit=limit)
    assert bad.value.code == code
    with pytest.raises(ValidationError) as bad_service:
        kit.platform.quality.ranking(SYSTEM, "shanghai", "tuina")
    assert bad_service.value.code == "invalid_id"
