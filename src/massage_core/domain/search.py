"""Therapist search (C5): the query, great-circle distance, ratings, the composite score and the orderings.

Everything here is pure and deterministic, so the adapters, the service and
the brute-force reference of the tests compute bit-identical distances and
scores (decision 0014):

* distance: haversine on a sphere of the mean Earth radius, in metres;
* filters: within ``radius_km``; offering ``service_id``; priced for it at
  their level within ``min_price..max_price`` (fen); rating ``>= min_rating``
  (unrated therapists never pass it); ``gender``; ``level``; free for the
  service at ``free_at``;
* orderings, each ending with the therapist id so equal keys never tie:
  distance ``(d, id)``; price ``(price, d, id)``; rating ``(unrated, -average,
  -count, d, id)``; score ``(-score, d, id)``.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Iterator
from typing import Any

from attrs import field, frozen

from massage_core.domain.catalog import level_code
from massage_core.domain.errors import ValidationError
from massage_core.domain.ids import AccountId, ServiceId, service_id
from massage_core.domain.money import Money
from massage_core.domain.therapist_values import Gender, gender
from massage_core.domain.time import Instant, utc

EARTH_RADIUS_M = 6_371_008.8
"""The mean Earth radius (IUGG), metres."""
MAX_RADIUS_KM = 50.0
MAX_LIMIT = 100
MAX_OFFSET = 10_000
PRIOR_MEAN, PRIOR_WEIGHT = 3.5, 5
"""Bayesian prior of the score: every therapist starts with 5 imaginary 3.5-star reviews."""
WEIGHTS = (0.5, 0.35, 0.15)
"""Score weights of proximity, rating and seniority (level)."""

RadPoint = tuple[float, float, float]
"""A point as (latitude in radians, longitude in radians, cosine of the latitude)."""


def rad_point(lat: float, lng: float) -> RadPoint:
    """The point in radians with its latitude's cosine (indexes precompute it once per therapist)."""
    phi = math.radians(lat)
    return phi, math.radians(lng), math.cos(phi)


def arc_m(a: RadPoint, b: RadPoint) -> float:
    """Great-circle (haversine) distance in metres between two ``rad_point`` values."""
    s_phi = math.sin((b[0] - a[0]) / 2)
    s_lam = math.sin((b[1] - a[1]) / 2)
    h = s_phi * s_phi + a[2] * b[2] * s_lam * s_lam
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres between two WGS-84 points given in degrees."""
    return arc_m(rad_point(lat1, lng1), rad_point(lat2, lng2))


def bounding_box(lat: float, lng: float, radius_m: float) -> tuple[float, float, list[tuple[float, float]]]:
    """A box holding every point within ``radius_m`` of (lat, lng): south, north and the west..east spans of
    longitude (two when the box crosses the antimeridian; all longitudes when it reaches a pole)."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    south, north = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    edge = math.cos(math.radians(max(abs(south), abs(north))))
    dlng = math.degrees(radius_m / (EARTH_RADIUS_M * edge)) * 1.000001 if edge > 1e-9 else 180.0
    if dlng >= 180.0:
        return south, north, [(-180.0, 180.0)]
    if lng - dlng < -180.0:
        return south, north, [(lng - dlng + 360.0, 180.0), (-180.0, lng + dlng)]
    if lng + dlng > 180.0:
        return south, north, [(lng - dlng, 180.0), (-180.0, lng + dlng - 360.0)]
    return south, north, [(lng - dlng, lng + dlng)]


FIRST_RADIUS_M = 1000.0


def widening(radius_m: float) -> Iterator[float]:
    """Radii for a k-nearest search: 1 km, doubled each time, ending with ``radius_m`` itself.

    Once a circle holds k matches they are the k nearest: every point outside it is farther.
    """
    radius = min(radius_m, FIRST_RADIUS_M)
    while radius < radius_m:
        yield radius
        radius = min(radius_m, radius * 2)
    yield radius_m


def _number(raw: object, name: str, code: str, low: float, high: float) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw) \
            or not low <= raw <= high:
        raise ValidationError(f"{name} must be a number within {low:g}..{high:g}", code=code, field=name)
    return float(raw)


def _average(raw: object) -> float:
    return round(_number(raw, "average", "rating.average", 1.0, 5.0) * 1000) / 1000


