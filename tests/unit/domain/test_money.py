"""Money and its splits: every fen is accounted for (property-based)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from massage_core.domain.errors import ValidationError
from massage_core.domain.money import Money

amounts = st.integers(min_value=-10**12, max_value=10**12)
weights = st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=12).filter(lambda w: sum(w) > 0)


@given(amounts, weights)
def test_allocation_conserves_every_fen(fen: int, ws: list[int]) -> None:
    parts = Money(fen).allocate(ws)
    assert len(parts) == len(ws)
    assert sum(p.fen for p in parts) == fen


@given(amounts, weights)
def test_each_part_is_within_one_fen_of_its_exact_share(fen: int, ws: list[int]) -> None:
    parts = Money(fen).allocate(ws)
    total = sum(ws)
    for part, w in zip(parts, ws):
        exact = fen * w / total
        assert abs(part.fen - exact) < 1 + 1e-6
        if w == 0:
            assert part.fen == 0


@given(amounts, st.integers(min_value=0, max_value=10_000))
def test_basis_point_split_adds_up(fen: int, bp: int) -> None:
    share, rest = Money(fen).split_basis_points(bp)
    assert share.fen + rest.fen == fen


def test_largest_remainder_rule_with_ties_goes_to_earlier_parts() -> None:
    assert [p.fen for p in Money(100).allocate([1, 1, 1])] == [34, 33, 33]
    assert [p.fen for p in Money(-100).allocate([1, 1, 1])] == [-34, -33, -33]
    assert [p.fen for p in Money(5).allocate([3, 7])] == [2, 3]


@pytest.mark.parametrize("bad", [1.5, "100", None, True])
def test_money_refuses_non_integers(bad: object) -> None:
    with pytest.raises(ValidationError) as err:
        Money(bad)  # type: ignore[arg-type]
    assert err.value.code == "money.not_integer"


@pytest.mark.parametrize("ws", [[], [0, 0], [-1, 2], [1.5]])
def test_allocate_refuses_bad_weights(ws: list[int]) -> None:
    with pytest.raises(ValidationError) as err:
        Money(100).allocate(ws)
    assert err.value.code == "money.weights"


def test_currency_and_arithmetic() -> None:
    assert Money.yuan(12, 50) == Money(1250)
    assert str(Money(-1205)) == "-¥12.05"
    assert (Money(5) + Money(7)).fen == 12 and (Money(5) - Money(7)).is_negative
    with pytest.raises(ValidationError):
        Money(1, "USD")
    with pytest.raises(ValidationError):
        Money(1).split_basis_points(10_001)
