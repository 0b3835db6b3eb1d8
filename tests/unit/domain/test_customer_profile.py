"""The CustomerProfile value rules (feature C2, decision 0022): tables of bad input with their codes, and
properties of the age and its band."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from massage_core.domain.catalog import Contraindication
from massage_core.domain.customers import (
    AGE_BANDS,
    MAX_AGE,
    MIN_AGE,
    Birth,
    CustomerProfile,
    age_band,
)
from massage_core.domain.errors import ValidationError
from massage_core.domain.ids import AccountId
from massage_core.domain.therapist_values import Gender

NOW = pendulum.datetime(2026, 1, 5, 2, 0, tz="UTC")  # 10:00 on 5 January 2026 in Shanghai
LATE = pendulum.datetime(2026, 1, 4, 17, 0, tz="UTC")  # 01:00 on 5 January in Shanghai, still the 4th in UTC
CUSTOMER = AccountId("acc_01J00000000000000000000001")


def declare(**values: Any) -> CustomerProfile:
    return CustomerProfile.declare(CUSTOMER, NOW, **values)


def test_an_empty_profile_declares_nothing() -> None:
    profile = declare()
    assert (profile.gender, profile.birth, profile.conditions, profile.health_note) == (None, None, frozenset(), "")
    assert profile.preferred_therapist_gender is None and profile.age(NOW) is None and profile.age_band(NOW) is None
    assert not profile.has_conditions and profile.condition_values() == frozenset() and profile.version == 0


def test_a_full_profile_is_parsed_and_normalised() -> None:
    profile = declare(gender=" Female ", birth="1990-03-07", conditions=["pregnancy", " fever"],
                      health_note="  Lower back pain after long drives.  ", preferred_therapist_gender="FEMALE")
    assert profile.gender is Gender.FEMALE and profile.preferred_therapist_gender is Gender.FEMALE
    assert profile.birth == Birth(1990, dt.date(1990, 3, 7))
    assert profile.conditions == {Contraindication.PREGNANCY, Contraindication.FEVER}
    assert profile.condition_values() == {"pregnancy", "fever"}
    assert profile.health_note == "Lower back pain after long drives."
    assert profile.age(NOW) == 35 and profile.age_band(NOW) == "35-44"


def test_conditions_may_be_a_comma_separated_string() -> None:
    assert declare(conditions="hypertension, osteoporosis").condition_values() == {"hypertension", "osteoporosis"}


BAD: list[tuple[dict[str, Any], str]] = [
    ({"gender": "robot"}, "customer.gender"),
    ({"gender": 1}, "customer.gender"),
    ({"preferred_therapist_gender": "any"}, "customer.preferred_gender"),
    ({"birth": "19x0"}, "customer.birth_year"),
    ({"birth": 90}, "customer.birth_year"),
    ({"birth": True}, "customer.birth_year"),
    ({"birth": 2.5}, "customer.birth_year"),
    ({"birth": 2011}, "customer.birth_year"),  # 15 this year
    ({"birth": 1905}, "customer.birth_year"),  # 121 this year
    ({"birth": 2030}, "customer.birth_year"),
    ({"birth": "2010-01-06"}, "customer.birth_date"),  # 16 tomorrow
    ({"birth": "1905-01-05"}, "customer.birth_date"),  # 121 today
    ({"birth": "2026-02-30"}, "customer.birth_date"),
    ({"birth": "2027-01-01"}, "customer.birth_date"),
    ({"birth": dt.datetime(1990, 1, 1, tzinfo=dt.UTC)}, "customer.birth_date"),
    ({"conditions": ["pregnancy", "headache"]}, "catalog.contraindication"),
    ({"conditions": 7}, "catalog.contraindication"),
    ({"health_note": "x" * 501}, "customer.health_note"),
    ({"health_note": 12}, "customer.health_note"),
]


@pytest.mark.parametrize(("values", "code"), BAD, ids=[code + ":" + repr(v)[:30] for v, code in BAD])
def test_bad_values_are_refused_with_a_stable_code(values: dict[str, Any], code: str) -> None:
    with pytest.raises(ValidationError) as err:
        declare(**values)
    assert err.value.code == code


def test_the_plausible_age_range_is_inclusive() -> None:
    assert declare(birth="2010-01-05").age(NOW) == MIN_AGE
    assert declare(birth=2010).age(NOW) == MIN_AGE  # a year only: the age reached this calendar year
    assert declare(birth="1906-01-05").age(NOW) == MAX_AGE
    assert declare(birth=1906).age(NOW) == MAX_AGE
    assert declare(health_note="x" * 500).health_note == "x" * 500


def test_the_age_is_checked_on_the_calendar_date_in_shanghai() -> None:
    # At 01:00 on 5 January in Shanghai (still 4 January in UTC) the customer born 2010-01-05 is 16.
    assert CustomerProfile.declare(CUSTOMER, LATE, birth="2010-01-05").age(LATE) == 16


def test_birth_round_trips_through_its_text() -> None:
    for birth in (Birth.of_year(1988), Birth.of_date("1988-02-29"), Birth.of_year("1975")):
        assert Birth.parse(birth.to_text()) == birth
    with pytest.raises(ValidationError) as err:
        Birth(1990, dt.date(1991, 1, 1))
    assert err.value.code == "customer.birth_date"


def test_a_revision_replaces_every_field_and_keeps_the_version() -> None:
    stored = attrs.evolve(declare(gender="male", conditions=["fever"]), version=3)
    later = NOW.add(days=2)
    revised = stored.revise(later, conditions=["hypertension"])
    assert revised.version == 3 and revised.updated_at == later
    assert revised.gender is None and revised.condition_values() == {"hypertension"}


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2026, 1, 5)))
def test_a_birth_date_is_accepted_exactly_when_the_age_is_16_to_120(born: dt.date) -> None:
    today = dt.date(2026, 1, 5)
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    try:
        profile = declare(birth=born)
    except ValidationError as err:
        assert err.code == "customer.birth_date" and not MIN_AGE <= age <= MAX_AGE
    else:
        assert profile.age(NOW) == age and MIN_AGE <= age <= MAX_AGE


@given(st.integers(min_value=MIN_AGE, max_value=MAX_AGE))
def test_every_plausible_age_has_exactly_one_band(age: int) -> None:
    bands = [label for low, high, label in AGE_BANDS if low <= age <= high]
    assert bands == [age_band(age)]


def test_bands_are_contiguous_and_cover_the_plausible_range() -> None:
    assert AGE_BANDS[0][0] == MIN_AGE and AGE_BANDS[-1][1] == MAX_AGE
    assert all(AGE_BANDS[n][1] + 1 == AGE_BANDS[n + 1][0] for n in range(len(AGE_BANDS) - 1))
    assert age_band(MIN_AGE - 1) == age_band(MAX_AGE + 1) == "unknown"


@given(st.sets(st.sampled_from(list(Contraindication))))
def test_any_set_of_known_conditions_is_accepted_as_values_or_codes(chosen: set[Contraindication]) -> None:
    assert declare(conditions=[c.value for c in chosen]).conditions == frozenset(chosen)
    assert declare(conditions=",".join(c.value for c in chosen)).conditions == frozenset(chosen)
