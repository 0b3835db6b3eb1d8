"""The catalogue: therapist levels, categories, services priced per level, and packages.

Every aggregate is a frozen attrs class validated on construction, so an
invalid one cannot exist; changes go through ``revise`` (or ``deactivate``)
and return a new object.  Prices are ``Money`` in integer fen.  A service is
priced per therapist level: ``service.price_for(level_code)``.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
from attrs import field, frozen

from massage_core.domain.errors import Conflict, ValidationError
from massage_core.domain.ids import CategoryId, PackageId, ServiceId
from massage_core.domain.money import Money
from massage_core.domain.time import Instant

LEVEL_CODE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
MAX_PRICE_FEN = 10_000_000  # 100 000 yuan: anything above is a typo
MIN_DURATION, MAX_DURATION = 10, 600
MAX_PACKAGE_SESSIONS, MAX_VALIDITY_DAYS = 100, 3650


class Contraindication(enum.StrEnum):
    """The fixed vocabulary of conditions under which a service must not be given."""

    PREGNANCY = "pregnancy"
    RECENT_SURGERY = "recent_surgery"
    SKIN_INFECTION = "skin_infection"
    HYPERTENSION = "hypertension"
    VARICOSE_VEINS = "varicose_veins"
    OSTEOPOROSIS = "osteoporosis"
    FEVER = "fever"


def text(value: object, name: str, code: str, *, low: int = 1, high: int = 80) -> str:
    """``value`` stripped, when it is a string of ``low``..``high`` characters; ValidationError otherwise."""
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be text", code=code, field=name)
    value = value.strip()
    if not low <= len(value) <= high:
        raise ValidationError(f"{name} must be {low}..{high} characters", code=code, field=name)
    return value


def whole(value: object, name: str, code: str, low: int, high: int) -> int:
    """``value`` when it is an integer within ``low``..``high`` (not a bool); ValidationError otherwise."""
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValidationError(f"{name} must be a whole number within {low}..{high}", code=code, field=name)
    return value


def price(value: object, name: str = "price") -> Money:
    """A positive price of at most 100 000 yuan, from Money or integer fen."""
    if isinstance(value, Money):
        money = value
    elif isinstance(value, int) and not isinstance(value, bool):
        money = Money(value)
    elif isinstance(value, float) and math.isfinite(value):
        raise ValidationError(f"{name} must be integer fen, not a float", code="catalog.price", field=name)
    else:
        raise ValidationError(f"{name} must be Money or integer fen", code="catalog.price", field=name)
    if not 0 < money.fen <= MAX_PRICE_FEN:
        raise ValidationError(f"{name} must be 0.01..100000 yuan", code="catalog.price", field=name)
    return money


def contraindications(values: Iterable[object]) -> frozenset[Contraindication]:
    """Parse contraindication codes; unknown ones are refused, naming the vocabulary."""
    if isinstance(values, str):
        values = [part for part in values.split(",") if part.strip()]
    found: set[Contraindication] = set()
    for raw in values:
        try:
            found.add(Contraindication(str(raw).strip()))
        except ValueError:
            raise ValidationError(
                f"unknown contraindication {raw!r}; expected some of {', '.join(Contraindication)}",
                code="catalog.contraindication", field="contraindications",
            ) from None
    return frozenset(found)


def level_code(raw: object) -> str:
    """A level code: lower-case letters, digits and underscores, 2..32 characters, starting with a letter."""
    if not isinstance(raw, str) or not LEVEL_CODE.fullmatch(raw.strip()):
        raise ValidationError("level code must be 2..32 of a-z, 0-9, _ starting with a letter",
                              code="level.code", field="level")
    return raw.strip()


def _name(value: object) -> str:
    return text(value, "name", "catalog.name")


def _description(value: object) -> str:
    return text(value, "description", "catalog.description", low=0, high=2000)


def _level_name(value: object) -> str:
    return text(value, "name", "level.name", high=30)


def _rank(value: object) -> int:
    return whole(value, "rank", "level.rank", 1, 100)


def _duration(value: object) -> int:
    return whole(value, "duration_minutes", "catalog.duration", MIN_DURATION, MAX_DURATION)


def _sessions(value: object) -> int:
    return whole(value, "sessions", "catalog.sessions", 2, MAX_PACKAGE_SESSIONS)


def _validity(value: object) -> int:
    return whole(value, "validity_days", "catalog.validity", 1, MAX_VALIDITY_DAYS)


@frozen
class TherapistLevel:
    """A seniority level (junior, senior, expert...): it decides the price a customer pays."""

    code: str = field(converter=level_code)
    name: str = field(converter=_level_name)
    rank: int = field(converter=_rank)
    version: int = 0


@frozen
class Category:
    """A group of services (full body, foot, oil...)."""

    id: CategoryId
    created_at: Instant
    name: str = field(converter=_name)
    description: str = field(default="", converter=_description)
    active: bool = True
    version: int = 0

    def revise(self, **changes: Any) -> Category:
        """A copy with ``name``, ``description`` or ``active`` changed (validated)."""
        return attrs.evolve(self, **_only(changes, {"name", "description", "active"}))


def _only(changes: Mapping[str, Any], allowed: set[str]) -> dict[str, Any]:
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(f"cannot change {', '.join(sorted(unknown))}", code="catalog.field")
    for key, value in changes.items():
        if key == "active" and value is not None and not isinstance(value, bool):
            raise ValidationError("active must be true or false", code="catalog.active", field="active")
    return {k: v for k, v in changes.items() if v is not None}


def _prices(values: object) -> tuple[tuple[str, Money], ...]:
    if not isinstance(values, Mapping) and not isinstance(values, tuple):
        raise ValidationError("prices must map level codes to prices", code="catalog.price", field="prices")
    pairs = values.items() if isinstance(values, Mapping) else values
    result = {level_code(code): price(amount, f"price for {code}") for code, amount in pairs}
    if not result:
        raise ValidationError("a service needs a price for at least one level", code="catalog.price",
                              field="prices")
    return tuple(sorted(result.items()))


@frozen
class Service:
    """A bookable massage: how long it takes, what it costs per level, when it must not be given."""

    id: ServiceId
    created_at: Instant
    category_id: CategoryId
    name: str = field(converter=_name)
    duration_minutes: int = field(converter=_duration)
    prices: tuple[tuple[str, Money], ...] = field(converter=_prices)
    description: str = field(default="", converter=_description)
    contraindications: frozenset[Contraindication] = field(default=frozenset(), converter=contraindications)
    active: bool = True
    version: int = 0

    def price_for(self, level: str | TherapistLevel) -> Money:
        """The price of this service with a therapist of ``level``; Conflict (``catalog.no_price``) when unpriced."""
        code = level.code if isinstance(level, TherapistLevel) else level
        for candidate, amount in self.prices:
            if candidate == code:
                return amount
        raise Conflict(f"service {self.id} has no price for level {code}", code="catalog.no_price")

    @property
    def levels(self) -> tuple[str, ...]:
        """The level codes this service has a price for."""
        return tuple(code for code, _ in self.prices)

    def revise(self, **changes: Any) -> Service:
        """A copy with name, description, duration, prices, contraindications, category or active changed."""
        allowed = {"name", "description", "duration_minutes", "prices", "contraindications", "category_id",
                   "active"}
        return attrs.evolve(self, **_only(changes, allowed))


@frozen
class Package:
    """N sessions of one service sold together at a price, usable within ``validity_days`` of purchase."""

    id: PackageId
    created_at: Instant
    service_id: ServiceId
    name: str = field(converter=_name)
    sessions: int = field(converter=_sessions)
    price: Money = field(converter=price)
    validity_days: int = field(converter=_validity)
    active: bool = True
    version: int = 0

    def revise(self, **changes: Any) -> Package:
        """A copy with name, sessions, price, validity or active changed."""
        return attrs.evolve(self, **_only(changes, {"name", "sessions", "price", "validity_days", "active"}))
