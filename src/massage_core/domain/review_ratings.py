"""A therapist's rating from their counted reviews: per dimension and overall, Bayesian (decision 0037).

Counted means approved and no longer blind (``Review.public_at``).  For each dimension ``d`` with prior
``(m, C)`` (``Policies.rating_prior``) and ``n`` counted reviews of star sum ``S_d``::

    bayesian_d = (m * C + S_d) / (C + n)

and ``overall`` is the same over each review's mean of its three dimensions (so its star sum is
``(S_attitude + S_skill + S_pressure) / 3``).  Every figure is rounded half-even to 3 decimals.  One 5-star
review of a newcomer with the default prior (3.5, 5) gives (17.5 + 5) / 6 = 3.75, not 5.

The search index is fed the *plain* average of the overall stars and the count (``domain.search.Rating``);
search and dispatch pull it towards their prior themselves.
"""

from __future__ import annotations

from attrs import frozen

from massage_core.domain.search import PRIOR, Rating, RatingPrior


@frozen
class ScoreSums:
    """How many counted reviews a therapist has and the star sums of each dimension."""

    count: int = 0
    attitude: int = 0
    skill: int = 0
    pressure: int = 0

    def plus(self, attitude: int, skill: int, pressure: int) -> ScoreSums:
        """These sums with one more review."""
        return ScoreSums(self.count + 1, self.attitude + attitude, self.skill + skill, self.pressure + pressure)

    @property
    def overall(self) -> float:
        """The star sum of the reviews' overall (mean of three) scores."""
        return (self.attitude + self.skill + self.pressure) / 3


def bayesian(total: float, count: int, prior: RatingPrior) -> float:
    """``(prior.mean * prior.weight + total) / (prior.weight + count)``, 3 decimals; the prior mean alone
    when there is nothing at all (no reviews and a zero weight)."""
    if prior.weight + count == 0:
        return round(prior.mean, 3)
    return round((prior.mean * prior.weight + total) / (prior.weight + count), 3)


@frozen
class TherapistRating:
    """A therapist's public rating: the counted reviews and the Bayesian stars per dimension and overall,
    plus the plain overall mean (None without reviews)."""

    count: int
    attitude: float
    skill: float
    pressure: float
    overall: float
    plain: float | None

    @classmethod
    def of(cls, sums: ScoreSums, prior: RatingPrior = PRIOR) -> TherapistRating:
        """The rating from the sums, under ``prior``."""
        n = sums.count
        plain = round(sums.overall / n, 3) if n else None
        return cls(n, bayesian(sums.attitude, n, prior), bayesian(sums.skill, n, prior),
                   bayesian(sums.pressure, n, prior), bayesian(sums.overall, n, prior), plain)

    def for_search(self) -> Rating | None:
        """The search read model: the plain overall average and the count; None without reviews."""
        if self.plain is None:
            return None
        return Rating(self.plain, self.count)
