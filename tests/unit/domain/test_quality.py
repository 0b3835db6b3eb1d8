"""The quality score and the ranking (``domain.quality``, decision 0039): hand-computed cases, the newcomer
rule, tie-breaks, and Hypothesis properties (determinism, monotonicity, order independence)."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from massage_core.domain.errors import ValidationError
from massage_core.domain.ids import AccountId
from massage_core.domain.quality import (
    City,
    QualityFacts,
    QualityPolicy,
    QualityScore,
    QualityWeights,
    ServiceRecord,
    quality_score,
    rank,
    smooth,
)
from massage_core.domain.search import Rating

A, B, C = (AccountId(f"acc_0000000000000000000000000{n}") for n in (1, 2, 3))
EVEN = QualityPolicy(weights=QualityWeights(1, 1, 1, 1, 1), prior_weight=10, prior_acceptance=0.5,
                     prior_reliability=0.5, prior_punctuality=0.5, prior_safety=0.5, complaint_points=10,
                     sanction_points=4)
"""Equal weights and 0.5 priors: easy to compute by hand."""


def test_smoothing_starts_at_the_prior_and_moves_towards_the_record() -> None:
    assert smooth(0, 0, 0.8, 10) == 0.8
    assert smooth(0, 0, 0.8, 0) == 0.8
    assert smooth(10, 10, 0.5, 10) == 0.75  # (10 + 5) / 20
    assert smooth(3, 4, 0.5, 0) == 0.75
    assert smooth(9, 4, 0.5, 0) == 1.0  # never more successes than trials


def test_a_hand_computed_score() -> None:
    facts = QualityFacts(A, Rating(4.0, 15), accepted=8, declined=2,
                         record=ServiceRecord(due=10, dropped=0, arrived=10, late=10, finished=30, with_sos=0),
                         upheld_complaints=1, standing_sanctions=2)
    got = quality_score(facts, EVEN)
    # rating: Bayesian (3.5 * 5 + 4.0 * 15) / 20 = 3.875 stars -> (3.875 - 1) / 4 = 0.71875
    # acceptance (8 + 5) / 20 = 0.65; reliability (10 + 5) / 20 = 0.75; punctuality (0 + 5) / 20 = 0.25;
    # safety (30 + 5) / 40 = 0.875; base = 100 * (0.71875 + 0.65 + 0.75 + 0.25 + 0.875) / 5 = 64.875;
    # minus 1 complaint x 10 and 2 sanctions x 4 = 46.875, shown to 2 decimals.
    assert (got.rating, got.acceptance, got.reliability, got.punctuality, got.safety) == (
        0.7188, 0.65, 0.75, 0.25, 0.875)
    assert got.score == 46.88
    assert (got.upheld_complaints, got.standing_sanctions, got.review_count) == (1, 2, 15)


def test_the_default_policy_on_a_newcomer_without_anything() -> None:
    got = quality_score(QualityFacts(A), QualityPolicy())
    # 100 * (0.35 * 0.625 + 0.15 * 0.8 + 0.2 * 0.9 + 0.15 * 0.9 + 0.15 * 0.95) = 79.625 (79.62 in binary floats)
    assert got.score in (79.62, 79.63)
    assert (got.rating, got.acceptance, got.reliability, got.punctuality, got.safety, got.review_count) == (
        0.625, 0.8, 0.9, 0.9, 0.95, 0)


def test_the_score_never_goes_below_zero() -> None:
    assert quality_score(QualityFacts(A, upheld_complaints=50), QualityPolicy()).score == 0.0


def test_one_perfect_order_does_not_put_a_newcomer_on_top() -> None:
    newcomer = QualityFacts(A, Rating(5.0, 1), accepted=1,
                            record=ServiceRecord(due=1, arrived=1, finished=1))
    established = QualityFacts(B, Rating(4.7, 120), accepted=90, declined=10,
                               record=ServiceRecord(due=100, dropped=2, arrived=98, late=5, finished=98, with_sos=1))
    policy = QualityPolicy()
    assert [s.therapist_id for s in rank([quality_score(f, policy) for f in (newcomer, established)])] == [B, A]


def score(who: AccountId, value: float, reviews: int) -> QualityScore:
    return QualityScore(who, value, 0.5, 0.5, 0.5, 0.5, 0.5, 0, 0, reviews)


def test_the_ranking_breaks_ties_by_review_count_then_id() -> None:
    scores = [score(C, 80.0, 10), score(B, 80.0, 10), score(A, 70.0, 500), score(AccountId("acc_0" * 1 + "9" * 25),
                                                                              80.0, 11)]
    assert [s.therapist_id for s in rank(scores)] == ["acc_0" + "9" * 25, B, C, A]


def test_a_city_holds_the_points_of_its_circle() -> None:
    shanghai = QualityPolicy().city(" Shanghai ")
    assert shanghai.holds(31.2304, 121.4737) and shanghai.holds(31.0, 121.2)
    assert not shanghai.holds(39.9042, 116.4074)
    with pytest.raises(ValidationError) as unknown:
        QualityPolicy().city("atlantis")
    assert unknown.value.code == "quality.city"


@pytest.mark.parametrize("bad", [
    {"window_days": 0}, {"prior_weight": -1}, {"prior_safety": 1.5}, {"complaint_points": -1},
    {"weights": "heavy"}, {"cities": (City("x", 0, 0, 1), City("x", 1, 1, 1))},
])
def test_a_bad_policy_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises((ValidationError, TypeError)):
        QualityPolicy(**bad)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        QualityWeights(0, 0, 0, 0, 0)


counts = st.integers(min_value=0, max_value=300)


@st.composite
def facts(draw: st.DrawFn, who: AccountId = A) -> QualityFacts:
    arrived, finished, due = draw(counts), draw(counts), draw(counts)
    rating = draw(st.none() | st.builds(Rating, st.floats(1, 5), st.integers(1, 500)))
    record = ServiceRecord(due=due + arrived, dropped=draw(st.integers(0, due)), arrived=arrived,
                           late=draw(st.integers(0, arrived)), finished=finished,
                           with_sos=draw(st.integers(0, finished)))
    return QualityFacts(who, rating, draw(counts), draw(counts), record, draw(st.integers(0, 30)),
                        draw(st.integers(0, 30)))


@given(facts(), st.integers(1, 5))
def test_more_upheld_complaints_or_sanctions_never_raise_the_score(f: QualityFacts, more: int) -> None:
    policy = QualityPolicy()
    before = quality_score(f, policy).score
    assert quality_score(attrs.evolve(f, upheld_complaints=f.upheld_complaints + more), policy).score <= before
    assert quality_score(attrs.evolve(f, standing_sanctions=f.standing_sanctions + more), policy).score <= before


@given(facts(), st.integers(1, 5))
def test_more_faults_never_raise_the_score(f: QualityFacts, more: int) -> None:
    policy, r = QualityPolicy(), f.record
    before = quality_score(f, policy).score
    worse = (
        attrs.evolve(r, due=r.due + more, dropped=r.dropped + more),  # dropped visits
        attrs.evolve(r, late=min(r.arrived, r.late + more)),  # on-time arrivals turned late
        attrs.evolve(r, with_sos=min(r.finished, r.with_sos + more)),  # SOS-free visits turned SOS
        attrs.evolve(r, finished=r.finished + more, with_sos=r.with_sos + more),  # more visits with an SOS
    )
    for record in worse:
        assert quality_score(attrs.evolve(f, record=record), policy).score <= before
    assert quality_score(attrs.evolve(f, declined=f.declined + more), policy).score <= before


@given(facts())
def test_the_score_is_deterministic_and_within_bounds(f: QualityFacts) -> None:
    first, second = quality_score(f, QualityPolicy()), quality_score(f, QualityPolicy())
    assert first == second and 0.0 <= first.score <= 100.0
    for part in (first.rating, first.acceptance, first.reliability, first.punctuality, first.safety):
        assert 0.0 <= part <= 1.0


@given(st.lists(st.tuples(st.sampled_from([A, B, C]), st.sampled_from([50.0, 60.5, 80.0]), st.integers(0, 3)),
                max_size=12), st.randoms())
def test_the_ranking_does_not_depend_on_the_input_order(rows: list[tuple[AccountId, float, int]],
                                                        shuffler: object) -> None:
    scores = [score(*row) for row in rows]
    shuffled = list(scores)
    shuffler.shuffle(shuffled)  # type: ignore[attr-defined]
    assert rank(shuffled) == rank(scores)
    ranked = rank(scores)
    keys = [(-s.score, -s.review_count, s.therapist_id) for s in ranked]
    assert keys == sorted(keys)
