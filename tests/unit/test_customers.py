"""platform.customers on the memory platform (feature C2, decision 0022): a customer's own profile, the
back office's masked view, ownership, auditing without health data, and ``declared_conditions``."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

import pytest

from conftest import Kit
from massage_core.domain.access import Actor
from massage_core.domain.audit import AuditOutcome
from massage_core.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from massage_core.services.customers import CustomerProfileView, MaskedCustomerProfileView, declared_conditions

NOTE = "Slipped disc L4-L5; no deep pressure on the lower back"


def test_a_customer_declares_reads_and_replaces_their_profile(kit: Kit) -> None:
    me = kit.customer_by_phone()
    customers = kit.platform.customers
    assert customers.profile(me.actor) is None
    view = customers.set_profile(me.actor, gender="female", birth_year="1990-03-07",
                                 conditions=["pregnancy", "fever"], health_note=NOTE,
                                 preferred_therapist_gender="female")
    assert view == CustomerProfileView(
        customer_id=me.account_id, gender="female", birth_year=1990, birth_date=dt.date(1990, 3, 7), age=35,
        age_band="35-44", conditions=("fever", "pregnancy"), health_note=NOTE, preferred_therapist_gender="female",
        updated_at=kit.clock.now())
    assert customers.profile(me.actor) == view
    kit.clock.advance(timedelta(days=1))
    replaced = customers.set_profile(me.actor, birth_year=1990, conditions="hypertension")
    assert replaced.conditions == ("hypertension",) and replaced.gender is None and replaced.health_note == ""
    assert (replaced.birth_year, replaced.birth_date, replaced.age) == (1990, None, 36)
    assert kit.tables.customer_profiles[me.account_id].version == 2
    assert customers.profile(me.actor) == replaced


def test_a_birth_date_and_year_must_agree(kit: Kit) -> None:
    me = kit.customer_by_phone()
    view = kit.platform.customers.set_profile(me.actor, birth_year=1985, birth_date="1985-12-31")
    assert view.birth_date == dt.date(1985, 12, 31) and view.age == 40
    with pytest.raises(ValidationError) as err:
        kit.platform.customers.set_profile(me.actor, birth_year=1986, birth_date="1985-12-31")
    assert err.value.code == "customer.birth_date"


@pytest.mark.parametrize(("values", "code"), [
    ({"birth_year": 2015}, "customer.birth_year"),
    ({"birth_year": "1850"}, "customer.birth_year"),
    ({"birth_date": "2012-06-01"}, "customer.birth_date"),
    ({"gender": "x"}, "customer.gender"),
    ({"preferred_therapist_gender": "nobody"}, "customer.preferred_gender"),
    ({"conditions": ["migraine"]}, "catalog.contraindication"),
    ({"health_note": "?" * 501}, "customer.health_note"),
])
def test_bad_input_changes_nothing(kit: Kit, values: dict[str, object], code: str) -> None:
    me = kit.customer_by_phone()
    kit.platform.customers.set_profile(me.actor, conditions=["fever"])
    before = dict(kit.tables.customer_profiles)
    with pytest.raises(ValidationError) as err:
        kit.platform.customers.set_profile(me.actor, **values)  # type: ignore[arg-type]
    assert err.value.code == code
    assert kit.tables.customer_profiles == before


def test_staff_see_only_the_masked_view_and_each_look_is_audited(kit: Kit) -> None:
    me = kit.customer_by_phone()
    kit.platform.customers.set_profile(me.actor, gender="male", birth_year=1970, conditions=["hypertension"],
                                       health_note=NOTE, preferred_therapist_gender="male")
    for staff in (kit.support(), kit.superadmin()):
        masked = kit.platform.customers.profile_of(staff.actor, me.account_id)
        assert masked == MaskedCustomerProfileView(
            customer_id=me.account_id, gender="male", age_band="55-64", declared_conditions=True,
            preferred_therapist_gender="male", updated_at=kit.clock.now())
        [entry] = [e for e in kit.audit_entries() if e.action == "customers.profile_of" and e.actor == staff.actor.label]
        assert entry.outcome is AuditOutcome.OK and entry.target == me.account_id
    assert "hypertension" not in repr(masked) and "1970" not in repr(masked) and NOTE not in repr(masked)


def test_a_note_alone_counts_as_declared_and_nothing_declared_is_no(kit: Kit) -> None:
    noted, silent = kit.customer_by_phone(), kit.customer_by_phone()
    kit.platform.customers.set_profile(noted.actor, health_note="old knee injury")
    kit.platform.customers.set_profile(silent.actor, gender="female")
    support = kit.support()
    assert kit.platform.customers.profile_of(support.actor, noted.account_id).declared_conditions is True
    quiet = kit.platform.customers.profile_of(support.actor, silent.account_id)
    assert quiet.declared_conditions is False and quiet.age_band is None


def test_the_audit_log_never_holds_what_a_profile_says(kit: Kit) -> None:
    me = kit.customer_by_phone()
    kit.platform.customers.set_profile(me.actor, birth_year="1984-07-21", conditions=["varicose_veins"],
                                       health_note=NOTE)
    kit.platform.customers.profile_of(kit.support().actor, me.account_id)
    written = repr(kit.audit_entries())
    assert "customers.set_profile" in written
    for secret in ("varicose", "1984", NOTE, "conditions", "health"):
        assert secret not in written


def test_somebody_elses_profile_looks_exactly_like_a_missing_one(kit: Kit) -> None:
    me, other = kit.customer_by_phone(), kit.customer_by_phone()
    kit.platform.customers.set_profile(other.actor, conditions=["fever"])
    missing = "acc_0000000000000000000000ZZZZ"
    errors = []
    for target in (other.account_id, missing):
        with pytest.raises(NotFound) as err:
            kit.platform.customers.profile_of(me.actor, target)
        errors.append(err.value)
    theirs, nobodys = errors
    assert (type(theirs), theirs.code, theirs.kind) == (type(nobodys), nobodys.code, nobodys.kind)
    assert theirs.message.replace(other.account_id, "<id>") == nobodys.message.replace(missing, "<id>")
    denied = kit.denied_entries()
    assert [(e.actor, e.target, dict(e.details)) for e in denied] == [  # audited alike, too
        (me.account_id, target, {"error": "not_found"}) for target in (other.account_id, missing)]


def test_a_customer_sees_their_own_masked_view_too(kit: Kit) -> None:
    me = kit.customer_by_phone()
    with pytest.raises(NotFound):
        kit.platform.customers.profile_of(me.actor, me.account_id)  # nothing declared yet
    kit.platform.customers.set_profile(me.actor, conditions=["skin_infection"])
    assert kit.platform.customers.profile_of(me.actor, me.account_id).declared_conditions is True
    assert not [e for e in kit.audit_entries() if e.action == "customers.profile_of"]


def test_staff_get_not_found_for_an_account_without_a_profile(kit: Kit) -> None:
    me = kit.customer_by_phone()
    with pytest.raises(NotFound) as err:
        kit.platform.customers.profile_of(kit.support().actor, me.account_id)
    assert err.value.kind == "customer_profile"


@pytest.mark.parametrize("kind", ["therapist", "finance", "auditor"])
def test_roles_without_business_with_customer_health_are_refused(kit: Kit, kind: str) -> None:
    customer = kit.customer_by_phone()
    kit.platform.customers.set_profile(customer.actor, conditions=["fever"])
    person = kit.therapist() if kind == "therapist" else kit.admin(kind)
    with pytest.raises(PermissionDenied):
        kit.platform.customers.profile_of(person.actor, customer.account_id)
    with pytest.raises(PermissionDenied):
        kit.platform.customers.set_profile(person.actor, conditions=["fever"])
    with pytest.raises(PermissionDenied):
        kit.platform.customers.profile(person.actor)


def test_the_system_has_no_profile_of_its_own_but_may_read_masked(kit: Kit) -> None:
    customer = kit.customer_by_phone()
    kit.platform.customers.set_profile(customer.actor, birth_year=2000)
    with pytest.raises(ValidationError) as err:
        kit.platform.customers.set_profile(Actor.system(), gender="male")
    assert err.value.code == "actor.no_account"
    assert kit.platform.customers.profile_of(Actor.system(), customer.account_id).age_band == "25-34"


def test_a_malformed_account_id_is_a_validation_error(kit: Kit) -> None:
    with pytest.raises(ValidationError):
        kit.platform.customers.profile_of(kit.support().actor, "not-an-id")


def test_declared_conditions_for_the_booking(kit: Kit) -> None:
    me, other = kit.customer_by_phone(), kit.customer_by_phone()
    kit.platform.customers.set_profile(me.actor, conditions=["pregnancy", "osteoporosis"], health_note=NOTE)
    with kit.platform.deps.uow() as uow:
        assert declared_conditions(uow, me.account_id) == frozenset({"pregnancy", "osteoporosis"})
        assert declared_conditions(uow, other.account_id) == frozenset()


def test_saving_a_stale_profile_is_a_conflict(kit: Kit) -> None:
    me = kit.customer_by_phone()
    kit.platform.customers.set_profile(me.actor, conditions=["fever"])
    with kit.platform.deps.uow() as uow:
        stale = uow.customers.find(me.account_id)  # type: ignore[arg-type]
        assert stale is not None
        uow.customers.save(stale)
        with pytest.raises(Conflict) as err:
            uow.customers.save(stale)
        assert err.value.code == "conflict.stale"
