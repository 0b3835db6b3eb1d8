"""Vetting therapists: review steps, background check, skill test, rejection, badges.

Each step is fired by an admin holding ``therapists.vet`` (or the system),
never on their own profile, goes through the domain transition table, and is
appended to the audit log in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta

from massage_core.domain.access import Actor, Permission, Role
from massage_core.domain.errors import Conflict, InvalidTransition
from massage_core.domain.ids import AccountId, account_id
from massage_core.domain.therapists import TherapistProfile
from massage_core.domain.time import Instant
from massage_core.domain.vetting import SkillTest, VettingState, allowed_actions
from massage_core.domain.vetting import reasons as why
from massage_core.ports.background_check import BackgroundCheckRequest
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.base import Service
from massage_core.services.therapist_views import TherapistView
from massage_core.services.notify_people import notify_expiring_certificates, notify_vetting

Step = Callable[[TherapistProfile, str, Instant], TherapistProfile]


class VettingFlows(Service):
    """The vetting half of ``TherapistsService``."""

    def _vetter(self, actor: Actor, action: str, therapist: str) -> AccountId:
        target = account_id(therapist)
        self._require(actor, Permission.THERAPISTS_VET, action, target)
        if actor.owns(target):
            raise Conflict("nobody vets their own profile", code="therapist.self")
        return target

    def _save(self, uow: UnitOfWork, profile: TherapistProfile) -> TherapistProfile:
        uow.record(profile.events)
        return uow.therapists.save(profile)

    def _vet(self, actor: Actor, therapist: str, action: str, step: Step, **details: str) -> TherapistView:
        """Load, apply ``step``, grant the therapist role on approval, save, audit, commit."""
        target = self._vetter(actor, f"therapists.{action}", therapist)
        now = self._now()
        with self._uow() as uow:
            before = uow.therapists.get(target)
            after = self._save(uow, step(before, actor.label, now))
            notify_vetting(uow, self._deps, before, after, now)
            self._audit_step(uow, actor, action, before, after, now, **details)
            uow.commit()
            return TherapistView.of(after)

    def _audit_step(self, uow: UnitOfWork, actor: Actor, action: str, before: TherapistProfile,
                    after: TherapistProfile, now: Instant, **details: str) -> None:
        if after.state is VettingState.APPROVED and before.state is VettingState.SKILL_TEST:
            account = uow.accounts.get(after.id)
            if Role.THERAPIST not in account.roles:
                granted = account.set_roles(account.roles | {Role.THERAPIST}, account.admin_roles, now)
                uow.record(granted.events)
                uow.accounts.save(granted)
                details["role_granted"] = Role.THERAPIST.value
        self._audit_ok(uow, actor, f"therapists.{action}", after.id, now, from_state=before.state.value,
                       to_state=after.state.value, **details)

    def start_review(self, actor: Actor, therapist: str) -> TherapistView:
        """submitted -> document_review. Audited.

        Raises InvalidTransition (naming the allowed actions), NotFound, Conflict
        (``therapist.self``, ``conflict.stale``), PermissionDenied without ``therapists.vet``.
        """
        return self._vet(actor, therapist, "start_review", lambda p, who, now: p.start_review(who, now))

    def accept_documents(self, actor: Actor, therapist: str) -> TherapistView:
        """document_review -> background_check. Audited. Raises like ``start_review``."""
        return self._vet(actor, therapist, "accept_documents", lambda p, who, now: p.accept_documents(who, now))

    def run_background_check(self, actor: Actor, therapist: str) -> TherapistView:
        """Ask the BackgroundCheck provider; clear -> skill_test, flagged -> rejected with the finding. Audited.

        The provider is called outside any transaction; the result is saved only
        when the profile did not change meanwhile (Conflict ``conflict.stale``).
        Raises like ``start_review``, and MassageError ``background_check.unavailable``
        (nothing changed) when the provider fails.
        """
        target = self._vetter(actor, "therapists.run_background_check", therapist)
        with self._uow() as uow:
            profile = uow.therapists.get(target)
        if profile.state is not VettingState.BACKGROUND_CHECK:  # checked before the provider is asked
            raise InvalidTransition(profile.state.value, "run_background_check",
                                    [a.value for a in allowed_actions(profile.state)])
        report = self._deps.background_check.check(
            BackgroundCheckRequest(profile.id, profile.real_name, profile.id_number))

        def step(p: TherapistProfile, who: str, now: Instant) -> TherapistProfile:
            if p.version != profile.version:
                raise Conflict(f"therapist {p.id} changed during the background check; run it again",
                               code="conflict.stale")
            return p.background_checked(report.outcome, report.reference, report.details, who, now)

        return self._vet(actor, therapist, "run_background_check", step, outcome=report.outcome.value,
                         reference=report.reference)

    def record_skill_test(self, actor: Actor, therapist: str, *, score: int, pass_mark: int) -> TherapistView:
        """Record the skill test the actor examined: passed -> approved (certified badge, therapist role
        granted), failed -> rejected. Audited.

        Raises ValidationError (``skill_test.score``, ``skill_test.pass_mark``), and like ``start_review``.
        """
        test = SkillTest(actor.label, score, pass_mark)
        return self._vet(actor, therapist, "record_skill_test", lambda p, who, now: p.skill_tested(test, who, now),
                         score=str(test.score), pass_mark=str(test.pass_mark))

    def reject(self, actor: Actor, therapist: str, reasons: Sequence[str]) -> TherapistView:
        """Reject a profile under review with 1..10 reasons; the therapist may resubmit. Audited.

        Raises ValidationError (``vetting.reasons``), and like ``start_review``.
        """
        checked = why(reasons)
        return self._vet(actor, therapist, "reject", lambda p, who, now: p.reject(checked, who, now),
                         reasons="; ".join(checked))

    def restore_badge(self, actor: Actor, therapist: str) -> TherapistView:
        """Re-check after a certificate renewal: badge_suspended -> approved. Audited.

        Raises Conflict (``certificate.expired``) while a certificate is still expired, and like ``start_review``.
        """
        return self._vet(actor, therapist, "restore_badge", lambda p, who, now: p.restore_badge(who, now))

    def suspend_expired_badges(self, actor: Actor) -> Sequence[str]:
        """Suspend the badge of every approved therapist holding a certificate expired in their own time zone.

        Meant for the system's daily job (admins with ``therapists.vet`` may run it
        too).  Returns the ids of the therapists whose badge was suspended; each
        one is audited.  Raises PermissionDenied.
        """
        self._require(actor, Permission.THERAPISTS_VET, "therapists.suspend_expired_badges", "therapists")
        now = self._now()
        suspended: list[str] = []
        with self._uow() as uow:
            # Local dates are at most one day ahead of the UTC date, so this catches every zone.
            for profile in uow.therapists.with_certificates_expiring_before(now.date() + timedelta(days=1)):
                expired = profile.expired_certificates(profile.today(now))
                if not expired:
                    continue
                after = self._save(uow, profile.suspend_badge(actor.label, now))
                self._audit_ok(uow, actor, "therapists.suspend_badge", after.id, now,
                               from_state=profile.state.value, to_state=after.state.value,
                               certificates=",".join(c.number for c in expired))
                suspended.append(after.id)
            notice = now.date() + timedelta(days=self._deps.policies.certificate_notice_days + 1)
            notify_expiring_certificates(uow, self._deps, uow.therapists.with_certificates_expiring_before(notice),
                                         now)
            uow.commit()
        return suspended
