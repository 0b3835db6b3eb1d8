"""The customers context (feature C2): a customer's own profile, the back office's masked view of it,
and ``declared_conditions`` for the booking.

Customers (permission ``orders.place``) declare and read their own profile.
Support and superadmins (``customer_profiles.read``) see a masked view only:
genders, the age band and whether any health information was declared --
never the conditions, the note or the birth date (decision 0022).  Another
customer's profile looks exactly like a missing one (NotFound).  The audit
log records who wrote or looked at a profile, never what it says.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from attrs import frozen

from massage_core.domain.access import Actor, Permission
from massage_core.domain.customers import Birth, CustomerProfile
from massage_core.domain.errors import NotFound, ValidationError
from massage_core.domain.ids import AccountId, account_id
from massage_core.domain.time import Instant
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.base import Service, not_found

KIND = "customer_profile"


@frozen
class CustomerProfileView:
    """A profile as its owner sees it: everything they declared, plus the derived age."""

    customer_id: str
    gender: str | None
    birth_year: int | None
    birth_date: dt.date | None
    age: int | None
    age_band: str | None
    conditions: tuple[str, ...]
    health_note: str
    preferred_therapist_gender: str | None
    updated_at: Instant

    @classmethod
    def of(cls, p: CustomerProfile, now: Instant) -> CustomerProfileView:
        """The owner's view of ``p``, with the age at ``now`` (Asia/Shanghai calendar date)."""
        return cls(
            customer_id=p.customer_id, gender=p.gender.value if p.gender else None,
            birth_year=p.birth.year if p.birth else None, birth_date=p.birth.date if p.birth else None,
            age=p.age(now), age_band=p.age_band(now), conditions=tuple(sorted(p.condition_values())),
            health_note=p.health_note,
            preferred_therapist_gender=p.preferred_therapist_gender.value if p.preferred_therapist_gender else None,
            updated_at=p.updated_at,
        )


@frozen
class MaskedCustomerProfileView:
    """A profile as back-office staff see it: no conditions, no note, no birth date -- only an age band and
    whether the customer declared any health information (a condition or a note)."""

    customer_id: str
    gender: str | None
    age_band: str | None
    declared_conditions: bool
    preferred_therapist_gender: str | None
    updated_at: Instant

    @classmethod
    def of(cls, p: CustomerProfile, now: Instant) -> MaskedCustomerProfileView:
        """The masked view of ``p``, with the age band at ``now``."""
        return cls(
            customer_id=p.customer_id, gender=p.gender.value if p.gender else None, age_band=p.age_band(now),
            declared_conditions=p.has_conditions or bool(p.health_note),
            preferred_therapist_gender=p.preferred_therapist_gender.value if p.preferred_therapist_gender else None,
            updated_at=p.updated_at,
        )


def declared_conditions(uow: UnitOfWork, customer_id: str) -> frozenset[str]:
    """The contraindication codes the customer declared (empty without a profile), read in ``uow``.

    For use cases that already run in a unit of work (the booking refuses a
    service contraindicated by these).  Does no permission check: the caller
    has already established who acts for ``customer_id``.
    """
    profile = uow.customers.find(AccountId(customer_id))
    return profile.condition_values() if profile is not None else frozenset()


def _birth(birth_year: object, birth_date: object) -> Birth | None:
    if birth_date is not None and birth_date != "":
        birth = Birth.of_date(birth_date)
        if birth_year is not None and birth_year != "" and Birth.of_year(birth_year).year != birth.year:
            raise ValidationError("birth year and birth date disagree", code="customer.birth_date",
                                  field="birth_date")
        return birth
    if birth_year is not None and birth_year != "":
        return Birth.parse(birth_year)
    return None


class CustomersService(Service):
    """Customer profiles; see the module docstring."""

    def _own(self, actor: Actor, action: str) -> AccountId:
        self._require(actor, Permission.ORDERS_PLACE, action, actor.label)
        if actor.account_id is None:
            raise ValidationError("the system has no account of its own", code="actor.no_account")
        return actor.account_id

    def set_profile(self, actor: Actor, *, gender: str | None = None, birth_year: int | str | None = None,
                    conditions: Iterable[str] = (), health_note: str | None = None,
                    preferred_therapist_gender: str | None = None,
                    birth_date: dt.date | str | None = None) -> CustomerProfileView:
        """Declare the actor's own profile as a whole (creating it, or replacing every field). Audited.

        ``birth_year`` is a year (int or four digits) or, like ``birth_date``, a
        date (``YYYY-MM-DD``); the age it gives on today's date must be 16..120.
        ``conditions`` are contraindication codes of the catalogue (a list or a
        comma-separated string).  A field left out is cleared.  Returns the owner's view.

        Raises ValidationError (``customer.gender``, ``customer.preferred_gender``,
        ``customer.birth_year``, ``customer.birth_date``, ``customer.health_note``,
        ``catalog.contraindication``; ``actor.no_account`` for the system),
        Conflict (``conflict.stale`` when the profile changed meanwhile),
        PermissionDenied without ``orders.place`` (anonymous, therapists, admins).
        """
        own = self._own(actor, "customers.set_profile")
        now = self._now()
        values: dict[str, Any] = {"gender": gender, "birth": _birth(birth_year, birth_date), "conditions": conditions,
                  "health_note": health_note, "preferred_therapist_gender": preferred_therapist_gender}
        with self._uow() as uow:
            current = uow.customers.find(own)
            profile = (current.revise(now, **values) if current is not None
                       else CustomerProfile.declare(own, now, **values))
            saved = uow.customers.save(profile)
            self._audit_ok(uow, actor, "customers.set_profile", own, now)  # what was declared stays out of the log
            uow.commit()
            return CustomerProfileView.of(saved, now)

    def profile(self, actor: Actor) -> CustomerProfileView | None:
        """The actor's own profile in full, or None when they have not declared one.

        Raises ValidationError (``actor.no_account`` for the system), PermissionDenied
        without ``orders.place``.
        """
        own = self._own(actor, "customers.profile")
        with self._uow() as uow:
            found = uow.customers.find(own)
            return None if found is None else CustomerProfileView.of(found, self._now())

    def profile_of(self, actor: Actor, customer_id: str) -> MaskedCustomerProfileView:
        """A customer's profile, masked (age band and "declared conditions: yes/no"); audited for staff.

        Open to ``customer_profiles.read`` (support, superadmin) for any customer, and
        to a customer for their own profile.  Raises ValidationError (``invalid_id``),
        NotFound when there is no such profile -- and, identically, for another
        customer's profile -- and PermissionDenied for anybody else (anonymous,
        therapists, finance, auditors).
        """
        target = account_id(customer_id)
        staff = actor.may(Permission.CUSTOMER_PROFILES_READ)
        if not staff:
            self._own(actor, "customers.profile_of")
        now = self._now()
        with self._guard(actor, "customers.profile_of", target), self._uow() as uow:
            if not staff and not actor.owns(target):
                raise not_found(KIND, target)
            found = uow.customers.find(target)
            if found is None:
                raise NotFound(KIND, target)
            view = MaskedCustomerProfileView.of(found, now)
            if staff and not actor.owns(target):
                self._audit_ok(uow, actor, "customers.profile_of", target, now)
                uow.commit()
            return view
