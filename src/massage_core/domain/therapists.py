"""The TherapistProfile aggregate: onboarding data, vetting state, level, suspension.

A profile is keyed by the therapist's own AccountId (one account, at most
one profile).  Identity (real name, ID number, gender) can change only while
the profile is a draft or was rejected; certificates cannot change while they
are under review.  Vetting steps go through ``vetting.next_state`` and are
kept in ``history``.  Customers see a therapist only when ``is_public``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import attrs
from attrs import field, frozen

from massage_core.domain.catalog import level_code
from massage_core.domain.errors import Conflict, ValidationError
from massage_core.domain.events import DomainEvent
from massage_core.domain.identity_documents import ResidentIdNumber
from massage_core.domain.ids import AccountId, ServiceId
from massage_core.domain.therapist_values import (
    Certificate,
    Gender,
    ServiceArea,
    bio,
    certificates,
    check_adult,
    gender,
    real_name,
    specialties,
    time_zone,
    years_experience,
)
from massage_core.domain.time import DEFAULT_ZONE, Instant, local
from massage_core.domain.vetting import (
    REVIEW_STATES,
    BackgroundOutcome,
    Party,
    SkillTest,
    VettingAction,
    VettingState,
    VettingStep,
    next_state,
    reasons,
)

MAX_SERVICES = 50
IDENTITY_FIELDS = frozenset({"real_name", "id_number", "gender"})
EDITABLE_FIELDS = IDENTITY_FIELDS | {"years_experience", "certificates", "specialties", "bio", "area", "services",
                                     "time_zone"}


@frozen
class TherapistRegistered(DomainEvent):
    therapist_id: AccountId


@frozen
class TherapistVetted(DomainEvent):
    therapist_id: AccountId
    action: str
    from_state: str
    to_state: str


@frozen
class TherapistSuspended(DomainEvent):
    therapist_id: AccountId
    reason: str


@frozen
class TherapistReinstated(DomainEvent):
    therapist_id: AccountId


def service_ids(values: Iterable[ServiceId]) -> frozenset[ServiceId]:
    """At most 50 catalogue service ids (their existence is checked by the service layer)."""
    result = frozenset(values)
    if len(result) > MAX_SERVICES:
        raise ValidationError(f"at most {MAX_SERVICES} services", code="therapist.services", field="services")
    return result


def certificate_tuple(values: Iterable[Certificate]) -> tuple[Certificate, ...]:
    """Certificates as a tuple (their validity is checked against a date by ``certificates``)."""
    return tuple(values)


@frozen
class TherapistProfile:
    """A therapist's professional profile; see the module docstring."""

    id: AccountId
    created_at: Instant
    real_name: str = field(converter=real_name)
    id_number: ResidentIdNumber
    gender: Gender = field(converter=gender)
    years_experience: int = field(converter=years_experience)
    area: ServiceArea
    certificates: tuple[Certificate, ...] = field(default=(), converter=certificate_tuple)
    specialties: tuple[str, ...] = field(default=(), converter=specialties)
    bio: str = field(default="", converter=bio)
    services: frozenset[ServiceId] = field(default=frozenset(), converter=service_ids)
    time_zone: str = field(default=DEFAULT_ZONE, converter=time_zone)
    level: str | None = None
    state: VettingState = VettingState.DRAFT
    rejection_reasons: tuple[str, ...] = ()
    background_reference: str = ""
    background_outcome: BackgroundOutcome | None = None
    skill_test: SkillTest | None = None
    active: bool = True
    suspended: bool = False
    suspended_reason: str = ""
    history: tuple[VettingStep, ...] = ()
    updated_at: Instant | None = None
    version: int = 0
    events: tuple[DomainEvent, ...] = field(default=(), eq=False, repr=False)

    @classmethod
    def register(cls, therapist_id: AccountId, now: Instant, **values: Any) -> TherapistProfile:
        """A new draft profile: the holder of the ID number must be 18+, no certificate may be expired."""
        unknown = set(values) - EDITABLE_FIELDS
        if unknown:
            raise ValidationError(f"unknown profile fields: {', '.join(sorted(unknown))}", code="therapist.field")
        profile = cls(id=therapist_id, created_at=now, updated_at=now, **values)
        today = profile.today(now)
        check_adult(profile.id_number, today)
        certificates(profile.certificates, today)
        return profile._with(TherapistRegistered(now, therapist_id))

    def _with(self, event: DomainEvent, **changes: Any) -> TherapistProfile:
        return attrs.evolve(self, events=self.events + (event,), updated_at=event.occurred_at, **changes)

    def today(self, now: Instant) -> dt.date:
        """The therapist's calendar date at ``now`` (in their own time zone)."""
        return local(now, self.time_zone).date()

    @property
    def is_public(self) -> bool:
        """Visible to customers: approved (certified badge), active and not suspended."""
        return self.state is VettingState.APPROVED and self.active and not self.suspended

    @property
    def certified(self) -> bool:
        """True while the certified badge stands (approved and not badge-suspended)."""
        return self.state is VettingState.APPROVED

    def expired_certificates(self, today: dt.date) -> tuple[Certificate, ...]:
        """Certificates past their last valid day."""
        return tuple(c for c in self.certificates if c.expired(today))

    def update(self, now: Instant, **changes: Any) -> TherapistProfile:
        """Change editable fields (None leaves a field alone); Conflict ``therapist.locked`` when not allowed now."""
        changes = {k: v for k, v in changes.items() if v is not None}
        unknown = set(changes) - EDITABLE_FIELDS
        if unknown:
            raise ValidationError(f"unknown profile fields: {', '.join(sorted(unknown))}", code="therapist.field")
        editable_identity = self.state in (VettingState.DRAFT, VettingState.REJECTED)
        if IDENTITY_FIELDS & set(changes) and not editable_identity:
            raise Conflict(f"identity cannot change once submitted (state {self.state})", code="therapist.locked")
        if "certificates" in changes and self.state in REVIEW_STATES:
            raise Conflict(f"certificates are under review (state {self.state})", code="therapist.locked")
        updated = attrs.evolve(self, updated_at=now, **changes)
        today = updated.today(now)
        if "id_number" in changes:
            check_adult(updated.id_number, today)
        if "certificates" in changes:
            certificates(updated.certificates, today)
        return updated

    # -- vetting -----------------------------------------------------------------------------------------

    def _step(self, action: VettingAction, by: Party, actor: str, now: Instant, note: str = "",
              **changes: Any) -> TherapistProfile:
        target = next_state(self.state, action, by)
        step = VettingStep(now, action, actor, self.state, target, note)
        event = TherapistVetted(now, self.id, action.value, self.state.value, target.value)
        return self._with(event, state=target, history=self.history + (step,), **changes)

    def submit(self, actor: str, now: Instant) -> TherapistProfile:
        """Send the profile for vetting (first time or after a rejection).

        Raises ValidationError ``therapist.incomplete`` without a certificate or
        a service, ``certificate.expired`` with an expired certificate.
        """
        next_state(self.state, VettingAction.SUBMIT, Party.OWNER)  # an illegal step fails before the checks
        if not self.certificates or not self.services:
            raise ValidationError("a profile needs at least one certificate and one service before submitting",
                                  code="therapist.incomplete")
        certificates(self.certificates, self.today(now))
        return self._step(VettingAction.SUBMIT, Party.OWNER, actor, now)

    def start_review(self, actor: str, now: Instant) -> TherapistProfile:
        """A vetter starts reviewing the documents."""
        return self._step(VettingAction.START_REVIEW, Party.VETTER, actor, now)

    def accept_documents(self, actor: str, now: Instant) -> TherapistProfile:
        """The documents are in order: on to the background check."""
        return self._step(VettingAction.ACCEPT_DOCUMENTS, Party.VETTER, actor, now)

    def background_checked(self, outcome: BackgroundOutcome, reference: str, details: str, actor: str,
                           now: Instant) -> TherapistProfile:
        """Record a background check: clear -> skill test, flagged -> rejected with the finding as reason."""
        if outcome is BackgroundOutcome.CLEAR:
            return self._step(VettingAction.PASS_BACKGROUND_CHECK, Party.VETTER, actor, now, f"ref {reference}",
                              background_reference=reference, background_outcome=outcome)
        why = f"background check flagged: {details or 'see provider report'}"
        return self._step(VettingAction.FAIL_BACKGROUND_CHECK, Party.VETTER, actor, now, why,
                          background_reference=reference, background_outcome=outcome, rejection_reasons=(why,))

    def skill_tested(self, test: SkillTest, actor: str, now: Instant) -> TherapistProfile:
        """Record a skill test: passed -> approved (certified badge); failed -> rejected."""
        note = f"examiner {test.examiner} score {test.score}/{test.pass_mark}"
        if test.passed:
            return self._step(VettingAction.PASS_SKILL_TEST, Party.VETTER, actor, now, note, skill_test=test,
                              rejection_reasons=())
        why = f"skill test score {test.score} below pass mark {test.pass_mark}"
        return self._step(VettingAction.FAIL_SKILL_TEST, Party.VETTER, actor, now, note, skill_test=test,
                          rejection_reasons=(why,))

    def reject(self, why: object, actor: str, now: Instant) -> TherapistProfile:
        """Reject during review with 1..10 reasons; the therapist may fix the profile and resubmit."""
        checked = reasons(why)
        return self._step(VettingAction.REJECT, Party.VETTER, actor, now, "; ".join(checked),
                          rejection_reasons=checked)

    def suspend_badge(self, actor: str, now: Instant) -> TherapistProfile:
        """An approved therapist's certificate expired: the badge is suspended until re-checked."""
        expired = self.expired_certificates(self.today(now))
        note = "expired: " + ", ".join(c.number for c in expired) if expired else "suspended by a vetter"
        return self._step(VettingAction.SUSPEND_BADGE, Party.VETTER, actor, now, note)

    def restore_badge(self, actor: str, now: Instant) -> TherapistProfile:
        """Re-check after renewal: Conflict ``certificate.expired`` while a certificate is still expired."""
        next_state(self.state, VettingAction.RESTORE_BADGE, Party.VETTER)
        if self.expired_certificates(self.today(now)) or not self.certificates:
            raise Conflict("a certificate is still expired: renew it first", code="certificate.expired")
        return self._step(VettingAction.RESTORE_BADGE, Party.VETTER, actor, now)

    # -- administration ----------------------------------------------------------------------------------

    def suspend(self, reason: str, now: Instant) -> TherapistProfile:
        """Hide the therapist from customers; Conflict ``therapist.already_suspended``."""
        if not isinstance(reason, str) or not 1 <= len(reason.strip()) <= 500:
            raise ValidationError("a suspension needs a reason (1..500 characters)", code="therapist.reason",
                                  field="reason")
        if self.suspended:
            raise Conflict("therapist is already suspended", code="therapist.already_suspended")
        return self._with(TherapistSuspended(now, self.id, reason.strip()), suspended=True,
                          suspended_reason=reason.strip())

    def reinstate(self, now: Instant) -> TherapistProfile:
        """Lift a suspension; Conflict ``therapist.not_suspended``."""
        if not self.suspended:
            raise Conflict("therapist is not suspended", code="therapist.not_suspended")
        return self._with(TherapistReinstated(now, self.id), suspended=False, suspended_reason="")

    def with_level(self, code: str, now: Instant) -> TherapistProfile:
        """Assign a level (its existence is checked by the service layer)."""
        return attrs.evolve(self, level=level_code(code), updated_at=now)

    def with_active(self, active: bool, now: Instant) -> TherapistProfile:
        """The therapist pauses (False) or resumes (True) their listing."""
        if not isinstance(active, bool):
            raise ValidationError("active must be true or false", code="therapist.active", field="active")
        return attrs.evolve(self, active=active, updated_at=now)

    def clear_events(self) -> TherapistProfile:
        """The same profile without pending events (after the unit of work collected them)."""
        return attrs.evolve(self, events=())