def _count(raw: object) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise ValidationError("a rating needs at least one review", code="rating.count", field="count")
    return raw


@frozen
class Rating:
    """The rating read model of a therapist: average stars (1..5, kept to 0.001) over ``count`` reviews.

    A therapist without reviews has no Rating (None), not a zero one.
    """

    average: float = field(converter=_average)
    count: int = field(converter=_count)

    def bayesian(self, prior: RatingPrior | None = None) -> float:
        """The average pulled towards the prior (by default ``PRIOR``), so 1 review of 5 stars does not beat
        200 of 4.9."""
        p = prior or PRIOR
        return (p.mean * p.weight + self.average * self.count) / (p.weight + self.count)


@frozen
class RatingPrior:
    """The Bayesian prior of ratings: every therapist starts with ``weight`` imaginary ``mean``-star reviews
    (configurable as ``Policies.rating_prior``; decision 0037).  ValidationError ``rating.prior``."""

    mean: float = field(default=PRIOR_MEAN)
    weight: int = field(default=PRIOR_WEIGHT)

    def __attrs_post_init__(self) -> None:
        mean_ok = not isinstance(self.mean, bool) and isinstance(self.mean, (int, float)) and 1 <= self.mean <= 5
        weight_ok = not isinstance(self.weight, bool) and isinstance(self.weight, int) and self.weight >= 0
        if not (mean_ok and weight_ok):
            raise ValidationError("a rating prior is a mean of 1..5 stars and a weight >= 0", code="rating.prior")


PRIOR = RatingPrior()
"""The default prior (``PRIOR_MEAN``, ``PRIOR_WEIGHT``), used by search and dispatch."""


class SortOrder(enum.StrEnum):
    """How results are ordered (each ends with the therapist id)."""

    DISTANCE = "distance"
    PRICE = "price"
    RATING = "rating"
    SCORE = "score"


def _lat(raw: object) -> float:
    return round(_number(raw, "lat", "search.point", -90.0, 90.0) * 1_000_000) / 1_000_000


def _lng(raw: object) -> float:
    return round(_number(raw, "lng", "search.point", -180.0, 180.0) * 1_000_000) / 1_000_000


def _radius(raw: object) -> float:
    value = _number(raw, "radius_km", "search.radius", 0.0, MAX_RADIUS_KM)
    if value <= 0:
        raise ValidationError("radius_km must be more than 0", code="search.radius", field="radius_km")
    return value


def _optional_service(raw: object) -> ServiceId | None:
    return None if raw is None else service_id(raw)


def _fen(raw: object) -> int | None:
    if raw is None:
        return None
    fen = raw.fen if isinstance(raw, Money) else raw
    if isinstance(fen, bool) or not isinstance(fen, int) or fen < 0:
        raise ValidationError("a price bound must be Money or whole fen >= 0", code="search.price", field="price")
    return fen


def _min_rating(raw: object) -> float | None:
    return None if raw is None else _number(raw, "min_rating", "search.rating", 0.0, 5.0)


def _gender(raw: object) -> Gender | None:
    return None if raw is None else gender(raw)


def _level(raw: object) -> str | None:
    return None if raw is None else level_code(raw)


def _free_at(raw: object) -> Instant | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        try:
            raw = dt.datetime.fromisoformat(raw.strip())
        except ValueError:
            raw = None
    if not isinstance(raw, dt.datetime):
        raise ValidationError("free_at must be an aware datetime (ISO 8601 with an offset)",
                              code="search.free_at", field="free_at")
    return utc(raw)


def _sort(raw: object) -> SortOrder:
    try:
        return SortOrder(str(raw).strip().lower())
    except ValueError:
        raise ValidationError(f"sort must be one of {', '.join(SortOrder)}", code="search.sort",
                              field="sort") from None


