"""In-memory catalogue repositories, with the uniqueness and reference rules of the SQL schema."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

import attrs

from massage_core.adapters.memory.store import Tables
from massage_core.domain.catalog import Category, Package, Service, TherapistLevel
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import CategoryId, PackageId, ServiceId
from massage_core.ports.catalog import CategoryRepository, LevelRepository, PackageRepository, ServiceRepository


class _Versioned(Protocol):
    @property
    def version(self) -> int: ...


V = TypeVar("V", bound=_Versioned)


def _stored(item: V, version: int) -> V:
    return attrs.evolve(item, version=version)  # type: ignore[misc]


def _replace(rows: dict[str, V], key: str, item: V, kind: str) -> V:
    """Compare-and-set on the version, as the SQL adapters do."""
    current = rows.get(key)
    if current is None:
        raise NotFound(kind, key)
    if current.version != item.version:
        raise Conflict(f"{kind} {key} was changed by somebody else", code="conflict.stale")
    stored = _stored(item, item.version + 1)
    rows[key] = stored
    return stored


def _missing_reference(what: str) -> Conflict:
    return Conflict(f"{what} does not exist", code="conflict.reference")


class MemoryLevelRepository(LevelRepository):
    """Levels in a dict keyed by code; codes and ranks are unique."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def _check(self, level: TherapistLevel) -> None:
        if any(o.rank == level.rank and o.code != level.code for o in self._t.levels.values()):
            raise Conflict(f"rank {level.rank} is taken by another level", code="level.duplicate")

    def add(self, level: TherapistLevel) -> TherapistLevel:
        """Store a new level with version 1."""
        if level.code in self._t.levels:
            raise Conflict(f"level {level.code} exists already", code="level.duplicate")
        self._check(level)
        stored = _stored(level, 1)
        self._t.levels[level.code] = stored
        return stored

    def get(self, code: str) -> TherapistLevel:
        """The level or NotFound."""
        try:
            return self._t.levels[code]
        except KeyError:
            raise NotFound("level", code) from None

    def save(self, level: TherapistLevel) -> TherapistLevel:
        """Compare-and-set on the version."""
        self.get(level.code)
        self._check(level)
        return _replace(self._t.levels, level.code, level, "level")

    def list(self) -> Sequence[TherapistLevel]:
        """Lowest rank first."""
        return sorted(self._t.levels.values(), key=lambda level: level.rank)


class MemoryCategoryRepository(CategoryRepository):
    """Categories in a dict; names are unique."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def _check(self, category: Category) -> None:
        if any(o.name == category.name and o.id != category.id for o in self._t.categories.values()):
            raise Conflict(f"a category named {category.name!r} exists already", code="catalog.duplicate")

    def add(self, category: Category) -> Category:
        """Store a new category with version 1."""
        if category.id in self._t.categories:
            raise Conflict(f"category {category.id} exists already", code="catalog.duplicate")
        self._check(category)
        stored = _stored(category, 1)
        self._t.categories[category.id] = stored
        return stored

    def get(self, category_id: CategoryId) -> Category:
        """The category or NotFound."""
        try:
            return self._t.categories[category_id]
        except KeyError:
            raise NotFound("category", category_id) from None

    def save(self, category: Category) -> Category:
        """Compare-and-set on the version."""
        self.get(category.id)
        self._check(category)
        return _replace(self._t.categories, category.id, category, "category")

    def list(self, *, active_only: bool = False) -> Sequence[Category]:
        """By creation time, then id."""
        rows = sorted(self._t.categories.values(), key=lambda c: (c.created_at, c.id))
        return [c for c in rows if c.active or not active_only]


class MemoryServiceRepository(ServiceRepository):
    """Services in a dict; the category and every priced level must exist."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def _check(self, service: Service) -> None:
        if service.category_id not in self._t.categories:
            raise _missing_reference(f"category {service.category_id}")
        for code in service.levels:
            if code not in self._t.levels:
                raise _missing_reference(f"level {code}")

    def add(self, service: Service) -> Service:
        """Store a new service with version 1."""
        if service.id in self._t.catalog_services:
            raise Conflict(f"service {service.id} exists already", code="catalog.duplicate")
        self._check(service)
        stored = _stored(service, 1)
        self._t.catalog_services[service.id] = stored
        return stored

    def get(self, service_id: ServiceId) -> Service:
        """The service or NotFound."""
        try:
            return self._t.catalog_services[service_id]
        except KeyError:
            raise NotFound("service", service_id) from None

    def save(self, service: Service) -> Service:
        """Compare-and-set on the version."""
        self.get(service.id)
        self._check(service)
        return _replace(self._t.catalog_services, service.id, service, "service")

    def list(self, *, category_id: CategoryId | None = None, active_only: bool = False) -> Sequence[Service]:
        """By creation time, then id."""
        rows = sorted(self._t.catalog_services.values(), key=lambda s: (s.created_at, s.id))
        return [s for s in rows if (s.active or not active_only) and category_id in (None, s.category_id)]


class MemoryPackageRepository(PackageRepository):
    """Packages in a dict; the service must exist."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def add(self, package: Package) -> Package:
        """Store a new package with version 1."""
        if package.id in self._t.packages:
            raise Conflict(f"package {package.id} exists already", code="catalog.duplicate")
        if package.service_id not in self._t.catalog_services:
            raise _missing_reference(f"service {package.service_id}")
        stored = _stored(package, 1)
        self._t.packages[package.id] = stored
        return stored

    def get(self, package_id: PackageId) -> Package:
        """The package or NotFound."""
        try:
            return self._t.packages[package_id]
        except KeyError:
            raise NotFound("package", package_id) from None

    def save(self, package: Package) -> Package:
        """Compare-and-set on the version."""
        return _replace(self._t.packages, package.id, package, "package")

    def list(self, *, service_id: ServiceId | None = None, active_only: bool = False) -> Sequence[Package]:
        """By creation time, then id."""
        rows = sorted(self._t.packages.values(), key=lambda p: (p.created_at, p.id))
        return [p for p in rows if (p.active or not active_only) and service_id in (None, p.service_id)]
