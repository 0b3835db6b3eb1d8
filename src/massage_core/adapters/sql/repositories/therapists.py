"""Therapist profiles in SQL: the profile row (real name and ID number encrypted) plus certificates,
offered services and the append-only vetting log."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import attrs
from sqlalchemy import Row, bindparam, delete, exists, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

from massage_core.adapters.sql.fields import ID_NUMBER_INDEX, THERAPIST_ID_NUMBER, THERAPIST_REAL_NAME, FieldCodec
from massage_core.adapters.sql.prepared import Prepared
from massage_core.adapters.sql.repositories._guard import guarded
from massage_core.adapters.sql.tables import accounts
from massage_core.adapters.sql.tables_therapists import (
    therapist_certificates,
    therapist_profiles,
    therapist_services,
    therapist_vetting_log,
)
from massage_core.domain.accounts import AccountStatus
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.identity_documents import ResidentIdNumber
from massage_core.domain.ids import AccountId, ServiceId
from massage_core.domain.therapist_values import Certificate, ServiceArea
from massage_core.domain.therapists import TherapistProfile
from massage_core.domain.vetting import BackgroundOutcome, SkillTest, VettingAction, VettingState, VettingStep
from massage_core.ports.therapists import TherapistRepository

DUPLICATE = "therapist.duplicate"
P = therapist_profiles
_c, _s, _log = therapist_certificates, therapist_services, therapist_vetting_log

# The statements of ``find`` (the booking's read) are built once; only their parameters change per call.  The
# children of one profile are read by ``account_id = :id`` (on SQLite on the driver: ``prepared``); of several,
# by an expanding ``IN``.
_BY_ID = Prepared(select(P).where(P.c.account_id == bindparam("p_id")))
_CERTIFICATES_OF_ONE = Prepared(select(_c).where(_c.c.account_id == bindparam("p_id")).order_by(_c.c.position))
_SERVICES_OF_ONE = Prepared(select(_s).where(_s.c.account_id == bindparam("p_id")))
_LOG_OF_ONE = Prepared(select(_log).where(_log.c.account_id == bindparam("p_id")).order_by(_log.c.position))
_ZONES_OF = select(P.c.account_id, P.c.time_zone).where(P.c.account_id.in_(bindparam("p_ids", expanding=True)))
_IN_CHUNK = 1000  # ids per ``IN`` list of ``zones_of``
_CERTIFICATES_OF = (select(_c).where(_c.c.account_id.in_(bindparam("p_ids", expanding=True)))
                    .order_by(_c.c.account_id, _c.c.position))
_SERVICES_OF = select(_s).where(_s.c.account_id.in_(bindparam("p_ids", expanding=True)))
_LOG_OF = (select(_log).where(_log.c.account_id.in_(bindparam("p_ids", expanding=True)))
           .order_by(_log.c.account_id, _log.c.position))


class SqlTherapistRepository(TherapistRepository):
    """Profiles in ``therapist_profiles`` and its child tables; optimistic locking on ``version``."""

    def __init__(self, connection: Connection, codec: FieldCodec) -> None:
        """Work inside ``connection``'s transaction, encrypting with ``codec``."""
        self._conn = connection
        self._codec = codec

    # -- writing -------------------------------------------------------------------------------------

    def _values(self, p: TherapistProfile) -> dict[str, Any]:
        key = (p.id,)
        test = p.skill_test
        return {
            "real_name_enc": self._codec.seal(THERAPIST_REAL_NAME, key, p.real_name),
            "id_number_enc": self._codec.seal(THERAPIST_ID_NUMBER, key, p.id_number.value),
            "id_number_idx": self._codec.index(ID_NUMBER_INDEX, p.id_number.value),
            "gender": p.gender.value,
            "years_experience": p.years_experience,
            "specialties": json.dumps(list(p.specialties), ensure_ascii=False),
            "bio": p.bio,
            "area_lat_e6": round(p.area.lat * 1_000_000),
            "area_lng_e6": round(p.area.lng * 1_000_000),
            "area_radius_m": round(p.area.radius_km * 1000),
            "time_zone": p.time_zone,
            "level_code": p.level,
            "vetting_state": p.state.value,
            "rejection_reasons": json.dumps(list(p.rejection_reasons), ensure_ascii=False),
            "background_reference": p.background_reference,
            "background_outcome": p.background_outcome.value if p.background_outcome else "",
            "skill_examiner": test.examiner if test else None,
            "skill_score": test.score if test else None,
            "skill_pass_mark": test.pass_mark if test else None,
            "active": p.active,
            "suspended": p.suspended,
            "suspended_reason": p.suspended_reason,
            "created_at": p.created_at,
            "updated_at": p.updated_at or p.created_at,
        }

    def _write_children(self, p: TherapistProfile, stored_steps: int) -> None:
        c, s, log = therapist_certificates, therapist_services, therapist_vetting_log
        self._conn.execute(delete(c).where(c.c.account_id == p.id))
        if p.certificates:
            self._conn.execute(insert(c), [
                {"account_id": p.id, "position": n, "issuer": cert.issuer, "number": cert.number,
                 "expires_on": cert.expires_on} for n, cert in enumerate(p.certificates)])
        self._conn.execute(delete(s).where(s.c.account_id == p.id))
        if p.services:
            self._conn.execute(insert(s), [{"account_id": p.id, "service_id": sid} for sid in sorted(p.services)])
        new_steps = p.history[stored_steps:]
        if new_steps:
            self._conn.execute(insert(log), [
                {"account_id": p.id, "position": stored_steps + n, "at": step.at, "action": step.action.value,
                 "actor_id": step.actor, "from_state": step.from_state.value, "to_state": step.to_state.value,
                 "note": step.note} for n, step in enumerate(new_steps)])

    def add(self, profile: TherapistProfile) -> TherapistProfile:
        """Insert the profile and its children with version 1."""
        with guarded(self._conn, duplicate=DUPLICATE):
            self._conn.execute(insert(P).values(account_id=profile.id, version=1, **self._values(profile)))
            self._write_children(profile, 0)
        return attrs.evolve(profile.clear_events(), version=1)

    def save(self, profile: TherapistProfile) -> TherapistProfile:
        """Compare-and-set on the version; certificates and services replaced, new vetting steps appended."""
        new_version = profile.version + 1
        with guarded(self._conn, duplicate=DUPLICATE):
            result = self._conn.execute(
                update(P).where(P.c.account_id == profile.id, P.c.version == profile.version)
                .values(version=new_version, **self._values(profile)))
            if result.rowcount == 0:
                if self.find(profile.id) is None:
                    raise NotFound("therapist", profile.id)
                raise Conflict(f"therapist {profile.id} was changed by somebody else", code="conflict.stale")
            log = therapist_vetting_log
            stored = self._conn.execute(
                select(func.count()).select_from(log).where(log.c.account_id == profile.id)).scalar_one()
            self._write_children(profile, int(stored))
        return attrs.evolve(profile.clear_events(), version=new_version)

    # -- reading -------------------------------------------------------------------------------------

    def _load(self, rows: Sequence[Row[Any]]) -> list[TherapistProfile]:
        if not rows:
            return []
        if len(rows) == 1:
            one = {"p_id": rows[0].account_id}
            read: tuple[Any, ...] = tuple(statement.rows(self._conn, one)
                                          for statement in (_CERTIFICATES_OF_ONE, _SERVICES_OF_ONE, _LOG_OF_ONE))
        else:
            many = {"p_ids": [row.account_id for row in rows]}
            read = tuple(self._conn.execute(statement, many) for statement in (_CERTIFICATES_OF, _SERVICES_OF, _LOG_OF))
        certs: dict[str, list[Certificate]] = defaultdict(list)
        for r in read[0]:
            certs[r.account_id].append(Certificate(r.issuer, r.number, r.expires_on))
        offered: dict[str, set[ServiceId]] = defaultdict(set)
        for r in read[1]:
            offered[r.account_id].add(ServiceId(r.service_id))
        steps: dict[str, list[VettingStep]] = defaultdict(list)
        for r in read[2]:
            steps[r.account_id].append(VettingStep(r.at, VettingAction(r.action), r.actor_id,
                                                   VettingState(r.from_state), VettingState(r.to_state), r.note))
        return [self._to_profile(row, certs[row.account_id], offered[row.account_id], steps[row.account_id])
                for row in rows]

    def _to_profile(self, row: Row[Any], certs: list[Certificate], offered: set[ServiceId],
                    steps: list[VettingStep]) -> TherapistProfile:
        key = (row.account_id,)
        test = None
        if row.skill_examiner is not None:
            test = SkillTest(row.skill_examiner, row.skill_score, row.skill_pass_mark)
        return TherapistProfile(
            id=AccountId(row.account_id),
            created_at=row.created_at,
            real_name=self._codec.open(THERAPIST_REAL_NAME, key, row.real_name_enc),
            id_number=ResidentIdNumber(self._codec.open(THERAPIST_ID_NUMBER, key, row.id_number_enc)),
            gender=row.gender,
            years_experience=row.years_experience,
            area=ServiceArea(row.area_lat_e6 / 1_000_000, row.area_lng_e6 / 1_000_000, row.area_radius_m / 1000),
            certificates=tuple(certs),
            specialties=tuple(json.loads(row.specialties)),
            bio=row.bio,
            services=frozenset(offered),
            time_zone=row.time_zone,
            level=row.level_code,
            state=VettingState(row.vetting_state),
            rejection_reasons=tuple(json.loads(row.rejection_reasons)),
            background_reference=row.background_reference,
            background_outcome=BackgroundOutcome(row.background_outcome) if row.background_outcome else None,
            skill_test=test,
            active=row.active,
            suspended=row.suspended,
            suspended_reason=row.suspended_reason,
            history=tuple(steps),
            updated_at=row.updated_at,
            version=row.version,
        )

    def _page(self, query: Select[Any], offset: int, limit: int) -> list[TherapistProfile]:
        query = query.order_by(P.c.created_at, P.c.account_id).offset(max(offset, 0)).limit(max(limit, 0))
        return self._load(self._conn.execute(query).all())

    def get(self, therapist_id: AccountId) -> TherapistProfile:
        """The profile or NotFound."""
        found = self.find(therapist_id)
        if found is None:
            raise NotFound("therapist", therapist_id)
        return found

    def find(self, therapist_id: AccountId) -> TherapistProfile | None:
        """The profile or None."""
        rows = _BY_ID.rows(self._conn, {"p_id": therapist_id})
        return self._load(rows)[0] if rows else None

    def zones_of(self, therapist_ids: Collection[AccountId]) -> Mapping[AccountId, str]:
        """One ``SELECT account_id, time_zone ... WHERE account_id IN (...)`` per 1,000 ids."""
        wanted = sorted(set(therapist_ids))
        zones: dict[AccountId, str] = {}
        for start in range(0, len(wanted), _IN_CHUNK):
            rows = self._conn.execute(_ZONES_OF, {"p_ids": wanted[start:start + _IN_CHUNK]})
            zones.update((AccountId(row.account_id), row.time_zone) for row in rows)
        return zones

    def list(self, *, offset: int = 0, limit: int = 50,
             state: VettingState | None = None) -> Sequence[TherapistProfile]:
        """By creation time, then id."""
        query = select(P)
        if state is not None:
            query = query.where(P.c.vetting_state == state.value)
        return self._page(query, offset, limit)

    def list_public(self, *, offset: int = 0, limit: int = 50, service_id: ServiceId | None = None,
                    level: str | None = None) -> Sequence[TherapistProfile]:
        """Approved, active, not suspended profiles of active accounts, by creation time, then id."""
        query = select(P).join(accounts, accounts.c.id == P.c.account_id).where(
            P.c.vetting_state == VettingState.APPROVED.value, P.c.active.is_(True), P.c.suspended.is_(False),
            accounts.c.status == AccountStatus.ACTIVE.value)
        if service_id is not None:
            s = therapist_services
            query = query.where(exists().where(s.c.account_id == P.c.account_id, s.c.service_id == service_id))
        if level is not None:
            query = query.where(P.c.level_code == level)
        return self._page(query, offset, limit)

    def with_certificates_expiring_before(self, day: dt.date) -> Sequence[TherapistProfile]:
        """Approved profiles with a certificate whose last day is before ``day``, by id."""
        c = therapist_certificates
        query = select(P).where(
            P.c.vetting_state == VettingState.APPROVED.value,
            exists().where(c.c.account_id == P.c.account_id, c.c.expires_on < day),
        ).order_by(P.c.account_id)
        return self._load(self._conn.execute(query).all())
