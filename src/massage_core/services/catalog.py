"""The catalogue context: therapist levels, categories, services and packages.

Admins holding ``catalog.manage`` (superadmins, and the system) add and change
items; every change is audited.  Anybody, anonymous callers included, browses
active items; inactive ones look missing unless the actor may manage them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from massage_core.domain.access import Actor, Permission
from massage_core.domain.catalog import Category, Package, Service, TherapistLevel
from massage_core.domain.errors import NotFound, ValidationError
from massage_core.domain.ids import CategoryId, PackageId, ServiceId, category_id, package_id, service_id
from massage_core.domain.money import Money
from massage_core.services.base import Service as BaseService


def _flag(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"{name} must be true or false", code="catalog.active", field=name)
    return value


class CatalogService(BaseService):
    """Levels, categories, services and packages; see the module docstring."""

    def _manage(self, actor: Actor, action: str, target: str) -> None:
        self._require(actor, Permission.CATALOG_MANAGE, action, target)

    def _sees_inactive(self, actor: Actor, include_inactive: object) -> bool:
        if _flag(include_inactive, "include_inactive"):
            self._manage(actor, "catalog.browse_inactive", "catalog")
            return True
        return False

    # -- levels ------------------------------------------------------------------------------------------

    def define_level(self, actor: Actor, code: str, name: str, rank: int) -> TherapistLevel:
        """Create the level ``code`` or rename / re-rank it. Audited.

        Returns the stored level.  Raises ValidationError (``level.code``,
        ``level.name``, ``level.rank``), Conflict (``level.duplicate`` for a rank
        taken by another level), PermissionDenied without ``catalog.manage``.
        """
        wanted = TherapistLevel(code, name, rank)
        self._manage(actor, "catalog.define_level", wanted.code)
        now = self._now()
        with self._uow() as uow:
            try:
                current = uow.levels.get(wanted.code)
            except NotFound:
                saved = uow.levels.add(wanted)
            else:
                saved = uow.levels.save(TherapistLevel(wanted.code, wanted.name, wanted.rank, current.version))
            self._audit_ok(uow, actor, "catalog.define_level", saved.code, now, name=saved.name,
                           rank=str(saved.rank))
            uow.commit()
            return saved

    def levels(self, actor: Actor) -> Sequence[TherapistLevel]:
        """Every therapist level, lowest rank first. Open to everybody; never raises."""
        with self._uow() as uow:
            return list(uow.levels.list())

    # -- categories --------------------------------------------------------------------------------------

    def add_category(self, actor: Actor, name: str, description: str = "") -> Category:
        """Create an active category. Audited.

        Raises ValidationError (``catalog.name``, ``catalog.description``), Conflict
        (``catalog.duplicate`` for a taken name), PermissionDenied.
        """
        now = self._now()
        fresh = Category(CategoryId(self._deps.ids.new_id("category")), now, name, description)
        self._manage(actor, "catalog.add_category", fresh.name)
        with self._uow() as uow:
            saved = uow.categories.add(fresh)
            self._audit_ok(uow, actor, "catalog.add_category", saved.id, now, name=saved.name)
            uow.commit()
            return saved

    def update_category(self, actor: Actor, category: str, *, name: str | None = None,
                        description: str | None = None, active: bool | None = None) -> Category:
        """Rename, describe, deactivate or reactivate a category (None leaves a field). Audited.

        Raises ValidationError, NotFound, Conflict (``catalog.duplicate``, ``conflict.stale``), PermissionDenied.
        """
        target = category_id(category)
        self._manage(actor, "catalog.update_category", target)
        now = self._now()
        with self._uow() as uow:
            saved = uow.categories.save(uow.categories.get(target).revise(name=name, description=description,
                                                                           active=active))
            self._audit_ok(uow, actor, "catalog.update_category", target, now, active=str(saved.active))
            uow.commit()
            return saved

    def categories(self, actor: Actor, *, include_inactive: bool = False) -> Sequence[Category]:
        """Categories, oldest first: active ones for everybody; ``include_inactive`` needs ``catalog.manage``."""
        every = self._sees_inactive(actor, include_inactive)
        with self._uow() as uow:
            return list(uow.categories.list(active_only=not every))

    # -- services ----------------------------------------------------------------------------------------

    def add_service(self, actor: Actor, category: str, name: str, duration_minutes: int,
                    prices: Mapping[str, Money | int], *, description: str = "",
                    contraindications: Iterable[str] = ()) -> Service:
        """Create an active service of ``category`` priced per level (Money or integer fen). Audited.

        Raises ValidationError (``catalog.name``, ``catalog.duration``, ``catalog.price``,
        ``catalog.contraindication``, ``level.code``; ``catalog.level`` for an unknown
        level), NotFound for the category, PermissionDenied.
        """
        now = self._now()
        fresh = Service(ServiceId(self._deps.ids.new_id("service")), now, category_id(category), name,
                        duration_minutes, prices, description, contraindications)
        self._manage(actor, "catalog.add_service", fresh.name)
        with self._uow() as uow:
            uow.categories.get(fresh.category_id)
            self._check_levels(uow.levels.list(), fresh)
            saved = uow.catalog_services.add(fresh)
            self._audit_ok(uow, actor, "catalog.add_service", saved.id, now, name=saved.name,
                           prices=_prices_text(saved))
            uow.commit()
            return saved

    def update_service(self, actor: Actor, service: str, *, name: str | None = None,
                       description: str | None = None, duration_minutes: int | None = None,
                       prices: Mapping[str, Money | int] | None = None,
                       contraindications: Iterable[str] | None = None, category: str | None = None,
                       active: bool | None = None) -> Service:
        """Change a service (None leaves a field; ``prices`` replaces every price). Audited.

        Raises like ``add_service``, plus NotFound for the service and Conflict (``conflict.stale``).
        """
        target = service_id(service)
        new_category = category_id(category) if category is not None else None
        self._manage(actor, "catalog.update_service", target)
        now = self._now()
        with self._uow() as uow:
            revised = uow.catalog_services.get(target).revise(
                name=name, description=description, duration_minutes=duration_minutes, prices=prices,
                contraindications=contraindications, category_id=new_category, active=active)
            uow.categories.get(revised.category_id)
            self._check_levels(uow.levels.list(), revised)
            saved = uow.catalog_services.save(revised)
            self._audit_ok(uow, actor, "catalog.update_service", target, now, active=str(saved.active),
                           prices=_prices_text(saved))
            uow.commit()
            return saved

    def services(self, actor: Actor, *, category: str | None = None,
                 include_inactive: bool = False) -> Sequence[Service]:
        """Services, oldest first, optionally of one category.

        Everybody sees active services of active categories; ``include_inactive``
        needs ``catalog.manage``.  Raises ValidationError for a malformed category id.
        """
        wanted = category_id(category) if category is not None else None
        every = self._sees_inactive(actor, include_inactive)
        with self._uow() as uow:
            found = uow.catalog_services.list(category_id=wanted, active_only=not every)
            if every:
                return list(found)
            live = {c.id for c in uow.categories.list(active_only=True)}
            return [s for s in found if s.category_id in live]

    def service(self, actor: Actor, service: str) -> Service:
        """One service; an inactive one (or one of an inactive category) is NotFound unless the actor manages."""
        target = service_id(service)
        with self._uow() as uow:
            found = uow.catalog_services.get(target)
            if not actor.may(Permission.CATALOG_MANAGE) and not (
                    found.active and uow.categories.get(found.category_id).active):
                raise NotFound("service", target)
            return found

    # -- packages ----------------------------------------------------------------------------------------

    def add_package(self, actor: Actor, service: str, name: str, sessions: int, price: Money | int,
                    validity_days: int) -> Package:
        """Create an active package of ``sessions`` sessions of ``service``. Audited.

        Raises ValidationError (``catalog.sessions``, ``catalog.price``, ``catalog.validity``),
        NotFound for the service, PermissionDenied.
        """
        now = self._now()
        fresh = Package(PackageId(self._deps.ids.new_id("package")), now, service_id(service), name, sessions,
                        price, validity_days)
        self._manage(actor, "catalog.add_package", fresh.name)
        with self._uow() as uow:
            uow.catalog_services.get(fresh.service_id)
            saved = uow.packages.add(fresh)
            self._audit_ok(uow, actor, "catalog.add_package", saved.id, now, price_fen=str(saved.price.fen))
            uow.commit()
            return saved

    def update_package(self, actor: Actor, package: str, *, name: str | None = None, sessions: int | None = None,
                       price: Money | int | None = None, validity_days: int | None = None,
                       active: bool | None = None) -> Package:
        """Change a package (None leaves a field). Audited. Raises like ``add_package``, NotFound, Conflict."""
        target = package_id(package)
        self._manage(actor, "catalog.update_package", target)
        now = self._now()
        with self._uow() as uow:
            saved = uow.packages.save(uow.packages.get(target).revise(
                name=name, sessions=sessions, price=price, validity_days=validity_days, active=active))
            self._audit_ok(uow, actor, "catalog.update_package", target, now, active=str(saved.active),
                           price_fen=str(saved.price.fen))
            uow.commit()
            return saved

    def packages(self, actor: Actor, *, service: str | None = None,
                 include_inactive: bool = False) -> Sequence[Package]:
        """Packages, oldest first, optionally of one service; public callers see active packages of visible
        services only (``include_inactive`` needs ``catalog.manage``)."""
        wanted = service_id(service) if service is not None else None
        every = self._sees_inactive(actor, include_inactive)
        with self._uow() as uow:
            found = uow.packages.list(service_id=wanted, active_only=not every)
            if every:
                return list(found)
            live_categories = {c.id for c in uow.categories.list(active_only=True)}
            live = {s.id for s in uow.catalog_services.list(active_only=True) if s.category_id in live_categories}
            return [p for p in found if p.service_id in live]

    @staticmethod
    def _check_levels(levels: Sequence[TherapistLevel], service: Service) -> None:
        known = {level.code for level in levels}
        unknown = [code for code in service.levels if code not in known]
        if unknown:
            raise ValidationError(f"unknown level(s) {', '.join(unknown)}; define them first", code="catalog.level",
                                  field="prices")


def _prices_text(service: Service) -> str:
    return ",".join(f"{code}={amount.fen}" for code, amount in service.prices)
