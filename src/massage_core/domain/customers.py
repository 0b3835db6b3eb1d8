"""The CustomerProfile of feature C2: gender, birth, declared health conditions, a health note.

A profile is keyed by the customer's own AccountId (one account, at most one
profile) and every field is optional: a customer who declares nothing has no
conditions, and no service is refused because of them.  Health conditions use
the catalogue's fixed ``Contraindication`` vocabulary, so the booking can
refuse a service contraindicated by what the customer declared.

The birth is a year, or a full date when the customer gives one; the age is
derived from it on a calendar date taken from the clock (never stored).  With
a year only, the age is the one reached during that calendar year.  Either
must give a plausible age: 16..120 years.

Error codes (ValidationError): ``customer.gender``, ``customer.preferred_gender``,
``customer.birth_year``, ``customer.birth_date``, ``customer.health_note``,
``catalog.contraindication`` (an unknown condition, naming the vocabulary).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, NoReturn

import attrs
from attrs import field, frozen

from massage_core.domain.catalog import Contraindication, contraindications, text
from massage_core.domain.errors import ValidationError
from massage_core.domain.ids import AccountId
from massage_core.domain.therapist_values import Gender, age_on
from massage_core.domain.time import DEFAULT_ZONE, Instant, local

MIN_AGE, MAX_AGE = 16, 120
MAX_HEALTH_NOTE = 500
AGE_BANDS: tuple[tuple[int, int, str], ...] = (
    (16, 17, "16-17"), (18, 24, "18-24"), (25, 34, "25-34"), (35, 44, "35-44"), (45, 54, "45-54"),
    (55, 64, "55-64"), (65, MAX_AGE, "65+"),
)
"""Inclusive age ranges and their labels: what back-office staff may see instead of a birth date."""


def _gender(raw: object, name: str, code: str) -> Gender | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, Gender):
        return raw
    try:
        return Gender(str(raw).strip().lower()) if isinstance(raw, str) else _bad_gender(name, code)
    except ValueError:
        return _bad_gender(name, code)


def _bad_gender(name: str, code: str) -> NoReturn:
    raise ValidationError(f"{name} must be one of {', '.join(Gender)} (or nothing)", code=code, field=name)


def customer_gender(raw: object) -> Gender | None:
    """The customer's own gender, or None (not said); ValidationError ``customer.gender``."""
    return _gender(raw, "gender", "customer.gender")


def preferred_gender(raw: object) -> Gender | None:
    """The therapist gender the customer prefers, or None (no preference); ``customer.preferred_gender``."""
    return _gender(raw, "preferred_therapist_gender", "customer.preferred_gender")


def parse_conditions(raw: Iterable[object] | None) -> frozenset[Contraindication]:
    """Declared conditions parsed with the catalogue's ``contraindications`` (``catalog.contraindication``)."""
    if raw is None:
        return frozenset()
    if isinstance(raw, (bytes, dict)) or not isinstance(raw, Iterable):
        raise ValidationError("conditions must be a list of contraindication codes",
                              code="catalog.contraindication", field="conditions")
    return contraindications(raw)


def parse_health_note(raw: object) -> str:
    """A free-text health note of at most 500 characters, stripped ("" for none); ``customer.health_note``."""
    if raw is None:
        return ""
    return text(raw, "health_note", "customer.health_note", low=0, high=MAX_HEALTH_NOTE)


def _birth_year_value(raw: object) -> int:
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw.strip())
    if not isinstance(raw, int) or isinstance(raw, bool) or not 1000 <= raw <= 9999:
        raise ValidationError("birth year must be a four-digit year", code="customer.birth_year",
                              field="birth_year")
    return raw


def _birth_date_value(raw: object) -> dt.date:
    if isinstance(raw, dt.datetime):
        raise ValidationError("birth date must be a date, not a time", code="customer.birth_date",
                              field="birth_date")
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str):
        try:
            return dt.date.fromisoformat(raw.strip())
        except ValueError:
            pass
    raise ValidationError("birth date must be a date (YYYY-MM-DD)", code="customer.birth_date", field="birth_date")


