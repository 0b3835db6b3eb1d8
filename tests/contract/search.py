"""The TherapistLocator contract (memory grid, SQLite and PostgreSQL bounding boxes)."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from massage_core.domain.errors import NotFound
from massage_core.domain.ids import AccountId
from massage_core.domain.search import LocatorQuery, Rating, haversine_m
from massage_core.domain.therapist_values import Gender
from massage_core.ports.unit_of_work import UnitOfWork
from search_support import shop, therapist

UowFactory = Callable[[], UnitOfWork]
SHANGHAI = (31.2304, 121.4737)


def search(uow_factory: UowFactory, query: LocatorQuery, limit: int | None = None) -> list[tuple[str, float]]:
    with uow_factory() as uow:
        return [(c.therapist_id, c.distance_m) for c in uow.locator.search(query, limit=limit)]


class TherapistLocatorContract:
    """Every TherapistLocator adapter behaves like this."""

    def test_finds_public_therapists_within_the_radius_nearest_first(self, uow_factory: UowFactory) -> None:
        s = shop(uow_factory)
        lat, lng = SHANGHAI
        near = therapist(uow_factory, lat + 0.01, lng, services=(s.tuina,))
        nearer = therapist(uow_factory, lat, lng + 0.005, services=(s.spa,))
        far = therapist(uow_factory, lat + 0.2, lng, services=(s.tuina,))
        for hidden in ({"approved": False}, {"active": False}, {"suspended": True}, {"account_active": False}):
            therapist(uow_factory, lat, lng, services=(s.tuina,), **hidden)  # type: ignore[arg-type]
        found = search(uow_factory, LocatorQuery(lat, lng, 5000))
        assert [t for t, _ in found] == [nearer, near]
        assert found[1][1] == pytest.approx(haversine_m(lat, lng, lat + 0.01, lng)) and 1100 < found[1][1] < 1120
        assert [t for t, _ in search(uow_factory, LocatorQuery(lat, lng, 5000, service_id=s.tuina))] == [near]  # type: ignore[arg-type]
        assert far not in [t for t, _ in search(uow_factory, LocatorQuery(lat, lng, 20000))]
        assert far in [t for t, _ in search(uow_factory, LocatorQuery(lat, lng, 23000))]

    def test_filters_by_gender_level_and_rating(self, uow_factory: UowFactory) -> None:
        s = shop(uow_factory)
        lat, lng = SHANGHAI
        man = therapist(uow_factory, lat, lng + 0.001, services=(s.spa,), gender="male", level="junior",
                        rating=Rating(4.2, 10))
        woman = therapist(uow_factory, lat, lng + 0.002, services=(s.spa,), level="expert", rating=Rating(4.8, 3))
        unrated = therapist(uow_factory, lat, lng + 0.003, services=(s.spa,), level=None)

        def ids(**filters: object) -> list[str]:
            return [t for t, _ in search(uow_factory, LocatorQuery(lat, lng, 2000, **filters))]  # type: ignore[arg-type]

        assert ids() == [man, woman, unrated]
        assert ids(gender=Gender.MALE) == [man]
        assert ids(levels=frozenset({"expert", "junior"})) == [man, woman]
        assert ids(levels=frozenset()) == []
        assert ids(min_rating=4.5) == [woman]
        assert ids(min_rating=0.0) == [man, woman]  # the unrated never pass a rating filter

    def test_ratings_are_stored_replaced_and_cleared(self, uow_factory: UowFactory) -> None:
        s = shop(uow_factory)
        tid = AccountId(therapist(uow_factory, *SHANGHAI, services=(s.spa,)))
        with uow_factory() as uow:
            assert uow.locator.rating(tid) is None
            uow.locator.set_rating(tid, Rating(4.6667, 3))
            uow.commit()
        with uow_factory() as uow:
            assert uow.locator.rating(tid) == Rating(4.667, 3)
            uow.locator.set_rating(tid, None)
            uow.commit()
        with uow_factory() as uow:
            assert uow.locator.rating(tid) is None
            with pytest.raises(NotFound):
                uow.locator.set_rating(AccountId("acc_01J000000000000000000000ZZ"), Rating(5, 1))

    def test_a_rolled_back_change_is_not_found(self, uow_factory: UowFactory) -> None:
        s = shop(uow_factory)
        tid = AccountId(therapist(uow_factory, *SHANGHAI, services=(s.spa,)))
        with uow_factory() as uow:
            uow.therapists.save(uow.therapists.get(tid).with_active(False, uow.therapists.get(tid).created_at))
            assert [c.therapist_id for c in uow.locator.search(LocatorQuery(*SHANGHAI, 1000))] == []
            uow.rollback()
        assert [t for t, _ in search(uow_factory, LocatorQuery(*SHANGHAI, 1000))] == [tid]
        with uow_factory() as uow:
            assert uow.locator.rebuild() == 1

    def test_k_nearest_and_the_antimeridian_equal_brute_force(self, uow_factory: UowFactory) -> None:
        s = shop(uow_factory)
        rng = random.Random(7)
        points: dict[str, tuple[float, float]] = {}
        for centre in (SHANGHAI, (-16.5, 179.99)):
            for _ in range(30):
                lat = round(centre[0] + rng.uniform(-0.08, 0.08), 6)
                lng = round(centre[1] + rng.uniform(-0.08, 0.08), 6)
                lng = lng - 360 if lng > 180 else lng
                points[therapist(uow_factory, lat, lng, services=(s.tuina,))] = (lat, lng)
        for centre in (SHANGHAI, (-16.5, 179.99), (-16.5, -179.995)):
            for radius in (800.0, 3000.0, 9000.0):
                expected = sorted((haversine_m(*centre, *p), t) for t, p in points.items()
                                  if haversine_m(*centre, *p) <= radius)
                query = LocatorQuery(*centre, radius, service_id=s.tuina)  # type: ignore[arg-type]
                assert search(uow_factory, query) == [(t, d) for d, t in expected]
                assert search(uow_factory, query, limit=5) == [(t, d) for d, t in expected][:5]
