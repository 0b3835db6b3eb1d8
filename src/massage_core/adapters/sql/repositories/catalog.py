"""The catalogue in SQL: levels, categories, services (with a price row per level) and packages."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import attrs
from sqlalchemy import Row, Table, bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection

from massage_core.adapters.sql.prepared import Prepared
from massage_core.adapters.sql.repositories._guard import guarded
from massage_core.adapters.sql.tables_therapists import (
    catalog_categories,
    catalog_packages,
    catalog_service_prices,
    catalog_services,
    therapist_levels,
)
from massage_core.domain.catalog import Category, Contraindication, Package, Service, TherapistLevel
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import CategoryId, PackageId, ServiceId
from massage_core.domain.money import Money
from massage_core.ports.catalog import CategoryRepository, LevelRepository, PackageRepository, ServiceRepository

DUPLICATE = "catalog.duplicate"

# The statements of the booking's reads are built once; only their parameters change per call (and on SQLite
# they run on the driver: ``prepared``).
_CATEGORY_BY_ID = Prepared(select(catalog_categories).where(catalog_categories.c.id == bindparam("p_id")))
_SERVICE_BY_ID = Prepared(select(catalog_services).where(catalog_services.c.id == bindparam("p_id")))
_PRICES_OF_ONE = Prepared(
    select(catalog_service_prices).where(catalog_service_prices.c.service_id == bindparam("p_id")))
_PRICES_OF = select(catalog_service_prices).where(
    catalog_service_prices.c.service_id.in_(bindparam("p_ids", expanding=True)))


def _compare_and_set(connection: Connection, table: Table, key: str, ident: str, version: int,
                     values: dict[str, Any], kind: str) -> int:
    """Update the row when its version is ``version``; return the new version (Conflict / NotFound otherwise)."""
    key_column = table.c[key]
    result = connection.execute(
        update(table).where(key_column == ident, table.c.version == version).values(version=version + 1, **values)
    )
    if result.rowcount == 0:
        if connection.execute(select(key_column).where(key_column == ident)).first() is None:
            raise NotFound(kind, ident)
        raise Conflict(f"{kind} {ident} was changed by somebody else", code="conflict.stale")
    return version + 1


class SqlLevelRepository(LevelRepository):
    """Levels in ``therapist_levels``."""

    def __init__(self, connection: Connection) -> None:
        """Work inside ``connection``'s transaction."""
        self._conn = connection

    def add(self, level: TherapistLevel) -> TherapistLevel:
        """Insert with version 1."""
        with guarded(self._conn, duplicate="level.duplicate"):
            self._conn.execute(insert(therapist_levels).values(code=level.code, name=level.name, rank=level.rank,
                                                               version=1))
        return attrs.evolve(level, version=1)

    def get(self, code: str) -> TherapistLevel:
        """The level or NotFound."""
        row = self._conn.execute(select(therapist_levels).where(therapist_levels.c.code == code)).first()
        if row is None:
            raise NotFound("level", code)
        return TherapistLevel(row.code, row.name, row.rank, row.version)

    def save(self, level: TherapistLevel) -> TherapistLevel:
        """Compare-and-set on the version."""
        with guarded(self._conn, duplicate="level.duplicate"):
            version = _compare_and_set(self._conn, therapist_levels, "code", level.code, level.version,
                                       {"name": level.name, "rank": level.rank}, "level")
        return attrs.evolve(level, version=version)

    def list(self) -> Sequence[TherapistLevel]:
        """Lowest rank first."""
        rows = self._conn.execute(select(therapist_levels).order_by(therapist_levels.c.rank)).all()
        return [TherapistLevel(r.code, r.name, r.rank, r.version) for r in rows]


class SqlCategoryRepository(CategoryRepository):
    """Categories in ``catalog_categories``."""

    def __init__(self, connection: Connection) -> None:
        """Work inside ``connection``'s transaction."""
        self._conn = connection

    @staticmethod
    def _values(category: Category) -> dict[str, Any]:
        return {"name": category.name, "description": category.description, "active": category.active,
                "created_at": category.created_at}

    @staticmethod
    def _to_category(row: Row[Any]) -> Category:
        return Category(CategoryId(row.id), row.created_at, row.name, row.description, row.active, row.version)

    def add(self, category: Category) -> Category:
        """Insert with version 1."""
        with guarded(self._conn, duplicate=DUPLICATE):
            self._conn.execute(insert(catalog_categories).values(id=category.id, version=1, **self._values(category)))
        return attrs.evolve(category, version=1)

    def get(self, category_id: CategoryId) -> Category:
        """The category or NotFound."""
        rows = _CATEGORY_BY_ID.rows(self._conn, {"p_id": category_id})
        if not rows:
            raise NotFound("category", category_id)
        return self._to_category(rows[0])

    def save(self, category: Category) -> Category:
        """Compare-and-set on the version."""
        with guarded(self._conn, duplicate=DUPLICATE):
            version = _compare_and_set(self._conn, catalog_categories, "id", category.id, category.version,
                                       self._values(category), "category")
        return attrs.evolve(category, version=version)

    def list(self, *, active_only: bool = False) -> Sequence[Category]:
        """By creation time, then id."""
        t = catalog_categories
        query = select(t).order_by(t.c.created_at, t.c.id)
        if active_only:
            query = query.where(t.c.active.is_(True))
        return [self._to_category(row) for row in self._conn.execute(query)]


