"""Value objects of a therapist profile: gender, certificates, service area, and their checks.

Coordinates are kept to the micro-degree and radii to the metre, so they
survive storage exactly (the SQL adapter keeps integers).
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
from collections.abc import Iterable
from typing import NoReturn

from attrs import field, frozen

from massage_core.domain.catalog import text, whole
from massage_core.domain.errors import ValidationError
from massage_core.domain.identity_documents import ResidentIdNumber
from massage_core.domain.time import DEFAULT_ZONE, zone

ADULT_AGE = 18
MAX_CERTIFICATES = 10
MAX_SPECIALTIES = 10
MIN_RADIUS_KM, MAX_RADIUS_KM = 0.5, 50.0
_CERT_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-/]{2,49}$")


class Gender(enum.StrEnum):
    """The gender a therapist declares (customers may filter by it)."""

    FEMALE = "female"
    MALE = "male"


def gender(raw: object) -> Gender:
    """Parse a gender; ValidationError (``therapist.gender``) for anything else."""
    try:
        return Gender(str(raw).strip().lower())
    except ValueError:
        raise ValidationError(f"gender must be one of {', '.join(Gender)}", code="therapist.gender",
                              field="gender") from None


def age_on(born: dt.date, today: dt.date) -> int:
    """Whole years from ``born`` to ``today`` (a 29 February birthday counts on 1 March)."""
    years = today.year - born.year
    if (today.month, today.day) < (born.month, born.day):
        years -= 1
    return years


def check_adult(number: ResidentIdNumber, today: dt.date) -> None:
    """Refuse (``therapist.too_young``) an ID number whose birth date makes its holder younger than 18."""
    if number.birth_date > today:
        raise ValidationError("ID number has a birth date in the future", code="id_number.birth_date",
                              field="id_number")
    if age_on(number.birth_date, today) < ADULT_AGE:
        raise ValidationError(f"therapists must be at least {ADULT_AGE} years old", code="therapist.too_young",
                              field="id_number")


def a_date(raw: object, name: str = "expires_on") -> dt.date:
    """A date from a ``date`` or an ISO ``YYYY-MM-DD`` string; ValidationError (``certificate.expiry``) otherwise."""
    if isinstance(raw, dt.datetime):
        raise ValidationError(f"{name} must be a date, not a time", code="certificate.expiry", field=name)
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(raw.strip()) if isinstance(raw, str) else _no_date(name)
    except ValueError:
        return _no_date(name)


def _no_date(name: str) -> NoReturn:
    raise ValidationError(f"{name} must be a date (YYYY-MM-DD)", code="certificate.expiry", field=name)


def _cert_number(raw: object) -> str:
    value = text(raw, "number", "certificate.number", high=50).upper()
    if not _CERT_NUMBER.fullmatch(value):
        raise ValidationError("certificate number must be 3..50 letters, digits, '-' or '/'",
                              code="certificate.number", field="number")
    return value


def _issuer(value: object) -> str:
    return text(value, "issuer", "certificate.issuer", high=100)


@frozen
class Certificate:
    """A qualification certificate: who issued it, its number, and the last day it is valid."""

    issuer: str = field(converter=_issuer)
    number: str = field(converter=_cert_number)
    expires_on: dt.date = field(converter=a_date)

    def expired(self, today: dt.date) -> bool:
        """True from the day after ``expires_on``."""
        return today > self.expires_on


def certificates(values: Iterable[Certificate], today: dt.date) -> tuple[Certificate, ...]:
    """Check a new list of certificates: at most 10, no duplicates, none already expired."""
    result = tuple(values)
    if len(result) > MAX_CERTIFICATES:
        raise ValidationError(f"at most {MAX_CERTIFICATES} certificates", code="certificate.count",
                              field="certificates")
    seen: set[tuple[str, str]] = set()
    for cert in result:
        if not isinstance(cert, Certificate):
            raise ValidationError("certificates must be Certificate values", code="certificate.invalid",
                                  field="certificates")
        if (cert.issuer, cert.number) in seen:
            raise ValidationError(f"certificate {cert.number} is listed twice", code="certificate.duplicate",
                                  field="certificates")
        seen.add((cert.issuer, cert.number))
        if cert.expired(today):
            raise ValidationError(f"certificate {cert.number} expired on {cert.expires_on}",
                                  code="certificate.expired", field="certificates")
    return result


def _coordinate(raw: object, name: str, limit: float) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw) \
            or not -limit <= raw <= limit:
        raise ValidationError(f"{name} must be a number within -{limit:g}..{limit:g}", code="area.coordinates",
                              field=name)
    return round(float(raw) * 1_000_000) / 1_000_000


def _radius(raw: object) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw) \
            or not MIN_RADIUS_KM <= raw <= MAX_RADIUS_KM:
        raise ValidationError(f"radius must be {MIN_RADIUS_KM:g}..{MAX_RADIUS_KM:g} km", code="area.radius",
                              field="radius_km")
    return round(float(raw) * 1000) / 1000


def _lat(value: object) -> float:
    return _coordinate(value, "lat", 90.0)


def _lng(value: object) -> float:
    return _coordinate(value, "lng", 180.0)


@frozen
class ServiceArea:
    """Where a therapist travels: a centre (WGS-84 degrees) and a radius in km."""

    lat: float = field(converter=_lat)
    lng: float = field(converter=_lng)
    radius_km: float = field(converter=_radius)

    def coarse(self) -> tuple[float, float]:
        """The centre rounded to 0.01 degree (about 1 km): what the public may see."""
        return round(self.lat, 2), round(self.lng, 2)


def specialties(values: Iterable[object]) -> tuple[str, ...]:
    """Up to 10 distinct specialties of 1..30 characters each, in the given order."""
    if isinstance(values, str):
        values = [values]
    result: list[str] = []
    for raw in values:
        value = text(raw, "specialties", "therapist.specialties", high=30)
        if value not in result:
            result.append(value)
    if len(result) > MAX_SPECIALTIES:
        raise ValidationError(f"at most {MAX_SPECIALTIES} specialties", code="therapist.specialties",
                              field="specialties")
    return tuple(result)


def years_experience(raw: object) -> int:
    """0..60 whole years."""
    return whole(raw, "years_experience", "therapist.experience", 0, 60)


def time_zone(raw: object) -> str:
    """An IANA time zone name (default Asia/Shanghai); ValidationError (``time.zone``) otherwise."""
    if raw is None or raw == "":
        return DEFAULT_ZONE
    if not isinstance(raw, str):
        raise ValidationError("time zone must be an IANA name", code="time.zone", field="time_zone")
    zone(raw.strip())
    return raw.strip()


def real_name(raw: object) -> str:
    """A real name of 2..50 characters."""
    return text(raw, "real_name", "therapist.real_name", low=2, high=50)


def bio(raw: object) -> str:
    """A short biography of at most 1000 characters."""
    return text(raw, "bio", "therapist.bio", low=0, high=1000)
