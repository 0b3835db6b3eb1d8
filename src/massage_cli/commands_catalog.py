"""``massage catalog``: list, add, update and deactivate levels, categories, services and packages.

Prices are typed in yuan (``--price senior=258`` or ``258.50``).  ``list`` works
without a token (what customers see); ``--all`` and every change need an admin
token with ``catalog.manage``.
"""

from __future__ import annotations

from typing import Any

import click

from massage_cli.context import CliContext
from massage_cli.output import emit, emit_one
from massage_core.domain.access import Actor
from massage_core.domain.catalog import Category, Package, Service, TherapistLevel
from massage_core.domain.errors import ValidationError
from massage_core.domain.money import Money

SERVICE_COLUMNS = ["id", "category_id", "name", "duration_minutes", "prices", "contraindications", "active"]
CATEGORY_COLUMNS = ["id", "name", "description", "active"]
PACKAGE_COLUMNS = ["id", "service_id", "name", "sessions", "price", "validity_days", "active"]
LEVEL_COLUMNS = ["code", "name", "rank"]


def _browser(obj: CliContext) -> Actor:
    """The admin behind the token, or an anonymous visitor without one."""
    return obj.actor() if obj.token else Actor.anonymous()


def _prices(pairs: tuple[str, ...]) -> dict[str, Money]:
    prices: dict[str, Money] = {}
    for pair in pairs:
        level, sep, amount = pair.partition("=")
        if not sep:
            raise ValidationError(f"--price wants LEVEL=YUAN, not {pair!r}", code="catalog.price", field="prices")
        prices[level.strip()] = Money.parse_yuan(amount)
    return prices


def service_row(s: Service) -> dict[str, Any]:
    return {"id": s.id, "category_id": s.category_id, "name": s.name, "duration_minutes": s.duration_minutes,
            "prices": [f"{code}={amount}" for code, amount in s.prices],
            "contraindications": sorted(s.contraindications), "active": s.active}


def category_row(c: Category) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "description": c.description, "active": c.active}


def package_row(p: Package) -> dict[str, Any]:
    return {"id": p.id, "service_id": p.service_id, "name": p.name, "sessions": p.sessions, "price": str(p.price),
            "validity_days": p.validity_days, "active": p.active}


def level_row(level: TherapistLevel) -> dict[str, Any]:
    return {"code": level.code, "name": level.name, "rank": level.rank}


@click.group()
def catalog() -> None:
    """The catalogue: therapist levels, categories, services and packages."""


@catalog.command("list")
@click.argument("what", type=click.Choice(["services", "categories", "packages", "levels"]), default="services")
@click.option("--all", "include_inactive", is_flag=True, help="Include inactive items (needs catalog.manage).")
@click.option("--category", default=None, help="Only services of this category id.")
@click.pass_obj
def list_items(obj: CliContext, what: str, include_inactive: bool, category: str | None) -> None:
    """List services (default), categories, packages or levels."""
    platform, actor = obj.platform(), _browser(obj)
    if what == "levels":
        emit([level_row(lv) for lv in platform.catalog.levels(actor)], LEVEL_COLUMNS, obj.output)
    elif what == "categories":
        rows = platform.catalog.categories(actor, include_inactive=include_inactive)
        emit([category_row(c) for c in rows], CATEGORY_COLUMNS, obj.output)
    elif what == "packages":
        packages = platform.catalog.packages(actor, include_inactive=include_inactive)
        emit([package_row(p) for p in packages], PACKAGE_COLUMNS, obj.output)
    else:
        services = platform.catalog.services(actor, category=category, include_inactive=include_inactive)
        emit([service_row(s) for s in services], SERVICE_COLUMNS, obj.output)


@catalog.group("add")
def add() -> None:
    """Add a level, category, service or package."""


@add.command("level")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--rank", type=int, required=True, help="1..100; higher is more senior.")
@click.pass_obj
def add_level(obj: CliContext, code: str, name: str, rank: int) -> None:
    """Define (or rename / re-rank) a therapist level."""
    emit_one(level_row(obj.platform().catalog.define_level(obj.actor(), code, name, rank)), obj.output)


@add.command("category")
@click.argument("name")
@click.option("--description", default="")
@click.pass_obj
def add_category(obj: CliContext, name: str, description: str) -> None:
    """Add a category."""
    emit_one(category_row(obj.platform().catalog.add_category(obj.actor(), name, description)), obj.output)


