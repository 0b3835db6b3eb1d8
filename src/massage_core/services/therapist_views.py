"""Read models of therapist profiles: the owner's full view, the admin's masked view, the public card."""

from __future__ import annotations

import datetime as dt

from attrs import frozen

from massage_core.domain.masking import mask_id_number, mask_name
from massage_core.domain.therapists import TherapistProfile
from massage_core.domain.time import Instant


@frozen
class CertificateView:
    """A certificate as shown to its owner and to admins."""

    issuer: str
    number: str
    expires_on: dt.date


@frozen
class VettingStepView:
    """One step of the vetting history."""

    at: Instant
    action: str
    actor: str
    from_state: str
    to_state: str
    note: str


@frozen
class TherapistView:
    """A profile as its owner (real name and ID number in full) or an admin (both masked) sees it."""

    id: str
    state: str
    certified: bool
    public: bool
    level: str | None
    real_name: str
    id_number: str
    gender: str
    years_experience: int
    certificates: tuple[CertificateView, ...]
    specialties: tuple[str, ...]
    bio: str
    lat: float
    lng: float
    radius_km: float
    services: tuple[str, ...]
    time_zone: str
    rejection_reasons: tuple[str, ...]
    background_outcome: str
    background_reference: str
    skill_score: int | None
    skill_pass_mark: int | None
    skill_examiner: str | None
    active: bool
    suspended: bool
    suspended_reason: str
    created_at: Instant
    updated_at: Instant | None
    history: tuple[VettingStepView, ...]

    @classmethod
    def of(cls, p: TherapistProfile, *, full: bool = False) -> TherapistView:
        """The view of ``p``; ``full`` shows the real name and ID number unmasked (for the owner only)."""
        test = p.skill_test
        return cls(
            id=p.id, state=p.state.value, certified=p.certified, public=p.is_public, level=p.level,
            real_name=p.real_name if full else mask_name(p.real_name),
            id_number=p.id_number.value if full else mask_id_number(p.id_number.value),
            gender=p.gender.value, years_experience=p.years_experience,
            certificates=tuple(CertificateView(c.issuer, c.number, c.expires_on) for c in p.certificates),
            specialties=p.specialties, bio=p.bio, lat=p.area.lat, lng=p.area.lng, radius_km=p.area.radius_km,
            services=tuple(sorted(p.services)), time_zone=p.time_zone, rejection_reasons=p.rejection_reasons,
            background_outcome=p.background_outcome.value if p.background_outcome else "",
            background_reference=p.background_reference,
            skill_score=test.score if test else None, skill_pass_mark=test.pass_mark if test else None,
            skill_examiner=test.examiner if test else None,
            active=p.active, suspended=p.suspended, suspended_reason=p.suspended_reason,
            created_at=p.created_at, updated_at=p.updated_at,
            history=tuple(VettingStepView(s.at, s.action.value, s.actor, s.from_state.value, s.to_state.value,
                                          s.note) for s in p.history),
        )


@frozen
class PublicTherapistView:
    """What customers and anonymous visitors see: no ID number, a masked name, a coarse area centre."""

    id: str
    name: str
    gender: str
    years_experience: int
    level: str | None
    certified: bool
    specialties: tuple[str, ...]
    bio: str
    services: tuple[str, ...]
    area_lat: float
    area_lng: float
    radius_km: float
    time_zone: str

    @classmethod
    def of(cls, p: TherapistProfile) -> PublicTherapistView:
        """The public card of ``p`` (the caller checks ``p.is_public``)."""
        lat, lng = p.area.coarse()
        return cls(
            id=p.id, name=mask_name(p.real_name), gender=p.gender.value, years_experience=p.years_experience,
            level=p.level, certified=p.certified, specialties=p.specialties, bio=p.bio,
            services=tuple(sorted(p.services)), area_lat=lat, area_lng=lng, radius_km=p.area.radius_km,
            time_zone=p.time_zone,
        )
