"""Dispatch (P4): who is offered an order (decision 0024).

Three modes, recorded on the order:

* ``chosen``: the customer picked the therapist.  A rejection or an offer that timed out cancels and refunds
  in full, unless the policy's ``redispatch_chosen`` lets the system look for somebody else.
* ``auto``: the system offers the order to the best match among the eligible therapists (``rank``); after a
  rejection or a timeout, to the next best one who is still free, at most ``max_offers`` times in all.
* ``broadcast``: the paid order is shown to every eligible therapist nearby; the first to grab it gets it
  (the order's version check makes exactly one grab win).  A round nobody grabbed is broadcast again, at most
  ``max_offers`` rounds.

The best match is the highest weighted score of four facts, each scaled to 0..1: proximity (1 at the
address, 0 at the therapist's own service radius), rating (the Bayesian average of ``domain.search`` from 1..5
stars; the prior for the unrated), load (1 with no live order, ``1 / (1 + live orders)`` otherwise) and the
acceptance rate over the policy's window (the neutral value for a therapist never offered anything).  Ties go
to the nearer therapist, then to the smaller id, so a ranking is deterministic.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from attrs import field, frozen

from massage_core.domain.errors import ValidationError
from massage_core.domain.ids import AccountId
from massage_core.domain.policy_values import policy_error, weight, whole, within
from massage_core.domain.search import PRIOR_MEAN, Rating


class DispatchMode(enum.StrEnum):
    """How an order finds its therapist (see the module docstring)."""

    CHOSEN = "chosen"
    AUTO = "auto"
    BROADCAST = "broadcast"


def dispatch_mode(raw: object) -> DispatchMode:
    """Parse a mode; ValidationError ``dispatch.mode`` otherwise."""
    try:
        return DispatchMode(str(raw))
    except ValueError:
        raise ValidationError("dispatch must be chosen, auto or broadcast", code="dispatch.mode",
                              field="dispatch") from None


_policy_error = policy_error("dispatch policy", "dispatch.policy")


def _weight(value: object) -> float:
    return weight(value, _policy_error)


def _share(value: object) -> float:
    return within(value, 0, 1, "a neutral acceptance rate", _policy_error)


def _count(value: object, name: str, low: int, high: int) -> None:
    whole(value, name, low, high, _policy_error)


@frozen
class DispatchWeights:
    """How much each fact counts in the best-match score (any scale; at least one weight above zero)."""

    distance: float = field(default=0.4, converter=_weight)
    rating: float = field(default=0.3, converter=_weight)
    load: float = field(default=0.15, converter=_weight)
    acceptance: float = field(default=0.15, converter=_weight)

    def __attrs_post_init__(self) -> None:
        if self.total <= 0:
            raise _policy_error("the weights", "above zero in sum")

    @property
    def total(self) -> float:
        return self.distance + self.rating + self.load + self.acceptance


@frozen
class DispatchPolicy:
    """Every tunable rule of dispatch.

    ``any_mode``: how a booking without a therapist is dispatched (auto or broadcast); ``max_offers``: offers
    (auto) or rounds (broadcast) before the system gives up, cancels and refunds; ``search_radius_km``: how far
    the system looks for therapists (each must also cover the address with their own service area);
    ``max_candidates``: how many of the nearest are considered; ``stats_days``: the window of the acceptance
    rate; ``neutral_acceptance``: the rate of a therapist never offered anything.
    """

    weights: DispatchWeights = DispatchWeights()
    any_mode: DispatchMode = field(default=DispatchMode.AUTO, converter=dispatch_mode)
    max_offers: int = 3
    search_radius_km: int = 30
    max_candidates: int = 20
    stats_days: int = 30
    neutral_acceptance: float = field(default=0.8, converter=_share)
    redispatch_chosen: bool = False

    def __attrs_post_init__(self) -> None:
        for name, low, high in (("max_offers", 1, 20), ("search_radius_km", 1, 200), ("max_candidates", 1, 200),
                                ("stats_days", 1, 365)):
            _count(getattr(self, name), name, low, high)
        if self.any_mode is DispatchMode.CHOSEN:
            raise _policy_error("any_mode", "auto or broadcast")


@frozen
class TherapistLoad:
    """What the dispatcher knows of a therapist's recent work: live orders now, and offers accepted and
    declined (rejected or timed out) within the policy's window."""

    live: int = 0
    accepted: int = 0
    declined: int = 0

    def acceptance(self, neutral: float) -> float:
        """Accepted / offered, or ``neutral`` when never offered anything."""
        offered = self.accepted + self.declined
        return self.accepted / offered if offered else neutral


@frozen
class CandidateFacts:
    """One eligible therapist as the dispatcher sees them."""

    therapist_id: AccountId
    distance_m: int
    radius_m: int
    rating: Rating | None
    load: TherapistLoad


def score(facts: CandidateFacts, policy: DispatchPolicy) -> float:
    """The weighted best-match score, 0..1 (see the module docstring)."""
    w = policy.weights
    proximity = max(0.0, 1.0 - facts.distance_m / facts.radius_m) if facts.radius_m > 0 else 0.0
    stars = facts.rating.bayesian() if facts.rating is not None else PRIOR_MEAN
    rating = (stars - 1.0) / 4.0
    load = 1.0 / (1.0 + facts.load.live)
    acceptance = facts.load.acceptance(policy.neutral_acceptance)
    total = w.distance * proximity + w.rating * rating + w.load * load + w.acceptance * acceptance
    return total / w.total


def rank(candidates: Iterable[CandidateFacts], policy: DispatchPolicy) -> list[CandidateFacts]:
    """Best match first: score descending, then distance, then therapist id."""
    return sorted(candidates, key=lambda c: (-round(score(c, policy), 9), c.distance_m, c.therapist_id))