def _page_number(raw: object, name: str, low: int, high: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
        raise ValidationError(f"{name} must be a whole number within {low}..{high}", code=f"page.{name}",
                              field=name)
    return raw


def _offset(raw: object) -> int:
    return _page_number(raw, "offset", 0, MAX_OFFSET)


def _limit(raw: object) -> int:
    return _page_number(raw, "limit", 1, MAX_LIMIT)


@frozen
class SearchQuery:
    """A validated search: where, what, which filters, which order and page (see the module docstring).

    Raises ValidationError: ``search.point``, ``search.radius`` (0 < r <= 50 km),
    ``search.price`` (negative, float, min above max), ``search.rating`` (0..5),
    ``therapist.gender``, ``level.code``, ``search.free_at`` (naive), ``search.sort``,
    ``page.offset`` (0..10000), ``page.limit`` (1..100), ``search.needs_service``
    (a price bound, price order or ``free_at`` without a service), and ``id.*``.
    """

    lat: float = field(converter=_lat)
    lng: float = field(converter=_lng)
    radius_km: float = field(default=10.0, converter=_radius)
    service_id: ServiceId | None = field(default=None, converter=_optional_service)
    min_price_fen: int | None = field(default=None, converter=_fen)
    max_price_fen: int | None = field(default=None, converter=_fen)
    min_rating: float | None = field(default=None, converter=_min_rating)
    gender: Gender | None = field(default=None, converter=_gender)
    level: str | None = field(default=None, converter=_level)
    free_at: Instant | None = field(default=None, converter=_free_at)
    sort: SortOrder = field(default=SortOrder.DISTANCE, converter=_sort)
    offset: int = field(default=0, converter=_offset)
    limit: int = field(default=20, converter=_limit)

    def __attrs_post_init__(self) -> None:
        low, high = self.min_price_fen, self.max_price_fen
        if low is not None and high is not None and low > high:
            raise ValidationError("min_price is above max_price", code="search.price", field="min_price")
        needs = low is not None or high is not None or self.free_at is not None or self.sort is SortOrder.PRICE
        if needs and self.service_id is None:
            raise ValidationError("price bounds, price order and free_at need a service",
                                  code="search.needs_service", field="service")

    @property
    def radius_m(self) -> float:
        return self.radius_km * 1000

    def price_admits(self, fen: int) -> bool:
        """True when ``fen`` lies within the price bounds."""
        return (self.min_price_fen is None or fen >= self.min_price_fen) and \
            (self.max_price_fen is None or fen <= self.max_price_fen)


@frozen
class LocatorQuery:
    """What a ``TherapistLocator`` is asked: public therapists within ``radius_m`` of a point passing the
    static filters (a None filter admits everybody; ``levels`` also excludes therapists without a level)."""

    lat: float
    lng: float
    radius_m: float
    service_id: ServiceId | None = None
    gender: Gender | None = None
    levels: frozenset[str] | None = None
    min_rating: float | None = None

    def admits(self, gender: Gender, level: str | None, rating: Rating | None) -> bool:
        """The non-spatial filters (the service is checked by the index itself)."""
        return (self.gender is None or gender is self.gender) \
            and (self.levels is None or level in self.levels) \
            and (self.min_rating is None or (rating is not None and rating.average >= self.min_rating))


@frozen
class Candidate:
    """A public therapist found by a locator, with the exact distance from the query point."""

    therapist_id: AccountId
    distance_m: float
    gender: Gender
    level: str | None
    rating: Rating | None


def composite_score(distance_m: float, radius_m: float, rating: Rating | None, level_rank: int | None,
                    top_rank: int) -> float:
    """0..1: 0.5 x proximity (1 at the point, 0 at the radius) + 0.35 x rating (Bayesian average, the prior
    for the unrated, scaled from 1..5 stars) + 0.15 x seniority (level rank / highest rank; 0 without)."""
    proximity = max(0.0, 1.0 - distance_m / radius_m)
    stars = rating.bayesian() if rating is not None else PRIOR_MEAN
    seniority = level_rank / top_rank if level_rank is not None and top_rank > 0 else 0.0
    w_near, w_rating, w_level = WEIGHTS
    return w_near * proximity + w_rating * (stars - 1.0) / 4.0 + w_level * seniority


def order_key(order: SortOrder, *, therapist_id: str, distance_m: float, price_fen: int | None,
              rating: Rating | None, score: float) -> tuple[Any, ...]:
    """The sort key of one result under ``order`` (ascending)."""
    if order is SortOrder.PRICE:
        return (price_fen if price_fen is not None else math.inf, distance_m, therapist_id)
    if order is SortOrder.RATING:
        if rating is None:
            return (1, 0.0, 0, distance_m, therapist_id)
        return (0, -rating.average, -rating.count, distance_m, therapist_id)
    if order is SortOrder.SCORE:
        return (-score, distance_m, therapist_id)
    return (distance_m, therapist_id)
