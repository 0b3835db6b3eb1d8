"""The CustomerProfileRepository contract (feature C2): round trips, compare-and-set, references, rollback."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from datetime import timedelta

import attrs
import pytest

from massage_core.domain.catalog import Contraindication
from massage_core.domain.customers import Birth, CustomerProfile
from massage_core.domain.errors import Conflict
from massage_core.domain.ids import AccountId
from massage_core.ports.unit_of_work import UnitOfWork
from storage_support import T0, make_account, new_id

UowFactory = Callable[[], UnitOfWork]
NOTE = "腰椎间盘突出，请勿按压腰部 — lower back: no deep pressure"


def customer(uow_factory: UowFactory) -> AccountId:
    """A committed account; returns its id."""
    account = make_account()
    with uow_factory() as uow:
        uow.accounts.add(account)
        uow.commit()
    return account.id


def full_profile(customer_id: AccountId, **changes: object) -> CustomerProfile:
    """A profile with every field set."""
    values: dict[str, object] = {"gender": "female", "birth": "1988-02-29", "conditions": ["pregnancy", "fever"],
                                 "health_note": NOTE, "preferred_therapist_gender": "female"}
    values.update(changes)
    return CustomerProfile.declare(customer_id, T0, **values)  # type: ignore[arg-type]


def save(uow_factory: UowFactory, profile: CustomerProfile) -> CustomerProfile:
    with uow_factory() as uow:
        stored = uow.customers.save(profile)
        uow.commit()
    return stored


def find(uow_factory: UowFactory, customer_id: AccountId) -> CustomerProfile | None:
    with uow_factory() as uow:
        return uow.customers.find(customer_id)


class CustomerProfileRepositoryContract:
    """Every CustomerProfileRepository adapter behaves like this."""

    def test_a_missing_profile_is_none(self, uow_factory: UowFactory) -> None:
        assert find(uow_factory, customer(uow_factory)) is None
        assert find(uow_factory, AccountId(new_id("account"))) is None

    def test_round_trips_every_field(self, uow_factory: UowFactory) -> None:
        cid = customer(uow_factory)
        stored = save(uow_factory, full_profile(cid))
        assert stored.version == 1
        assert find(uow_factory, cid) == stored == attrs.evolve(full_profile(cid), version=1)
        assert stored.birth == Birth(1988, dt.date(1988, 2, 29))
        assert stored.conditions == {Contraindication.PREGNANCY, Contraindication.FEVER}

    @pytest.mark.parametrize("values", [
        {},
        {"birth": 1975},
        {"conditions": [c.value for c in Contraindication]},
        {"health_note": "  ends with a note   "},
        {"health_note": "x" * 500},
        {"health_note": "字" * 500, "gender": "male", "preferred_therapist_gender": "female"},
        {"health_note": "a\x1fb\x1f", "conditions": "osteoporosis"},
    ], ids=["empty", "year", "all-conditions", "stripped-note", "long-note", "cjk-note", "separator-in-note"])
    def test_round_trips_partial_and_edge_profiles(self, uow_factory: UowFactory, values: dict[str, object]) -> None:
        cid = customer(uow_factory)
        profile = CustomerProfile.declare(cid, T0, **values)  # type: ignore[arg-type]
        save(uow_factory, profile)
        assert find(uow_factory, cid) == attrs.evolve(profile, version=1)

    def test_save_replaces_with_compare_and_set(self, uow_factory: UowFactory) -> None:
        cid = customer(uow_factory)
        first = save(uow_factory, full_profile(cid))
        later = T0 + timedelta(days=3)
        second = save(uow_factory, first.revise(later, birth=1960, conditions=["hypertension"]))
        assert second.version == 2
        found = find(uow_factory, cid)
        assert found == second and found is not None
        assert found.gender is None and found.health_note == "" and found.updated_at == later
        assert found.condition_values() == {"hypertension"}
        with pytest.raises(Conflict) as stale:
            save(uow_factory, first)  # version 1 is gone
        assert stale.value.code == "conflict.stale"
        assert find(uow_factory, cid) == second

    def test_creating_an_existing_profile_again_is_stale(self, uow_factory: UowFactory) -> None:
        cid = customer(uow_factory)
        save(uow_factory, full_profile(cid))
        with uow_factory() as uow:
            with pytest.raises(Conflict) as err:
                uow.customers.save(full_profile(cid, conditions=[]))  # a second "version 0"
            assert err.value.code == "conflict.stale"
            assert uow.customers.find(cid) is not None  # the unit of work is still usable

    def test_the_account_must_exist(self, uow_factory: UowFactory) -> None:
        stranger = AccountId(new_id("account"))
        with uow_factory() as uow, pytest.raises(Conflict) as err:
            uow.customers.save(full_profile(stranger))
        assert err.value.code == "conflict.reference"
        with uow_factory() as uow, pytest.raises(Conflict) as err:
            uow.customers.save(attrs.evolve(full_profile(stranger), version=1))  # nothing stored to replace
        assert err.value.code == "conflict.stale"

    def test_an_uncommitted_profile_is_rolled_back(self, uow_factory: UowFactory) -> None:
        cid = customer(uow_factory)
        with uow_factory() as uow:
            uow.customers.save(full_profile(cid))
            assert uow.customers.find(cid) is not None
        assert find(uow_factory, cid) is None

    def test_profiles_are_kept_apart(self, uow_factory: UowFactory) -> None:
        first, second = customer(uow_factory), customer(uow_factory)
        save(uow_factory, full_profile(first))
        save(uow_factory, full_profile(second, conditions=["varicose_veins"], health_note="", birth=None))
        one, two = find(uow_factory, first), find(uow_factory, second)
        assert one is not None and two is not None
        assert one.condition_values() == {"pregnancy", "fever"} and two.condition_values() == {"varicose_veins"}
        assert two.birth is None and two.health_note == ""
