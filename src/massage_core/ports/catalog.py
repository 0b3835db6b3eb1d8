"""Repositories of the catalogue: therapist levels, categories, services and packages.

Each works inside the unit of work's transaction like the account repository:
``add`` returns the object with version 1, ``save`` compares and bumps the
version (``Conflict`` ``conflict.stale`` when somebody else saved first) and
raises ``NotFound`` for a missing object.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

from massage_core.domain.catalog import Category, Package, Service, TherapistLevel
from massage_core.domain.ids import CategoryId, PackageId, ServiceId


class LevelRepository(abc.ABC):
    """Therapist levels, keyed by code, ordered by rank."""

    @abc.abstractmethod
    def add(self, level: TherapistLevel) -> TherapistLevel:
        """Store a new level; return it with version 1.

        Raises ``Conflict`` (``level.duplicate``) when its code or rank is taken.
        """

    @abc.abstractmethod
    def get(self, code: str) -> TherapistLevel:
        """Return the level; raise ``NotFound`` when there is none."""

    @abc.abstractmethod
    def save(self, level: TherapistLevel) -> TherapistLevel:
        """Store a changed level; return it with version + 1.

        Raises ``Conflict`` (``conflict.stale``; ``level.duplicate`` for a taken rank), ``NotFound``.
        """

    @abc.abstractmethod
    def list(self) -> Sequence[TherapistLevel]:
        """Return every level, lowest rank first."""


class CategoryRepository(abc.ABC):
    """Service categories."""

    @abc.abstractmethod
    def add(self, category: Category) -> Category:
        """Store a new category; return it with version 1. ``Conflict`` (``catalog.duplicate``) for a taken name."""

    @abc.abstractmethod
    def get(self, category_id: CategoryId) -> Category:
        """Return the category; raise ``NotFound`` when there is none."""

    @abc.abstractmethod
    def save(self, category: Category) -> Category:
        """Store changes; return it with version + 1. ``Conflict`` (stale, duplicate name), ``NotFound``."""

    @abc.abstractmethod
    def list(self, *, active_only: bool = False) -> Sequence[Category]:
        """Return categories ordered by creation time then id (only active ones when ``active_only``)."""


class ServiceRepository(abc.ABC):
    """Catalogue services with their prices per level."""

    @abc.abstractmethod
    def add(self, service: Service) -> Service:
        """Store a new service; return it with version 1.

        Raises ``Conflict`` (``conflict.reference``) when its category or a priced level does not exist.
        """

    @abc.abstractmethod
    def get(self, service_id: ServiceId) -> Service:
        """Return the service; raise ``NotFound`` when there is none."""

    @abc.abstractmethod
    def save(self, service: Service) -> Service:
        """Store changes (prices replaced as a whole); return it with version + 1.

        Raises ``Conflict`` (``conflict.stale``, ``conflict.reference``), ``NotFound``.
        """

    @abc.abstractmethod
    def list(self, *, category_id: CategoryId | None = None, active_only: bool = False) -> Sequence[Service]:
        """Return services ordered by creation time then id, optionally of one category or active only."""


class PackageRepository(abc.ABC):
    """Packages of several sessions of one service."""

    @abc.abstractmethod
    def add(self, package: Package) -> Package:
        """Store a new package; return it with version 1.

        Raises ``Conflict`` (``conflict.reference``) for a missing service.
        """

    @abc.abstractmethod
    def get(self, package_id: PackageId) -> Package:
        """Return the package; raise ``NotFound`` when there is none."""

    @abc.abstractmethod
    def save(self, package: Package) -> Package:
        """Store changes; return it with version + 1. ``Conflict`` (``conflict.stale``), ``NotFound``."""

    @abc.abstractmethod
    def list(self, *, service_id: ServiceId | None = None, active_only: bool = False) -> Sequence[Package]:
        """Return packages ordered by creation time then id, optionally of one service or active only."""