class SqlServiceRepository(ServiceRepository):
    """Services in ``catalog_services`` with one ``catalog_service_prices`` row per priced level."""

    def __init__(self, connection: Connection) -> None:
        """Work inside ``connection``'s transaction."""
        self._conn = connection

    @staticmethod
    def _values(service: Service) -> dict[str, Any]:
        return {
            "category_id": service.category_id,
            "name": service.name,
            "description": service.description,
            "duration_minutes": service.duration_minutes,
            "currency": service.prices[0][1].currency,
            "contraindications": ",".join(sorted(service.contraindications)),
            "active": service.active,
            "created_at": service.created_at,
        }

    def _write_prices(self, service: Service) -> None:
        t = catalog_service_prices
        self._conn.execute(delete(t).where(t.c.service_id == service.id))
        self._conn.execute(insert(t), [{"service_id": service.id, "level_code": code, "price_fen": amount.fen}
                                       for code, amount in service.prices])

    def add(self, service: Service) -> Service:
        """Insert the service and its prices with version 1."""
        with guarded(self._conn, duplicate=DUPLICATE):
            self._conn.execute(insert(catalog_services).values(id=service.id, version=1, **self._values(service)))
            self._write_prices(service)
        return attrs.evolve(service, version=1)

    def save(self, service: Service) -> Service:
        """Compare-and-set on the version; prices are replaced."""
        with guarded(self._conn, duplicate=DUPLICATE):
            version = _compare_and_set(self._conn, catalog_services, "id", service.id, service.version,
                                       self._values(service), "service")
            self._write_prices(service)
        return attrs.evolve(service, version=version)

    def _load(self, rows: Sequence[Row[Any]]) -> list[Service]:
        if not rows:
            return []
        prices: dict[str, list[tuple[str, int]]] = defaultdict(list)
        read = (_PRICES_OF_ONE.rows(self._conn, {"p_id": rows[0].id}) if len(rows) == 1 else
                self._conn.execute(_PRICES_OF, {"p_ids": [row.id for row in rows]}))
        for p in read:
            prices[p.service_id].append((p.level_code, p.price_fen))
        return [
            Service(
                id=ServiceId(row.id), created_at=row.created_at, category_id=CategoryId(row.category_id),
                name=row.name, duration_minutes=row.duration_minutes,
                prices=tuple((code, Money(fen, row.currency)) for code, fen in prices[row.id]),
                description=row.description,
                contraindications=frozenset(Contraindication(c) for c in row.contraindications.split(",") if c),
                active=row.active, version=row.version,
            )
            for row in rows
        ]

    def get(self, service_id: ServiceId) -> Service:
        """The service or NotFound."""
        rows = _SERVICE_BY_ID.rows(self._conn, {"p_id": service_id})
        if not rows:
            raise NotFound("service", service_id)
        return self._load(rows)[0]

    def list(self, *, category_id: CategoryId | None = None, active_only: bool = False) -> Sequence[Service]:
        """By creation time, then id."""
        t = catalog_services
        query = select(t).order_by(t.c.created_at, t.c.id)
        if category_id is not None:
            query = query.where(t.c.category_id == category_id)
        if active_only:
            query = query.where(t.c.active.is_(True))
        return self._load(self._conn.execute(query).all())


class SqlPackageRepository(PackageRepository):
    """Packages in ``catalog_packages``."""

    def __init__(self, connection: Connection) -> None:
        """Work inside ``connection``'s transaction."""
        self._conn = connection

    @staticmethod
    def _values(package: Package) -> dict[str, Any]:
        return {"service_id": package.service_id, "name": package.name, "sessions": package.sessions,
                "price_fen": package.price.fen, "currency": package.price.currency,
                "validity_days": package.validity_days, "active": package.active, "created_at": package.created_at}

    @staticmethod
    def _to_package(row: Row[Any]) -> Package:
        return Package(
            id=PackageId(row.id), created_at=row.created_at, service_id=ServiceId(row.service_id), name=row.name,
            sessions=row.sessions, price=Money(row.price_fen, row.currency), validity_days=row.validity_days,
            active=row.active, version=row.version,
        )

    def add(self, package: Package) -> Package:
        """Insert with version 1."""
        with guarded(self._conn, duplicate=DUPLICATE):
            self._conn.execute(insert(catalog_packages).values(id=package.id, version=1, **self._values(package)))
        return attrs.evolve(package, version=1)

    def get(self, package_id: PackageId) -> Package:
        """The package or NotFound."""
        row = self._conn.execute(select(catalog_packages).where(catalog_packages.c.id == package_id)).first()
        if row is None:
            raise NotFound("package", package_id)
        return self._to_package(row)

    def save(self, package: Package) -> Package:
        """Compare-and-set on the version."""
        with guarded(self._conn, duplicate=DUPLICATE):
            version = _compare_and_set(self._conn, catalog_packages, "id", package.id, package.version,
                                       self._values(package), "package")
        return attrs.evolve(package, version=version)

    def list(self, *, service_id: ServiceId | None = None, active_only: bool = False) -> Sequence[Package]:
        """By creation time, then id."""
        t = catalog_packages
        query = select(t).order_by(t.c.created_at, t.c.id)
        if service_id is not None:
            query = query.where(t.c.service_id == service_id)
        if active_only:
            query = query.where(t.c.active.is_(True))
        return [self._to_package(row) for row in self._conn.execute(query)]
