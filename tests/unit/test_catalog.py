"""The catalogue through CatalogService: who manages, who browses, prices per level, bad input."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import Kit
from massage_core.domain.access import Actor
from massage_core.domain.catalog import Contraindication
from massage_core.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from massage_core.domain.money import Money
from therapist_kit import Catalogue, catalogue


@pytest.fixture
def shop(kit: Kit) -> Catalogue:
    return catalogue(kit)


def test_a_level_decides_the_price(kit: Kit, shop: Catalogue) -> None:
    service = kit.platform.catalog.service(Actor.anonymous(), shop.service)
    assert [service.price_for(level).fen for level in ("junior", "senior", "expert")] == [19_800, 25_800, 39_800]
    assert service.contraindications == {Contraindication.PREGNANCY}
    with pytest.raises(Conflict) as err:
        service.price_for("master")
    assert err.value.code == "catalog.no_price"
    assert [lv.code for lv in kit.platform.catalog.levels(Actor.anonymous())] == ["junior", "senior", "expert"]


def test_define_level_renames_and_refuses_a_taken_rank(kit: Kit, shop: Catalogue) -> None:
    root = kit.superadmin().actor
    renamed = kit.platform.catalog.define_level(root, "senior", "Senior therapist", 20)
    assert (renamed.name, renamed.version) == ("Senior therapist", 2)
    with pytest.raises(Conflict) as err:
        kit.platform.catalog.define_level(root, "master", "Master", 30)
    assert err.value.code == "level.duplicate"
    last = kit.audit_entries()[-1]
    assert (last.action, last.target) == ("catalog.define_level", "senior")


def test_anybody_browses_active_items_only(kit: Kit, shop: Catalogue) -> None:
    root, catalog = kit.superadmin().actor, kit.platform.catalog
    package = catalog.add_package(root, shop.service, "Five sessions", 5, Money.yuan(900), 180)
    hidden = catalog.add_category(root, "Hidden", "")
    catalog.add_service(root, hidden.id, "Secret", 30, {"junior": 100})
    catalog.update_category(root, hidden.id, active=False)
    catalog.update_service(root, shop.other_service, active=False)
    for actor in (Actor.anonymous(), kit.customer_by_phone().actor, kit.support().actor):
        assert [c.id for c in catalog.categories(actor)] == [shop.category]
        assert [s.id for s in catalog.services(actor)] == [shop.service]
        assert [p.id for p in catalog.packages(actor)] == [package.id]
        with pytest.raises(NotFound):
            catalog.service(actor, shop.other_service)
        with pytest.raises(PermissionDenied):
            catalog.services(actor, include_inactive=True)
    assert len(catalog.services(root, include_inactive=True)) == 3
    assert len(catalog.categories(root, include_inactive=True)) == 2
    assert catalog.service(root, shop.other_service).active is False
    catalog.update_service(root, shop.service, active=False)
    assert catalog.packages(Actor.anonymous()) == []


def test_only_catalogue_managers_change_it(kit: Kit, shop: Catalogue) -> None:
    catalog = kit.platform.catalog
    for actor in (Actor.anonymous(), kit.customer_by_phone().actor, kit.support().actor, kit.auditor().actor):
        with pytest.raises(PermissionDenied):
            catalog.add_category(actor, "Foot")
        with pytest.raises(PermissionDenied):
            catalog.update_service(actor, shop.service, name="Renamed")
    assert catalog.add_category(Actor.system(), "Foot").name == "Foot"


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("empty name", {"name": " "}, "catalog.name"),
    ("long name", {"name": "x" * 81}, "catalog.name"),
    ("duration", {"duration_minutes": 5}, "catalog.duration"),
    ("duration as text", {"duration_minutes": "60"}, "catalog.duration"),
    ("no prices", {"prices": {}}, "catalog.price"),
    ("zero price", {"prices": {"junior": 0}}, "catalog.price"),
    ("float price", {"prices": {"junior": 198.0}}, "catalog.price"),
    ("huge price", {"prices": {"junior": 10_000_001}}, "catalog.price"),
    ("unknown level", {"prices": {"master": 100}}, "catalog.level"),
    ("malformed level", {"prices": {"Senior Level": 100}}, "level.code"),
    ("contraindication", {"contraindications": ["headache"]}, "catalog.contraindication"),
    ("category id", {"category": "cat_bad"}, "invalid_id"),
]


@pytest.mark.parametrize(("change", "code"), [pytest.param(c, code, id=name) for name, c, code in BAD])
def test_bad_service_input_is_refused_and_changes_nothing(kit: Kit, shop: Catalogue, change: dict[str, Any],
                                                          code: str) -> None:
    root = kit.superadmin().actor
    args: dict[str, Any] = {"category": shop.category, "name": "Foot massage", "duration_minutes": 45,
                            "prices": {"junior": 9_800}}
    args.update(change)
    before = (dict(kit.tables.catalog_services), list(kit.tables.audit))
    with pytest.raises(ValidationError) as err:
        kit.platform.catalog.add_service(root, **args)
    assert err.value.code == code
    if code != "invalid_id":
        with pytest.raises(ValidationError) as again:
            kit.platform.catalog.update_service(root, shop.service, **{
                "category" if k == "category" else k: v for k, v in change.items()})
        assert again.value.code == code
    assert (dict(kit.tables.catalog_services), list(kit.tables.audit)) == before


@pytest.mark.parametrize(("args", "code"), [
    ({"sessions": 1}, "catalog.sessions"),
    ({"validity_days": 0}, "catalog.validity"),
    ({"price": -5}, "catalog.price"),
    ({"name": ""}, "catalog.name"),
])
def test_bad_package_input(kit: Kit, shop: Catalogue, args: dict[str, Any], code: str) -> None:
    values: dict[str, Any] = {"name": "Ten", "sessions": 10, "price": 150_000, "validity_days": 365}
    values.update(args)
    with pytest.raises(ValidationError) as err:
        kit.platform.catalog.add_package(kit.superadmin().actor, shop.service, **values)
    assert err.value.code == code
    assert kit.tables.packages == {}


def test_packages_are_updated_and_category_names_are_unique(kit: Kit, shop: Catalogue) -> None:
    root, catalog = kit.superadmin().actor, kit.platform.catalog
    package = catalog.add_package(root, shop.service, "Ten", 10, 150_000, 365)
    updated = catalog.update_package(root, package.id, price=Money.yuan(1400), active=False)
    assert (updated.price.fen, updated.active, updated.version) == (140_000, False, 2)
    assert catalog.packages(root, service=shop.service, include_inactive=True) == [updated]
    with pytest.raises(Conflict) as err:
        catalog.add_category(root, "全身按摩")
    assert err.value.code == "catalog.duplicate"
    with pytest.raises(NotFound):
        catalog.add_package(root, "svc_0000000000000000000000ZZZZ", "Ghost", 2, 100, 10)


@pytest.mark.parametrize(("text", "fen"), [("198", 19_800), ("198.5", 19_850), ("¥0.05", 5), (" 12.30 ", 1_230)])
def test_yuan_amounts_parse_exactly(text: str, fen: int) -> None:
    assert Money.parse_yuan(text) == Money(fen)


@pytest.mark.parametrize("text", ["1.234", "-1", "abc", "", "1e3", "١٢", "12,50", ".5"])
def test_malformed_yuan_amounts_are_refused(text: str) -> None:
    with pytest.raises(ValidationError) as err:
        Money.parse_yuan(text)
    assert err.value.code == "money.format"