@add.command("service")
@click.option("--category", required=True, help="Category id.")
@click.option("--name", required=True)
@click.option("--duration", "duration_minutes", type=int, required=True, help="Minutes.")
@click.option("--price", "prices", multiple=True, required=True, help="LEVEL=YUAN, once per level.")
@click.option("--contraindication", "contraindications", multiple=True,
              help="pregnancy, recent_surgery, skin_infection, hypertension, varicose_veins, osteoporosis, fever.")
@click.option("--description", default="")
@click.pass_obj
def add_service(obj: CliContext, category: str, name: str, duration_minutes: int, prices: tuple[str, ...],
                contraindications: tuple[str, ...], description: str) -> None:
    """Add a service priced per therapist level."""
    created = obj.platform().catalog.add_service(obj.actor(), category, name, duration_minutes, _prices(prices),
                                                 description=description, contraindications=contraindications)
    emit_one(service_row(created), obj.output)


@add.command("package")
@click.option("--service", required=True, help="Service id.")
@click.option("--name", required=True)
@click.option("--sessions", type=int, required=True)
@click.option("--price", required=True, help="Yuan, for all the sessions.")
@click.option("--validity-days", type=int, required=True)
@click.pass_obj
def add_package(obj: CliContext, service: str, name: str, sessions: int, price: str, validity_days: int) -> None:
    """Add a package of several sessions of one service."""
    created = obj.platform().catalog.add_package(obj.actor(), service, name, sessions, Money.parse_yuan(price),
                                                 validity_days)
    emit_one(package_row(created), obj.output)


@catalog.command("update")
@click.argument("item_id")
@click.option("--name", default=None)
@click.option("--description", default=None)
@click.option("--duration", "duration_minutes", type=int, default=None, help="Services: minutes.")
@click.option("--price", "prices", multiple=True, help="Services: LEVEL=YUAN (replaces all); packages: YUAN.")
@click.option("--contraindication", "contraindications", multiple=True, help="Services: replaces the list.")
@click.option("--sessions", type=int, default=None, help="Packages.")
@click.option("--validity-days", type=int, default=None, help="Packages.")
@click.option("--active/--inactive", default=None, help="Reactivate or deactivate.")
@click.pass_obj
def update(obj: CliContext, item_id: str, name: str | None, description: str | None, duration_minutes: int | None,
           prices: tuple[str, ...], contraindications: tuple[str, ...], sessions: int | None,
           validity_days: int | None, active: bool | None) -> None:
    """Change a category (cat_...), service (svc_...) or package (pkg_...)."""
    emit_one(_update(obj, item_id, name=name, description=description, duration_minutes=duration_minutes,
                     prices=prices, contraindications=contraindications, sessions=sessions,
                     validity_days=validity_days, active=active), obj.output)


@catalog.command("deactivate")
@click.argument("item_id")
@click.pass_obj
def deactivate(obj: CliContext, item_id: str) -> None:
    """Hide a category, service or package from customers (``update --active`` brings it back)."""
    row = _update(obj, item_id, active=False)
    click.echo(f"{item_id} deactivated ({row['name']})")


def _update(obj: CliContext, item_id: str, *, name: str | None = None, description: str | None = None,
            duration_minutes: int | None = None, prices: tuple[str, ...] = (),
            contraindications: tuple[str, ...] = (), sessions: int | None = None,
            validity_days: int | None = None, active: bool | None = None) -> dict[str, Any]:
    """Send the options that apply to the item's kind (told by its id prefix) to the right service method."""
    catalog_service, actor = obj.platform().catalog, obj.actor()
    kind = item_id.partition("_")[0]
    if kind == "cat":
        return category_row(catalog_service.update_category(actor, item_id, name=name, description=description,
                                                            active=active))
    if kind == "svc":
        return service_row(catalog_service.update_service(
            actor, item_id, name=name, description=description, duration_minutes=duration_minutes,
            prices=_prices(prices) if prices else None,
            contraindications=contraindications or None, active=active))
    if kind == "pkg":
        if len(prices) > 1:
            raise ValidationError("a package has one --price in yuan", code="catalog.price", field="price")
        return package_row(catalog_service.update_package(
            actor, item_id, name=name, sessions=sessions, price=Money.parse_yuan(prices[0]) if prices else None,
            validity_days=validity_days, active=active))
    raise ValidationError(f"not a catalogue id: {item_id[:40]!r} (cat_..., svc_... or pkg_...)", code="invalid_id")
