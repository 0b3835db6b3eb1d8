"""The catalogue repository contracts: levels, categories, services, packages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import attrs
import pytest

from catalog_support import make_category, make_level, make_package, make_service
from massage_core.domain.catalog import Category, Service, TherapistLevel
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import CategoryId, PackageId, ServiceId
from massage_core.domain.money import Money
from massage_core.ports.unit_of_work import UnitOfWork
from storage_support import T0, new_id

UowFactory = Callable[[], UnitOfWork]


def refused(uow_factory: UowFactory, code: str, action: Callable[[UnitOfWork], object]) -> None:
    """``action`` raises Conflict(code), and the unit of work stays usable afterwards."""
    with uow_factory() as uow:
        with pytest.raises(Conflict) as caught:
            action(uow)
        assert caught.value.code == code
        uow.levels.add(make_level())
        uow.commit()


def seed(uow_factory: UowFactory) -> tuple[TherapistLevel, TherapistLevel, Category]:
    """Two levels and a category, committed."""
    with uow_factory() as uow:
        junior, senior = uow.levels.add(make_level()), uow.levels.add(make_level())
        category = uow.categories.add(make_category())
        uow.commit()
    return junior, senior, category


class LevelRepositoryContract:
    """Every LevelRepository adapter behaves like this."""

    def test_add_get_list_by_rank(self, uow_factory: UowFactory) -> None:
        with uow_factory() as uow:
            high = uow.levels.add(TherapistLevel("expert", "Expert", 30))
            low = uow.levels.add(TherapistLevel("junior", "Junior", 10))
            uow.commit()
        assert high.version == low.version == 1
        with uow_factory() as uow:
            assert uow.levels.get("expert") == high
            assert uow.levels.list() == [low, high]
            with pytest.raises(NotFound):
                uow.levels.get("nobody")

    def test_codes_and_ranks_are_unique(self, uow_factory: UowFactory) -> None:
        with uow_factory() as uow:
            uow.levels.add(TherapistLevel("senior", "Senior", 20))
            uow.commit()
        refused(uow_factory, "level.duplicate", lambda uow: uow.levels.add(TherapistLevel("senior", "Again", 21)))
        refused(uow_factory, "level.duplicate", lambda uow: uow.levels.add(TherapistLevel("other", "Other", 20)))

    def test_save_bumps_the_version_and_refuses_stale_writes(self, uow_factory: UowFactory) -> None:
        with uow_factory() as uow:
            level = uow.levels.add(TherapistLevel("senior", "Senior", 20))
            uow.commit()
        with uow_factory() as uow:
            saved = uow.levels.save(attrs.evolve(level, name="Senior therapist"))
            uow.commit()
        assert saved.version == 2
        refused(uow_factory, "conflict.stale", lambda uow: uow.levels.save(level))
        with uow_factory() as uow, pytest.raises(NotFound):
            uow.levels.save(TherapistLevel("ghost", "Ghost", 99, version=1))


class CategoryRepositoryContract:
    """Every CategoryRepository adapter behaves like this."""

    def test_add_get_and_list_active_only(self, uow_factory: UowFactory) -> None:
        first = make_category(name="足疗")
        second = make_category(at=T0 + timedelta(seconds=1), active=False)
        with uow_factory() as uow:
            stored = [uow.categories.add(first), uow.categories.add(second)]
            uow.commit()
        assert stored == [attrs.evolve(first, version=1), attrs.evolve(second, version=1)]
        with uow_factory() as uow:
            assert uow.categories.get(first.id) == stored[0]
            assert uow.categories.list() == stored
            assert uow.categories.list(active_only=True) == [stored[0]]
            with pytest.raises(NotFound):
                uow.categories.get(CategoryId(new_id("category")))

    def test_names_are_unique_and_saves_compare_versions(self, uow_factory: UowFactory) -> None:
        category = make_category(name="Foot")
        with uow_factory() as uow:
            stored = uow.categories.add(category)
            uow.commit()
        refused(uow_factory, "catalog.duplicate", lambda uow: uow.categories.add(make_category(name="Foot")))
        with uow_factory() as uow:
            saved = uow.categories.save(stored.revise(active=False, description="Feet"))
            uow.commit()
        assert (saved.version, saved.active, saved.description) == (2, False, "Feet")
        refused(uow_factory, "conflict.stale", lambda uow: uow.categories.save(stored))


class ServiceRepositoryContract:
    """Every ServiceRepository adapter behaves like this."""

    def test_round_trips_prices_and_contraindications(self, uow_factory: UowFactory) -> None:
        junior, senior, category = seed(uow_factory)
        service = make_service(category.id, {junior.code: 19_800, senior.code: 25_800})
        with uow_factory() as uow:
            stored = uow.catalog_services.add(service)
            uow.commit()
        assert stored == attrs.evolve(service, version=1)
        with uow_factory() as uow:
            loaded = uow.catalog_services.get(service.id)
        assert loaded == stored
        assert loaded.price_for(senior) == Money(25_800) and loaded.contraindications == service.contraindications

    def test_references_must_exist(self, uow_factory: UowFactory) -> None:
        junior, _, category = seed(uow_factory)
        refused(uow_factory, "conflict.reference",
                lambda uow: uow.catalog_services.add(make_service(new_id("category"), {junior.code: 100})))
        refused(uow_factory, "conflict.reference",
                lambda uow: uow.catalog_services.add(make_service(category.id, {"no_such_level": 100})))

    def test_save_replaces_prices_and_list_filters(self, uow_factory: UowFactory) -> None:
        junior, senior, category = seed(uow_factory)
        with uow_factory() as uow:
            other = uow.categories.add(make_category())
            one = uow.catalog_services.add(make_service(category.id, {junior.code: 100}))
            two = uow.catalog_services.add(make_service(other.id, {junior.code: 200},
                                                        at=T0 + timedelta(seconds=1)))
            uow.commit()
        with uow_factory() as uow:
            saved = uow.catalog_services.save(one.revise(prices={senior.code: 300}, active=False))
            uow.commit()
        assert saved.version == 2 and saved.levels == (senior.code,)
        with uow_factory() as uow:
            assert uow.catalog_services.get(one.id) == saved
            assert uow.catalog_services.list() == [saved, two]
            assert uow.catalog_services.list(active_only=True) == [two]
            assert uow.catalog_services.list(category_id=category.id) == [saved]
            with pytest.raises(NotFound):
                uow.catalog_services.get(ServiceId(new_id("service")))
        refused(uow_factory, "conflict.stale", lambda uow: uow.catalog_services.save(one))


class PackageRepositoryContract:
    """Every PackageRepository adapter behaves like this."""

    def _service(self, uow_factory: UowFactory) -> Service:
        junior, _, category = seed(uow_factory)
        with uow_factory() as uow:
            service = uow.catalog_services.add(make_service(category.id, {junior.code: 19_800}))
            uow.commit()
        return service

    def test_add_get_list_save(self, uow_factory: UowFactory) -> None:
        service = self._service(uow_factory)
        package = make_package(service.id)
        with uow_factory() as uow:
            stored = uow.packages.add(package)
            later = uow.packages.add(make_package(service.id, at=T0 + timedelta(seconds=1), active=False))
            uow.commit()
        assert stored == attrs.evolve(package, version=1)
        with uow_factory() as uow:
            assert uow.packages.get(package.id) == stored
            assert uow.packages.list() == [stored, later]
            assert uow.packages.list(active_only=True) == [stored]
            assert uow.packages.list(service_id=ServiceId(new_id("service"))) == []
            saved = uow.packages.save(stored.revise(price=Money.yuan(850)))
            uow.commit()
        assert saved.version == 2 and saved.price == Money.yuan(850)
        refused(uow_factory, "conflict.stale", lambda uow: uow.packages.save(stored))
        with uow_factory() as uow, pytest.raises(NotFound):
            uow.packages.get(PackageId(new_id("package")))

    def test_the_service_must_exist(self, uow_factory: UowFactory) -> None:
        refused(uow_factory, "conflict.reference", lambda uow: uow.packages.add(make_package(new_id("service"))))
