"""The TherapistRepository contract."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from datetime import timedelta

import attrs
import pytest

from catalog_support import certificate, make_category, make_level, make_profile, make_service
from massage_core.domain.accounts import AccountStatus
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import AccountId
from massage_core.domain.therapists import TherapistProfile
from massage_core.domain.vetting import BackgroundOutcome, SkillTest, VettingState
from massage_core.ports.unit_of_work import UnitOfWork
from storage_support import T0, make_account, new_id

UowFactory = Callable[[], UnitOfWork]


def world(uow_factory: UowFactory) -> tuple[str, list[str]]:
    """A level and two services, committed; returns (level code, service ids)."""
    with uow_factory() as uow:
        level = uow.levels.add(make_level())
        category = uow.categories.add(make_category())
        services = [uow.catalog_services.add(make_service(category.id, {level.code: 100})).id for _ in range(2)]
        uow.commit()
    return level.code, services


def new_profile(uow_factory: UowFactory, *, at: dt.datetime = T0, **changes: object) -> TherapistProfile:
    """An account with a draft profile, both committed; returns the stored profile."""
    account = make_account(at=at)
    with uow_factory() as uow:
        uow.accounts.add(account)
        stored = uow.therapists.add(make_profile(account.id, at=at, **changes))
        uow.commit()
    return stored


def approved(profile: TherapistProfile, level: str) -> TherapistProfile:
    """The profile taken through every vetting step to approval, at level ``level``."""
    p = profile.submit(profile.id, T0).start_review("admin", T0).accept_documents("admin", T0)
    p = p.background_checked(BackgroundOutcome.CLEAR, "bgc-1", "", "admin", T0)
    p = p.skill_tested(SkillTest("acc_examiner", 90, 70), "admin", T0)
    return p.with_level(level, T0)


class TherapistRepositoryContract:
    """Every TherapistRepository adapter behaves like this."""

    def test_round_trips_every_field_and_the_history(self, uow_factory: UowFactory) -> None:
        level, services = world(uow_factory)
        stored = new_profile(uow_factory, services=frozenset(services),
                             certificates=(certificate(), certificate(dt.date(2027, 1, 31))))
        assert stored.version == 1 and stored.events == ()
        with uow_factory() as uow:
            assert uow.therapists.get(stored.id) == stored
            saved = uow.therapists.save(approved(stored, level).suspend("complaint under review", T0))
            uow.commit()
        assert saved.version == 2 and len(saved.history) == 5
        with uow_factory() as uow:
            loaded = uow.therapists.get(stored.id)
        assert loaded == saved
        assert loaded.certificates == stored.certificates and loaded.area == stored.area
        assert loaded.skill_test == SkillTest("acc_examiner", 90, 70)
        assert [s.to_state for s in loaded.history][-1] is VettingState.APPROVED

    def test_history_is_appended_across_saves(self, uow_factory: UowFactory) -> None:
        _, services = world(uow_factory)
        stored = new_profile(uow_factory, services=frozenset(services))
        with uow_factory() as uow:
            step1 = uow.therapists.save(stored.submit(stored.id, T0))
            step2 = uow.therapists.save(step1.reject(["blurred photo of the certificate"], "admin", T0))
            uow.commit()
        with uow_factory() as uow:
            loaded = uow.therapists.get(stored.id)
        assert loaded == step2 and len(loaded.history) == 2
        assert loaded.rejection_reasons == ("blurred photo of the certificate",)

    def test_missing_and_duplicates(self, uow_factory: UowFactory) -> None:
        stored = new_profile(uow_factory)
        with uow_factory() as uow:
            assert uow.therapists.find(AccountId(new_id("account"))) is None
            with pytest.raises(NotFound):
                uow.therapists.get(AccountId(new_id("account")))
        other = make_account()
        with uow_factory() as uow:
            uow.accounts.add(other)
            with pytest.raises(Conflict) as same_id:
                uow.therapists.add(make_profile(other.id, id_number=stored.id_number))
            assert same_id.value.code == "therapist.duplicate"
            with pytest.raises(Conflict) as twice:
                uow.therapists.add(make_profile(stored.id))
            assert twice.value.code == "therapist.duplicate"
            uow.commit()

    def test_zones_of_reads_the_profile_zone_of_those_with_a_profile(self, uow_factory: UowFactory) -> None:
        urumqi, default = new_profile(uow_factory, time_zone="Asia/Urumqi"), new_profile(uow_factory)
        plain = make_account()
        with uow_factory() as uow:
            uow.accounts.add(plain)
            uow.commit()
        unknown = [AccountId(f"acc_{n:026d}") for n in range(1500)]  # sort before: more than one batch
        with uow_factory() as uow:
            zones = uow.therapists.zones_of([*unknown, urumqi.id, default.id, plain.id, urumqi.id])
            assert dict(zones) == {urumqi.id: "Asia/Urumqi", default.id: default.time_zone}
            assert dict(uow.therapists.zones_of([])) == {}

    def test_references_must_exist(self, uow_factory: UowFactory) -> None:
        with uow_factory() as uow:
            with pytest.raises(Conflict) as no_account:
                uow.therapists.add(make_profile(new_id("account")))
            assert no_account.value.code == "conflict.reference"
        stored = new_profile(uow_factory)
        with uow_factory() as uow:
            with pytest.raises(Conflict) as no_service:
                uow.therapists.save(attrs.evolve(stored, services=frozenset({new_id("service")})))
            assert no_service.value.code == "conflict.reference"
            with pytest.raises(Conflict) as no_level:
                uow.therapists.save(stored.with_level("nonexistent", T0))
            assert no_level.value.code == "conflict.reference"

    def test_stale_save_is_refused(self, uow_factory: UowFactory) -> None:
        stored = new_profile(uow_factory)
        with uow_factory() as uow:
            uow.therapists.save(stored.with_active(False, T0))
            uow.commit()
        with uow_factory() as uow, pytest.raises(Conflict) as caught:
            uow.therapists.save(stored.with_active(True, T0))
        assert caught.value.code == "conflict.stale"

    def test_list_by_state_and_public_listing(self, uow_factory: UowFactory) -> None:
        level, services = world(uow_factory)
        profiles = [new_profile(uow_factory, at=T0 + timedelta(seconds=n), services=frozenset(services[:1 + n % 2]))
                    for n in range(6)]
        draft, public, suspended, paused, other_service, account_suspended = profiles
        with uow_factory() as uow:
            public = uow.therapists.save(approved(public, level))
            uow.therapists.save(approved(suspended, level).suspend("fraud", T0))
            uow.therapists.save(approved(paused, level).with_active(False, T0))
            other_service = uow.therapists.save(approved(other_service, level))
            uow.therapists.save(approved(account_suspended, level))
            account = uow.accounts.get(account_suspended.id)
            uow.accounts.save(account.suspend("spam", T0))
            uow.commit()
        with uow_factory() as uow:
            assert [p.id for p in uow.therapists.list(state=VettingState.DRAFT)] == [draft.id]
            assert [p.id for p in uow.therapists.list()] == [p.id for p in profiles]
            assert [p.id for p in uow.therapists.list(offset=1, limit=2)] == [p.id for p in profiles[1:3]]
            assert uow.therapists.list_public() == [public, other_service]
            assert uow.therapists.list_public(service_id=services[1]) == [public]
            assert uow.therapists.list_public(level="nonexistent") == []
            assert uow.therapists.list_public(offset=1) == [other_service]
            assert uow.accounts.get(account_suspended.id).status is AccountStatus.SUSPENDED

    def test_certificates_expiring_before_a_day(self, uow_factory: UowFactory) -> None:
        level, services = world(uow_factory)
        offered = frozenset(services)
        soon = new_profile(uow_factory, services=offered,
                           certificates=(certificate(), certificate(dt.date(2026, 3, 1))))
        later = new_profile(uow_factory, services=offered, certificates=(certificate(dt.date(2026, 9, 1)),))
        draft = new_profile(uow_factory, services=offered, certificates=(certificate(dt.date(2026, 3, 1)),))
        with uow_factory() as uow:
            soon, later = uow.therapists.save(approved(soon, level)), uow.therapists.save(approved(later, level))
            uow.commit()
        with uow_factory() as uow:
            assert uow.therapists.with_certificates_expiring_before(dt.date(2026, 3, 1)) == []
            assert uow.therapists.with_certificates_expiring_before(dt.date(2026, 3, 2)) == [soon]
            found = uow.therapists.with_certificates_expiring_before(dt.date(2027, 1, 1))
            assert found == sorted([soon, later], key=lambda p: p.id) and draft.id not in [p.id for p in found]
