"""The therapists context: onboarding, one's own profile, admin oversight, and the public directory.

A therapist's id is their account id.  Any account holder may register a
profile for their own account; it stays a draft until they submit it.  Vetting
steps live in ``therapist_vetting``.  Customers and anonymous visitors only
ever see approved, active, unsuspended therapists of active accounts, as
``PublicTherapistView`` (no ID number, a masked name, a coarse area).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from massage_core.domain.access import Actor, Permission
from massage_core.domain.errors import Conflict, NotFound, ValidationError
from massage_core.domain.identity_documents import ResidentIdNumber
from massage_core.domain.ids import AccountId, ServiceId, account_id, service_id
from massage_core.domain.therapist_values import Certificate, ServiceArea
from massage_core.domain.therapists import TherapistProfile
from massage_core.domain.time import Instant
from massage_core.domain.vetting import VettingState
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.base import not_found, page_bounds
from massage_core.services.therapist_vetting import VettingFlows
from massage_core.services.therapist_views import PublicTherapistView, TherapistView

AreaInput = ServiceArea | Mapping[str, Any] | Sequence[float]
CertificateInput = Certificate | Mapping[str, Any]



def area(raw: AreaInput) -> ServiceArea:
    """A ServiceArea from itself, ``{"lat", "lng", "radius_km"}`` or ``(lat, lng, radius_km)``."""
    if isinstance(raw, ServiceArea):
        return raw
    if isinstance(raw, Mapping):
        if set(raw) != {"lat", "lng", "radius_km"}:
            raise ValidationError("area needs exactly lat, lng and radius_km", code="area.coordinates", field="area")
        return ServiceArea(raw["lat"], raw["lng"], raw["radius_km"])
    if isinstance(raw, (list, tuple)) and len(raw) == 3:
        return ServiceArea(*raw)
    raise ValidationError("area must be (lat, lng, radius_km)", code="area.coordinates", field="area")


def certificate_list(raw: Iterable[CertificateInput]) -> tuple[Certificate, ...]:
    """Certificates from Certificate values or ``{"issuer", "number", "expires_on"}`` mappings."""
    if isinstance(raw, (str, bytes, Mapping)) or not isinstance(raw, Iterable):
        raise ValidationError("certificates must be a list", code="certificate.invalid", field="certificates")
    result = []
    for item in raw:
        if isinstance(item, Certificate):
            result.append(item)
        elif isinstance(item, Mapping) and set(item) == {"issuer", "number", "expires_on"}:
            result.append(Certificate(item["issuer"], item["number"], item["expires_on"]))
        else:
            raise ValidationError("a certificate needs exactly issuer, number and expires_on",
                                  code="certificate.invalid", field="certificates")
    return tuple(result)


def _service_ids(raw: Iterable[str]) -> frozenset[ServiceId]:
    if isinstance(raw, (str, bytes)) or not isinstance(raw, Iterable):
        raise ValidationError("services must be a list of service ids", code="therapist.services", field="services")
    return frozenset(service_id(s) for s in raw)


def profile_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """Parse the editable profile fields given (None means "leave alone")."""
    parsers: dict[str, Any] = {
        "real_name": lambda v: v, "gender": lambda v: v, "years_experience": lambda v: v,
        "specialties": lambda v: v, "bio": lambda v: v, "time_zone": lambda v: v,
        "id_number": ResidentIdNumber.parse, "area": area, "certificates": certificate_list, "services": _service_ids,
    }
    unknown = set(values) - set(parsers)
    if unknown:
        raise ValidationError(f"unknown profile fields: {', '.join(sorted(unknown))}", code="therapist.field")
    return {name: parsers[name](value) for name, value in values.items() if value is not None}


class TherapistsService(VettingFlows):
    """Therapist profiles; see the module docstring."""

    def _own(self, actor: Actor, action: str) -> AccountId:
        self._require(actor, Permission.OWN_ACCOUNT_MANAGE, action, actor.label)
        if actor.account_id is None:
            raise ValidationError("the system has no account of its own", code="actor.no_account")
        return actor.account_id

    @staticmethod
    def _check_services(uow: UnitOfWork, services: Iterable[ServiceId]) -> None:
        for sid in services:
            try:
                offered = uow.catalog_services.get(sid)
            except NotFound:
                offered = None
            if offered is None or not offered.active:
                raise ValidationError(f"service {sid} is not in the catalogue", code="therapist.services",
                                      field="services")

    def register(self, actor: Actor, account: str, *, real_name: str, id_number: str, gender: str,
                 years_experience: int, area: AreaInput, certificates: Iterable[CertificateInput] = (),
                 specialties: Iterable[str] = (), bio: str = "", services: Iterable[str] = (),
                 time_zone: str | None = None) -> TherapistView:
        """Create the draft therapist profile of the actor's own account. Audited.

        Returns the owner's (unmasked) view.  Raises ValidationError (``id_number.*``,
        ``therapist.too_young`` under 18, ``certificate.*``, ``area.*``, ``time.zone``,
        ``therapist.*``), Conflict (``therapist.duplicate``: a profile exists or the ID
        number is another therapist's), NotFound for somebody else's account,
        PermissionDenied for anonymous callers.
        """
        target = account_id(account)
        fields = profile_fields({
            "real_name": real_name, "id_number": id_number, "gender": gender,
            "years_experience": years_experience, "area": area, "certificates": certificates,
            "specialties": specialties, "bio": bio, "services": services, "time_zone": time_zone})
        own = self._own(actor, "therapists.register")
        now = self._now()
        with self._guard(actor, "therapists.register", target), self._uow() as uow:
            if target != own:
                raise not_found("account", target)
            profile = TherapistProfile.register(own, now, **fields)
            self._check_services(uow, profile.services)
            uow.record(profile.events)
            saved = uow.therapists.add(profile)
            self._audit_ok(uow, actor, "therapists.register", own, now)
            uow.commit()
            return TherapistView.of(saved, full=True)

    def profile(self, actor: Actor, account: str) -> TherapistView:
        """A therapist profile: in full for its owner, masked for admins with ``therapists.read``
        (an audited read); anybody else gets NotFound.  Raises PermissionDenied for anonymous callers."""
        target = account_id(account)
        if not actor.may(Permission.THERAPISTS_READ):
            self._own(actor, "therapists.profile")
        with self._guard(actor, "therapists.profile", target), self._uow() as uow:
            if actor.owns(target):
                return TherapistView.of(uow.therapists.get(target), full=True)
            if not actor.may(Permission.THERAPISTS_READ):
                raise not_found("therapist", target)
            view = TherapistView.of(uow.therapists.get(target))
            self._audit_ok(uow, actor, "therapists.profile", target, self._now())
            uow.commit()
            return view

    def update_profile(self, actor: Actor, account: str, **changes: Any) -> TherapistView:
        """Change the owner's profile fields (the keyword arguments of ``register``; None leaves one alone).

        Identity (real name, ID number, gender) changes only in draft or rejected;
        certificates not while under review (Conflict ``therapist.locked``). Audited.
        Raises like ``register``, and NotFound when the actor has no profile.
        """
        target = account_id(account)
        fields = profile_fields(changes)
        own = self._own(actor, "therapists.update_profile")
        now = self._now()
        with self._guard(actor, "therapists.update_profile", target), self._uow() as uow:
            if target != own:
                raise not_found("therapist", target)
            updated = uow.therapists.get(own).update(now, **fields)
            self._check_services(uow, fields.get("services", ()))
            saved = uow.therapists.save(updated)
            self._audit_ok(uow, actor, "therapists.update_profile", own, now, fields=",".join(sorted(fields)))
            uow.commit()
            return TherapistView.of(saved, full=True)

    def submit(self, actor: Actor, account: str) -> TherapistView:
        """Send the owner's draft (or rejected) profile for vetting. Audited.

        Raises InvalidTransition (naming the allowed actions), ValidationError
        (``therapist.incomplete``, ``certificate.expired``), NotFound.
        """
        target = account_id(account)
        own = self._own(actor, "therapists.submit")
        now = self._now()
        with self._guard(actor, "therapists.submit", target), self._uow() as uow:
            if target != own:
                raise not_found("therapist", target)
            before = uow.therapists.get(own)
            after = self._save(uow, before.submit(actor.label, now))
            self._audit_step(uow, actor, "submit", before, after, now)
            uow.commit()
            return TherapistView.of(after, full=True)

    def set_active(self, actor: Actor, account: str, active: bool) -> TherapistView:
        """The owner pauses (False) or resumes (True) their public listing. Audited. Raises NotFound."""
        target = account_id(account)
        own = self._own(actor, "therapists.set_active")
        now = self._now()
        with self._guard(actor, "therapists.set_active", target), self._uow() as uow:
            if target != own:
                raise not_found("therapist", target)
            saved = uow.therapists.save(uow.therapists.get(own).with_active(active, now))
            self._audit_ok(uow, actor, "therapists.set_active", own, now, active=str(saved.active))
            uow.commit()
            return TherapistView.of(saved, full=True)

    def list(self, actor: Actor, *, state: str | None = None, offset: int = 0,
             limit: int = 50) -> Sequence[TherapistView]:
        """A page of profiles (masked), oldest first, optionally in one vetting state. Audited.

        Raises ValidationError (``vetting.state``, ``page.*``), PermissionDenied without ``therapists.read``.
        """
        offset, limit = page_bounds(offset, limit, 500)
        try:
            wanted = VettingState(state) if state is not None else None
        except ValueError:
            raise ValidationError(f"unknown vetting state {state!r}", code="vetting.state", field="state") from None
        self._require(actor, Permission.THERAPISTS_READ, "therapists.list", "therapists")
        with self._uow() as uow:
            views = [TherapistView.of(p) for p in uow.therapists.list(offset=offset, limit=limit, state=wanted)]
            self._audit_ok(uow, actor, "therapists.list", "therapists", self._now(), returned=str(len(views)))
            uow.commit()
            return views

    def suspend(self, actor: Actor, therapist: str, reason: str) -> TherapistView:
        """Hide a therapist from customers with a reason. Audited.

        Raises ValidationError (``therapist.reason``), Conflict (``therapist.already_suspended``,
        ``therapist.self``), NotFound, PermissionDenied without ``therapists.suspend``.
        """
        return self._administer(actor, therapist, "suspend", lambda p, now: p.suspend(reason, now),
                                reason=str(reason).strip())

    def reinstate(self, actor: Actor, therapist: str) -> TherapistView:
        """Lift a suspension. Audited. Raises Conflict (``therapist.not_suspended``), NotFound, PermissionDenied."""
        return self._administer(actor, therapist, "reinstate", lambda p, now: p.reinstate(now))

    def _administer(self, actor: Actor, therapist: str, action: str,
                    change: Callable[[TherapistProfile, Instant], TherapistProfile], **details: str) -> TherapistView:
        target = account_id(therapist)
        self._require(actor, Permission.THERAPISTS_SUSPEND, f"therapists.{action}", target)
        if actor.owns(target):
            raise Conflict("nobody administers their own profile", code="therapist.self")
        now = self._now()
        with self._uow() as uow:
            saved = self._save(uow, change(uow.therapists.get(target), now))
            self._audit_ok(uow, actor, f"therapists.{action}", target, now, **details)
            uow.commit()
            return TherapistView.of(saved)

    def set_level(self, actor: Actor, therapist: str, level: str) -> TherapistView:
        """Assign a therapist level (it decides the prices of their services). Audited.

        Raises ValidationError (``level.code``; ``catalog.level`` for an undefined level),
        Conflict (``therapist.self``), NotFound, PermissionDenied without ``therapists.vet``.
        """
        target = self._vetter(actor, "therapists.set_level", therapist)
        now = self._now()
        with self._uow() as uow:
            known = {lv.code for lv in uow.levels.list()}
            profile = uow.therapists.get(target).with_level(level, now)
            if profile.level not in known:
                raise ValidationError(f"unknown level {profile.level}", code="catalog.level", field="level")
            saved = self._save(uow, profile)
            self._audit_ok(uow, actor, "therapists.set_level", target, now, level=str(saved.level))
            uow.commit()
            return TherapistView.of(saved)

    def public_profile(self, actor: Actor, therapist: str) -> PublicTherapistView:
        """The public card of a visible therapist; NotFound for anybody not visible. Open to everybody."""
        target = account_id(therapist)
        with self._uow() as uow:
            profile = uow.therapists.find(target)
            if profile is None or not profile.is_public or not uow.accounts.get(target).is_active:
                raise NotFound("therapist", target)
            return PublicTherapistView.of(profile)

    def list_public(self, actor: Actor, *, service: str | None = None, level: str | None = None,
                    offset: int = 0, limit: int = 50) -> Sequence[PublicTherapistView]:
        """Visible therapists, oldest first, optionally offering ``service`` or of ``level``. Open to everybody.

        Raises ValidationError for a malformed service id or level code, or a bad page.
        """
        offset, limit = page_bounds(offset, limit, 500)
        wanted = service_id(service) if service is not None else None
        if level is not None and not isinstance(level, str):
            raise ValidationError("level must be a level code", code="level.code", field="level")
        with self._uow() as uow:
            found = uow.therapists.list_public(offset=offset, limit=limit, service_id=wanted, level=level)
            return [PublicTherapistView.of(p) for p in found]
