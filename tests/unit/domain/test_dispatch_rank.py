"""The best-match score and rank of ``domain.dispatch``: hand-computed cases, the policy's validation, and
properties (deterministic, order-independent, within 0..1)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from massage_core.domain.dispatch import (
    CandidateFacts,
    DispatchMode,
    DispatchPolicy,
    DispatchWeights,
    TherapistLoad,
    dispatch_mode,
    rank,
    score,
)
from massage_core.domain.errors import ValidationError
from massage_core.domain.ids import AccountId
from massage_core.domain.search import Rating


def facts(name: str, metres: int, rating: Rating | None = None, load: TherapistLoad = TherapistLoad(),
          radius: int = 10_000) -> CandidateFacts:
    return CandidateFacts(AccountId(f"acc_{name:0>26}"), metres, radius, rating, load)


def test_a_hand_computed_score() -> None:
    # proximity 1 - 2500/10000 = 0.75; rating: bayesian (3.5*5 + 5*5)/10 = 4.25 -> (4.25-1)/4 = 0.8125;
    # load 1/(1+1) = 0.5; acceptance 3/4 = 0.75.  0.4*0.75 + 0.3*0.8125 + 0.15*0.5 + 0.15*0.75 = 0.73125
    one = facts("A", 2_500, Rating(5.0, 5), TherapistLoad(live=1, accepted=3, declined=1))
    assert score(one, DispatchPolicy()) == pytest.approx(0.73125)


def test_unknowns_take_the_neutral_values() -> None:
    # proximity 1, rating prior 3.5 -> 0.625, load 1, acceptance neutral 0.8: 0.4 + 0.1875 + 0.15 + 0.12
    assert score(facts("A", 0), DispatchPolicy()) == pytest.approx(0.8575)
    beyond = facts("B", 12_000)
    assert score(beyond, DispatchPolicy(weights=DispatchWeights(1, 0, 0, 0))) == 0.0


def test_weights_decide_and_ties_go_to_the_nearer_then_the_smaller_id() -> None:
    near_busy = facts("A", 1_000, load=TherapistLoad(live=3))
    far_idle = facts("B", 6_000)
    assert rank([far_idle, near_busy], DispatchPolicy())[0] is near_busy
    assert rank([near_busy, far_idle], DispatchPolicy(weights=DispatchWeights(0, 0, 1, 0)))[0] is far_idle
    same_c, same_b = facts("C", 500), facts("B", 500)
    nearer = facts("D", 400)
    by_rating = DispatchPolicy(weights=DispatchWeights(0, 1, 0, 0))
    assert rank([same_c, nearer, same_b], by_rating) == [nearer, same_b, same_c]


@pytest.mark.parametrize("changes", [
    {"weights": None}, {"max_offers": 0}, {"max_offers": 21}, {"search_radius_km": 0}, {"max_candidates": 201},
    {"stats_days": True}, {"neutral_acceptance": 1.5}, {"any_mode": "chosen"}, {"any_mode": "nearest"},
])
def test_a_bad_policy_is_refused(changes: dict[str, object]) -> None:
    if changes.get("weights", 1) is None:
        with pytest.raises(ValidationError) as caught:
            DispatchWeights(0, 0, 0, 0)
    else:
        with pytest.raises(ValidationError) as caught:
            DispatchPolicy(**changes)  # type: ignore[arg-type]
    assert caught.value.code in ("dispatch.policy", "dispatch.mode")


def test_modes_parse() -> None:
    assert dispatch_mode("broadcast") is DispatchMode.BROADCAST
    with pytest.raises(ValidationError):
        dispatch_mode("anyone")
    with pytest.raises(ValidationError):
        DispatchWeights(distance=-1)


candidates = st.lists(st.builds(
    facts, st.text("ABCDEFGH", min_size=1, max_size=3), st.integers(0, 20_000),
    st.none() | st.builds(Rating, st.floats(1, 5), st.integers(1, 500)),
    st.builds(TherapistLoad, st.integers(0, 5), st.integers(0, 50), st.integers(0, 50))),
    max_size=12, unique_by=lambda f: f.therapist_id)
weights = st.tuples(*(st.floats(0, 10) for _ in range(4))).filter(lambda t: sum(t) > 0).map(
    lambda t: DispatchWeights(*t))


@given(candidates, weights, st.randoms())
def test_rank_is_a_deterministic_order_whatever_the_input_order(found: list[CandidateFacts], w: DispatchWeights,
                                                                 shuffle: object) -> None:
    policy = DispatchPolicy(weights=w)
    ranked = rank(found, policy)
    again = list(found)
    shuffle.shuffle(again)  # type: ignore[attr-defined]
    assert rank(again, policy) == ranked
    assert sorted(ranked, key=lambda f: f.therapist_id) == sorted(found, key=lambda f: f.therapist_id)
    scores = [score(f, policy) for f in ranked]
    assert all(-1e-9 <= s <= 1 + 1e-9 for s in scores)
    assert all(a >= b - 1e-9 for a, b in zip(scores, scores[1:]))
