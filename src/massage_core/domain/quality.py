"""Therapist quality score and ranking (issue 6, A2; decision 0039).  Pure and deterministic.

The score is 0..100, rounded to 2 decimals.  Five *rates*, each 0..1, are weighted (``QualityWeights``,
any scale, divided by their sum)::

    rating       = (Bayesian stars - 1) / 4            the reviews' rating (domain.search.Rating.bayesian;
                                                       the prior's mean for an unrated therapist)
    acceptance   = smooth(accepted, accepted + declined, prior_acceptance)
    reliability  = smooth(due - dropped, due, prior_reliability)      1 - the cancellation rate
    punctuality  = smooth(arrived - late, arrived, prior_punctuality) the on-time arrival rate
    safety       = smooth(finished - with_sos, finished, prior_safety) the SOS-free completion rate

    smooth(good, n, prior) = (good + prior * prior_weight) / (n + prior_weight)

so every rate starts at its prior and moves towards the therapist's own record as orders accumulate: with
the default ``prior_weight`` of 10 a newcomer's one perfect order moves a rate by less than a tenth of the
way, and one five-star review moves the rating little (the Bayesian prior).  Then::

    base  = 100 * sum(weight * rate) / sum(weights)
    score = max(0, base - complaint_points * upheld complaints - sanction_points * standing sanctions)

Upheld complaints (all time) and standing sanctions (not reversed, imposed within the window) only ever
lower the score.  The order facts come from a trailing window of ``window_days`` (by scheduled start).

Ranking (``rank``): score descending, then the number of reviews descending (the better-known therapist
first), then the therapist id ascending -- a total order, so a ranking never depends on input order.

Cities: a ranking is per city and service.  A city is a named circle (``City``: centre and radius) from the
policy's gazetteer; a therapist belongs to it when the centre of their service area lies inside the circle.
"""

from __future__ import annotations

from collections.abc import Iterable

from attrs import field, frozen

from massage_core.domain.errors import ValidationError
from massage_core.domain.ids import AccountId
from massage_core.domain.policy_values import policy_error, weight, whole, within
from massage_core.domain.search import PRIOR, Rating, RatingPrior, haversine_m


_policy_error = policy_error("quality policy", "quality.policy")


def _weight(value: object) -> float:
    return weight(value, _policy_error)


def _share(value: object) -> float:
    return within(value, 0, 1, "a prior rate", _policy_error)


def _points(value: object) -> float:
    return within(value, 0, 100, "a deduction in points", _policy_error)


def _whole(value: object, name: str, low: int, high: int) -> int:
    return whole(value, name, low, high, _policy_error)


@frozen
class City:
    """A city for rankings: a lower-case name and a circle (centre in degrees, radius in km)."""

    name: str
    lat: float
    lng: float
    radius_km: float

    def __attrs_post_init__(self) -> None:
        if not self.name or self.name != self.name.strip().lower():
            raise _policy_error("a city name", "lower-case and not empty")
        if not (-90 <= self.lat <= 90 and -180 <= self.lng <= 180 and 0 < self.radius_km <= 200):
            raise _policy_error(f"city {self.name}", "a point and a radius of 0..200 km")

    def holds(self, lat: float, lng: float) -> bool:
        """True when (lat, lng) lies inside the circle (boundary included)."""
        return haversine_m(self.lat, self.lng, lat, lng) <= self.radius_km * 1000


DEFAULT_CITIES: tuple[City, ...] = (
    City("shanghai", 31.2304, 121.4737, 60.0),
    City("beijing", 39.9042, 116.4074, 60.0),
    City("guangzhou", 23.1291, 113.2644, 50.0),
    City("shenzhen", 22.5431, 114.0579, 45.0),
    City("hangzhou", 30.2741, 120.1551, 45.0),
    City("chengdu", 30.5728, 104.0668, 45.0),
)
"""The default gazetteer: city centres (city hall squares, rounded) with a radius covering the urban area."""


@frozen
class QualityWeights:
    """How much each rate counts (any scale; at least one above zero)."""

    rating: float = field(default=0.35, converter=_weight)
    acceptance: float = field(default=0.15, converter=_weight)
    reliability: float = field(default=0.20, converter=_weight)
    punctuality: float = field(default=0.15, converter=_weight)
    safety: float = field(default=0.15, converter=_weight)

    def __attrs_post_init__(self) -> None:
        if self.total <= 0:
            raise _policy_error("the weights", "above zero in sum")

    @property
    def total(self) -> float:
        return self.rating + self.acceptance + self.reliability + self.punctuality + self.safety


def _weights(value: object) -> None:
    if not isinstance(value, QualityWeights):
        raise _policy_error("weights", "QualityWeights")


def _window(value: object) -> int:
    return _whole(value, "window_days", 1, 730)


def _prior_weight(value: object) -> int:
    return _whole(value, "prior_weight", 0, 1000)


def _max_ranked(value: object) -> int:
    return _whole(value, "max_ranked", 1, 100_000)