@frozen
class Birth:
    """When the customer was born: a year, and the full date when they gave it.

    Build it with ``Birth.of_year`` or ``Birth.of_date``; the plausibility of the
    age is checked against a day (``check``), since it depends on today.
    """

    year: int
    date: dt.date | None = None

    def __attrs_post_init__(self) -> None:
        _birth_year_value(self.year)
        if self.date is not None and self.date.year != self.year:
            raise ValidationError("birth year and date disagree", code="customer.birth_date", field="birth_date")

    @classmethod
    def of_year(cls, raw: object) -> Birth:
        """A birth year (an int or digits); ValidationError ``customer.birth_year``."""
        return cls(_birth_year_value(raw))

    @classmethod
    def of_date(cls, raw: object) -> Birth:
        """A birth date (a date or ``YYYY-MM-DD``); ValidationError ``customer.birth_date``."""
        day = _birth_date_value(raw)
        return cls(day.year, day)

    @classmethod
    def parse(cls, raw: object) -> Birth:
        """A year (int or four digits) or a date (date or ISO text); the matching error code otherwise."""
        if isinstance(raw, Birth):
            return raw
        if isinstance(raw, dt.date) or (isinstance(raw, str) and "-" in raw):
            return cls.of_date(raw)
        return cls.of_year(raw)

    @property
    def field_name(self) -> str:
        """``birth_date`` when the date is known, ``birth_year`` otherwise (names the error field)."""
        return "birth_date" if self.date is not None else "birth_year"

    def age_on(self, today: dt.date) -> int:
        """Whole years on ``today``: exact with a date; with a year only, the age reached this calendar year."""
        if self.date is not None:
            return age_on(self.date, today)
        return today.year - self.year

    def check(self, today: dt.date) -> Birth:
        """Itself when the age on ``today`` is 16..120; ValidationError ``customer.birth_year``/``_date``."""
        code = f"customer.{self.field_name}"
        if self.date is not None and self.date > today:
            raise ValidationError("birth date is in the future", code=code, field=self.field_name)
        age = self.age_on(today)
        if not MIN_AGE <= age <= MAX_AGE:
            raise ValidationError(f"the age must be {MIN_AGE}..{MAX_AGE} years, not {age}", code=code,
                                  field=self.field_name)
        return self

    def to_text(self) -> str:
        """``YYYY`` or ``YYYY-MM-DD`` (what storage keeps, encrypted); ``Birth.parse`` reads it back."""
        return self.date.isoformat() if self.date is not None else f"{self.year:04d}"


def age_band(age: int) -> str:
    """The band label of ``age`` (``"25-34"``...); ages outside 16..120 are ``"unknown"``."""
    for low, high, label in AGE_BANDS:
        if low <= age <= high:
            return label
    return "unknown"


def _birth(raw: object) -> Birth | None:
    return None if raw is None or raw == "" else Birth.parse(raw)


@frozen
class CustomerProfile:
    """A customer's profile; see the module docstring.  Build with ``declare``; change with ``revise``."""

    customer_id: AccountId
    updated_at: Instant
    gender: Gender | None = field(default=None, converter=customer_gender)
    birth: Birth | None = field(default=None, converter=_birth)
    conditions: frozenset[Contraindication] = field(default=frozenset(), converter=parse_conditions)
    health_note: str = field(default="", converter=parse_health_note)
    preferred_therapist_gender: Gender | None = field(default=None, converter=preferred_gender)
    version: int = 0

    @classmethod
    def declare(cls, customer_id: AccountId, now: Instant, *, gender: object = None, birth: object = None,
                conditions: Iterable[object] | None = (), health_note: object = None,
                preferred_therapist_gender: object = None, zone_name: str = DEFAULT_ZONE) -> CustomerProfile:
        """A new profile (version 0) as declared at ``now``; the age is checked on the local date in ``zone_name``.

        Raises ValidationError with the codes of the module docstring.
        """
        profile = cls(customer_id=customer_id, updated_at=now, gender=gender, birth=birth, conditions=conditions,
                      health_note=health_note, preferred_therapist_gender=preferred_therapist_gender)
        profile._check_birth(now, zone_name)
        return profile

    def revise(self, now: Instant, *, zone_name: str = DEFAULT_ZONE, **values: Any) -> CustomerProfile:
        """The same profile (same version, for compare-and-set) with every field replaced by ``values``.

        Fields not given are cleared: a revision is the whole profile as the customer now declares it.
        """
        fresh = CustomerProfile.declare(self.customer_id, now, zone_name=zone_name, **values)
        return attrs.evolve(fresh, version=self.version)

    def _check_birth(self, now: Instant, zone_name: str) -> None:
        if self.birth is not None:
            self.birth.check(self.today(now, zone_name))

    @staticmethod
    def today(now: Instant, zone_name: str = DEFAULT_ZONE) -> dt.date:
        """The calendar date at ``now`` in ``zone_name`` (default Asia/Shanghai)."""
        return local(now, zone_name).date()

    def age(self, now: Instant, zone_name: str = DEFAULT_ZONE) -> int | None:
        """The customer's age at ``now`` (see ``Birth.age_on``), or None without a birth."""
        return None if self.birth is None else self.birth.age_on(self.today(now, zone_name))

    def age_band(self, now: Instant, zone_name: str = DEFAULT_ZONE) -> str | None:
        """The age band at ``now`` (``"25-34"``...), or None without a birth."""
        age = self.age(now, zone_name)
        return None if age is None else age_band(age)

    @property
    def has_conditions(self) -> bool:
        """True when the customer declared at least one health condition."""
        return bool(self.conditions)

    def condition_values(self) -> frozenset[str]:
        """The declared conditions as their code strings."""
        return frozenset(c.value for c in self.conditions)