def _cities(values: Iterable[City]) -> tuple[City, ...]:
    found = tuple(values)
    if not all(isinstance(c, City) for c in found) or len({c.name for c in found}) != len(found):
        raise _policy_error("cities", "City values with distinct names")
    return found


@frozen
class QualityPolicy:
    """Every tunable rule of the quality score and the rankings (see the module docstring)."""

    weights: QualityWeights = field(default=QualityWeights(), validator=lambda _i, _a, v: _weights(v))
    window_days: int = field(default=90, converter=_window)
    prior_weight: int = field(default=10, converter=_prior_weight)
    prior_acceptance: float = field(default=0.8, converter=_share)
    prior_reliability: float = field(default=0.9, converter=_share)
    prior_punctuality: float = field(default=0.9, converter=_share)
    prior_safety: float = field(default=0.95, converter=_share)
    complaint_points: float = field(default=5.0, converter=_points)
    sanction_points: float = field(default=5.0, converter=_points)
    cities: tuple[City, ...] = field(default=DEFAULT_CITIES, converter=_cities)
    max_ranked: int = field(default=1000, converter=_max_ranked)
    """At most this many therapists of a city and service are scored for one ranking (the nearest first)."""

    def city(self, name: object) -> City:
        """The city called ``name`` (case-insensitive); ValidationError ``quality.city``."""
        wanted = name.strip().lower() if isinstance(name, str) else ""
        for city in self.cities:
            if city.name == wanted:
                return city
        known = ", ".join(c.name for c in self.cities)
        raise ValidationError(f"unknown city {str(name)[:40]!r}; known: {known}", code="quality.city",
                              field="city")


@frozen
class ServiceRecord:
    """A therapist's visits in a window (orders assigned to them, by scheduled start):

    ``due`` -- visits they arrived at or that ended through their fault; ``dropped`` -- those that ended
    through their fault (they cancelled, never came, or were so late the customer cancelled: the order's
    settlement penalty); ``arrived`` -- visits they arrived at; ``late`` -- of those, late arrivals;
    ``finished`` -- visits they finished; ``with_sos`` -- of those, visits with an SOS."""

    due: int = 0
    dropped: int = 0
    arrived: int = 0
    late: int = 0
    finished: int = 0
    with_sos: int = 0


@frozen
class QualityFacts:
    """Everything the score of one therapist weighs."""

    therapist_id: AccountId
    rating: Rating | None = None
    accepted: int = 0
    declined: int = 0
    record: ServiceRecord = ServiceRecord()
    upheld_complaints: int = 0
    standing_sanctions: int = 0


@frozen
class QualityScore:
    """A therapist's score (0..100, 2 decimals) with its parts: each rate 0..1 (4 decimals), the counts that
    lowered it, and the number of reviews (the ranking's first tie-break)."""

    therapist_id: AccountId
    score: float
    rating: float
    acceptance: float
    reliability: float
    punctuality: float
    safety: float
    upheld_complaints: int
    standing_sanctions: int
    review_count: int


def smooth(good: int, total: int, prior: float, weight: int) -> float:
    """``good`` of ``total`` pulled towards ``prior`` by ``weight`` imaginary observations (``prior`` when
    there is nothing at all)."""
    good, total = max(0, min(good, total)), max(0, total)
    if total + weight == 0:
        return prior
    return (good + prior * weight) / (total + weight)


def quality_score(facts: QualityFacts, policy: QualityPolicy, prior: RatingPrior | None = None) -> QualityScore:
    """The score of ``facts`` under ``policy`` (see the module docstring); ``prior``: the ratings' prior."""
    stars = facts.rating.bayesian(prior) if facts.rating is not None else (prior or PRIOR).mean
    r, n = facts.record, policy.prior_weight
    rates = (
        (stars - 1.0) / 4.0,
        smooth(facts.accepted, facts.accepted + facts.declined, policy.prior_acceptance, n),
        smooth(r.due - r.dropped, r.due, policy.prior_reliability, n),
        smooth(r.arrived - r.late, r.arrived, policy.prior_punctuality, n),
        smooth(r.finished - r.with_sos, r.finished, policy.prior_safety, n),
    )
    w = policy.weights
    base = 100.0 * sum(weight * rate for weight, rate in zip(
        (w.rating, w.acceptance, w.reliability, w.punctuality, w.safety), rates)) / w.total
    complaints, sanctions = max(0, facts.upheld_complaints), max(0, facts.standing_sanctions)
    score = max(0.0, base - policy.complaint_points * complaints - policy.sanction_points * sanctions)
    rating, acceptance, reliability, punctuality, safety = (round(rate, 4) for rate in rates)
    return QualityScore(facts.therapist_id, round(score, 2), rating, acceptance, reliability, punctuality, safety,
                        complaints, sanctions, facts.rating.count if facts.rating is not None else 0)


def rank(scores: Iterable[QualityScore]) -> list[QualityScore]:
    """Best first: score descending, then review count descending, then therapist id ascending."""
    return sorted(scores, key=lambda s: (-s.score, -s.review_count, s.therapist_id))
