"""The sanctions context (``platform.sanctions``, issue 6 A2; decision 0039): penalties against therapists and
the one appeal each may get.

* ``impose`` (``sanctions.manage``: support, superadmins, the system): a deduction (posted at once through the
  ledger, ``postings.penalty`` keyed ``penalty:<sanction id>``; 1 fen .. ``Policies.adjustment_cap_fen`` and
  never more than the available balance, under the therapist's withdrawal lock), a warning, or a suspension
  (the profile is suspended; with ``ends_at`` the jobs rule ``lift_expired`` lifts it then, without it is
  indefinite).  Always with a reason; nobody sanctions themselves.
* ``appeal`` (the sanctioned therapist: ``own_sanctions.manage``): once, with a text, within
  ``Policies.appeal_window_days`` of the imposition.
* ``decide_appeal`` (``sanctions.manage``, by a named admin -- never the one who imposed the sanction):
  upheld -> reversed (a deduction is paid back by a ``penalty:<sanction id>:reversed`` entry; a suspension
  made by this sanction is lifted; a warning struck); rejected -> it stands.  With a reason.
* reads: ``mine`` and ``get`` for the therapist's own; ``of_therapist``, ``get`` and ``list`` (the appeal
  queue with ``appeal="pending"``) for ``sanctions.read`` holders (support, auditors, superadmins), audited
  when staff read a person's sanctions.  Another therapist's sanction looks exactly like a missing one.

Every change is audited (``sanctions.impose``, ``sanctions.appeal``, ``sanctions.decide_appeal``,
``sanctions.lift``) with the sanction id; the free texts stay out of the audit log (they are encrypted at rest
with the sanction).  The rewards side stays ``earnings.grant_bonus``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from attrs import frozen

from massage_core.domain.access import Actor, Permission, Role
from massage_core.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from massage_core.domain.ids import AccountId, account_id
from massage_core.domain.ledger import Book, LedgerAccount
from massage_core.domain.money import Money
from massage_core.domain.postings import penalty
from massage_core.domain.sanctions import (
    AppealState,
    Sanction,
    SanctionId,
    SanctionKind,
    deduction_reference,
    kind as sanction_kind,
    reversal_entry,
    sanction_id,
    suspension_note,
)
from massage_core.domain.time import Instant, utc
from massage_core.ports.sanctions import PAGE
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.base import Denied, Service, not_found, page_bounds
from massage_core.services.notify_people import notify_sanction


@frozen
class SanctionView:
    """A sanction as its reader may see it: the admins' ids only for staff (None for the therapist)."""

    id: str
    therapist_id: str
    kind: str
    reason: str
    imposed_at: Instant
    amount: Money | None
    ends_at: Instant | None
    state: str
    ended_at: Instant | None
    appeal_deadline: Instant
    appeal_state: str | None
    appeal_text: str | None
    appeal_filed_at: Instant | None
    decision_reason: str | None
    decided_at: Instant | None
    imposed_by: str | None
    decided_by: str | None

    @classmethod
    def of(cls, s: Sanction, window_days: int, *, staff: bool) -> SanctionView:
        a = s.appeal
        return cls(s.id, s.therapist_id, s.kind.value, s.reason, s.imposed_at, s.amount, s.ends_at, s.state.value,
                   s.ended_at, s.appeal_deadline(window_days), a.state.value if a else None, a.text if a else None,
                   a.filed_at if a else None, (a.decision_reason or None) if a else None,
                   a.decided_at if a else None, (s.imposed_by or "system") if staff else None,
                   (a.decided_by if a else None) if staff else None)


def _amount(value: Money | int | None) -> Money | None:
    if value is None or isinstance(value, Money):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Money(value)
    raise ValidationError("amount must be Money or integer fen", code="sanction.amount", field="amount")


def _ends_at(value: object, now: Instant) -> Instant | None:
    if value is None:
        return None
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise ValidationError("ends_at must be a timezone-aware datetime", code="time.naive", field="ends_at")
    ends = utc(value)
    if ends <= now:
        raise ValidationError("a suspension ends in the future", code="sanction.ends_at", field="ends_at")
    return ends


def _appeal_state(value: AppealState | str | None) -> AppealState | None:
    if value is None or isinstance(value, AppealState):
        return value
    try:
        return AppealState(value)
    except ValueError:
        raise ValidationError("appeal must be pending, upheld or rejected", code="appeal.state",
                              field="appeal") from None


class SanctionsService(Service):
    """``platform.sanctions``: see the module docstring."""

    @property
    def _window(self) -> int:
        return self._deps.policies.appeal_window_days

    def _view(self, sanction: Sanction, staff: bool) -> SanctionView:
        return SanctionView.of(sanction, self._window, staff=staff)

    @staticmethod
    def _therapist_account(uow: UnitOfWork, who: AccountId) -> None:
        try:
            roles = uow.accounts.get(who).roles
        except NotFound:
            roles = frozenset()
        if Role.THERAPIST not in roles:
            raise NotFound("therapist", who)

    # -- imposing ---------------------------------------------------------------------------------------

    def impose(self, actor: Actor, therapist: str, kind: str, reason: str, *, amount: Money | int | None = None,
               ends_at: dt.datetime | None = None) -> SanctionView:
        """Impose a ``deduction`` (``amount`` in fen or Money), ``warning`` or ``suspension`` (optional
        aware ``ends_at``) on ``therapist``, with a reason.  Audited.

        Raises PermissionDenied (audited) without ``sanctions.manage``; ValidationError ``invalid_id``,
        ``sanction.kind``, ``sanction.reason`` (1..500 characters), ``sanction.amount`` (a deduction needs
        1 fen .. ``Policies.adjustment_cap_fen``; nothing else has one), ``sanction.ends_at`` (only a
        suspension, in the future), ``time.naive``, ``sanction.exceeds_available`` (a deduction above the
        available balance); Conflict ``sanction.self``, ``therapist.already_suspended``; NotFound (no such
        therapist, or no profile to suspend).
        """
        target = account_id(therapist)
        self._require(actor, Permission.SANCTIONS_MANAGE, "sanctions.impose", target)
        now = self._now()
        money = _amount(amount)
        cap = self._deps.policies.adjustment_cap_fen
        if money is not None and money.fen > cap:
            raise ValidationError(f"a deduction is at most {Money(cap)} yuan", code="sanction.amount", field="amount")
        made = Sanction.impose(SanctionId(self._deps.ids.new_id("sanction")), target, sanction_kind(kind), reason,
                               actor.account_id, now, amount=money, ends_at=_ends_at(ends_at, now))
        with self._uow() as uow:
            self._therapist_account(uow, target)
            if made.kind is SanctionKind.DEDUCTION:
                assert made.amount is not None
                uow.withdrawals.lock_therapist(target)  # serialised with withdrawal requests (decision 0033)
                available = uow.ledger.balance(LedgerAccount.of(Book.THERAPIST_PAYABLE, target))
                if available < made.amount:
                    raise ValidationError(f"the available balance is {available} yuan",
                                          code="sanction.exceeds_available", field="amount")
                uow.ledger.post(penalty(deduction_reference(made.id), target, made.amount, now, f"sanction {made.id}"))
            elif made.kind is SanctionKind.SUSPENSION:
                profile = uow.therapists.get(target).suspend(suspension_note(made.id), now)
                uow.record(profile.events)
                uow.therapists.save(profile)
            saved = uow.sanctions.add(made)
            notify_sanction(uow, self._deps, saved, now)
            self._audit_ok(uow, actor, "sanctions.impose", saved.id, now, therapist=target, kind=saved.kind.value,
                           amount=str(saved.amount.fen) if saved.amount else "",
                           ends_at=saved.ends_at.isoformat() if saved.ends_at else "")
            uow.commit()
            return self._view(saved, True)

    # -- appeals ----------------------------------------------------------------------------------------

    def appeal(self, actor: Actor, sanction: str, text: str) -> SanctionView:
        """The sanctioned therapist appeals, once, within ``Policies.appeal_window_days``.  Audited.

        Raises PermissionDenied without ``own_sanctions.manage``; ValidationError ``invalid_id``,
        ``appeal.text`` (1..2000 characters), ``actor.no_account``; NotFound (missing, or another therapist's);
        Conflict ``appeal.once``, ``appeal.window_closed``, ``conflict.stale`` (a concurrent appeal won).
        """
        target = sanction_id(sanction)
        self._require(actor, Permission.OWN_SANCTIONS_MANAGE, "sanctions.appeal", target)
        if actor.account_id is None:
            raise ValidationError("the system has no account of its own", code="actor.no_account")
        me = actor.account_id
        now = self._now()
        with self._guard(actor, "sanctions.appeal", target), self._uow() as uow:
            current = uow.sanctions.get(target)
            if current.therapist_id != me:
                raise not_found("sanction", target)
            saved = uow.sanctions.save(current.file_appeal(me, text, now, self._window))
            self._audit_ok(uow, actor, "sanctions.appeal", target, now, therapist=me)
            uow.commit()
            return self._view(saved, False)

    def decide_appeal(self, actor: Actor, sanction: str, upheld: bool, reason: str) -> SanctionView:
        """Decide the pending appeal of ``sanction``: ``upheld`` True reverses the sanction (a deduction is paid
        back once, a suspension it made is lifted, a warning struck), False lets it stand.  With a reason;
        audited.

        Raises PermissionDenied (audited) without ``sanctions.manage``, ``appeal.same_admin`` (audited) for the
        admin who imposed it; ValidationError ``invalid_id``, ``sanction.reason``, ``appeal.upheld``,
        ``actor.no_account`` (an appeal is decided by a named admin); NotFound; InvalidTransition (no pending
        appeal); Conflict ``conflict.stale`` (a concurrent decision won).
        """
        target = sanction_id(sanction)
        self._require(actor, Permission.SANCTIONS_MANAGE, "sanctions.decide_appeal", target)
        if not isinstance(upheld, bool):
            raise ValidationError("upheld must be true or false", code="appeal.upheld", field="upheld")
        if actor.account_id is None:
            raise ValidationError("an appeal is decided by a named admin", code="actor.no_account")
        me = actor.account_id
        now = self._now()
        with self._guard(actor, "sanctions.decide_appeal", target), self._uow() as uow:
            current = uow.sanctions.get(target)
            try:
                decided = current.decide_appeal(upheld, me, reason, now)
            except PermissionDenied as refused:
                raise Denied(refused) from None
            saved = uow.sanctions.save(decided)
            notify_sanction(uow, self._deps, saved, now)
            if upheld:
                self._reverse(uow, saved, now)
            self._audit_ok(uow, actor, "sanctions.decide_appeal", target, now, therapist=saved.therapist_id,
                           outcome="upheld" if upheld else "rejected")
            uow.commit()
            return self._view(saved, True)

    def _reverse(self, uow: UnitOfWork, sanction: Sanction, now: Instant) -> None:
        if sanction.kind is SanctionKind.DEDUCTION:
            uow.ledger.post(reversal_entry(sanction, now))
        elif sanction.kind is SanctionKind.SUSPENSION:
            self._lift_profile(uow, sanction, now)

    @staticmethod
    def _lift_profile(uow: UnitOfWork, sanction: Sanction, now: Instant) -> None:
        """Reinstate the therapist when (and only when) the profile is still suspended by this sanction."""
        profile = uow.therapists.find(sanction.therapist_id)
        if profile is not None and profile.suspended and profile.suspended_reason == suspension_note(sanction.id):
            lifted = profile.reinstate(now)
            uow.record(lifted.events)
            uow.therapists.save(lifted)

    # -- the timer ----------------------------------------------------------------------------------------

    def lift_expired(self, actor: Actor, *, limit: int = 500) -> int:
        """End the suspensions whose end date has come (the jobs rule; ``jobs.run``): each in its own unit of
        work, the profile reinstated when this sanction still suspends it; audited.  Returns how many ended
        (one ended concurrently by another run is skipped).  Raises PermissionDenied, ValidationError
        ``page.limit``."""
        self._require(actor, Permission.JOBS_RUN, "sanctions.lift_expired", "sanctions")
        page_bounds(0, limit, 10_000)
        now = self._now()
        with self._uow() as uow:
            due = [s.id for s in uow.sanctions.due_to_end(now, limit=limit)]
        ended = 0
        for ident in due:
            try:
                with self._uow() as uow:
                    current = uow.sanctions.get(ident)
                    if not current.is_due_to_end(now):
                        continue
                    saved = uow.sanctions.save(current.end(now))
                    self._lift_profile(uow, saved, now)
                    self._audit_ok(uow, actor, "sanctions.lift", ident, now, therapist=saved.therapist_id)
                    uow.commit()
                    ended += 1
            except Conflict as clash:
                if clash.code not in ("conflict.stale", "conflict.busy"):
                    raise
        return ended

    # -- reads --------------------------------------------------------------------------------------------

    def mine(self, actor: Actor, *, offset: int = 0, limit: int = PAGE) -> Sequence[SanctionView]:
        """The acting therapist's sanctions and appeal outcomes, newest first.  Raises PermissionDenied,
        ValidationError ``actor.no_account``, ``page.*``."""
        page_bounds(offset, limit)
        self._require(actor, Permission.OWN_SANCTIONS_MANAGE, "sanctions.mine", actor.label)
        if actor.account_id is None:
            raise ValidationError("the system has no account of its own", code="actor.no_account")
        with self._uow() as uow:
            found = uow.sanctions.for_therapist(AccountId(actor.account_id), offset=offset, limit=limit)
            return [self._view(s, False) for s in found]

    def of_therapist(self, actor: Actor, therapist: str, *, offset: int = 0,
                     limit: int = PAGE) -> Sequence[SanctionView]:
        """``therapist``'s sanctions, newest first: staff with ``sanctions.read`` (an audited read), or the
        therapist themselves; another therapist's look like a missing therapist (NotFound).  Raises
        PermissionDenied, ValidationError ``invalid_id``, ``page.*``."""
        target = account_id(therapist)
        page_bounds(offset, limit)
        with self._guard(actor, "sanctions.of_therapist", target):
            staff = self._reader(actor, target, "sanctions.of_therapist")
            with self._uow() as uow:
                found = [self._view(s, staff) for s in uow.sanctions.for_therapist(target, offset=offset,
                                                                                   limit=limit)]
                if staff and not actor.is_system:
                    self._audit_ok(uow, actor, "sanctions.of_therapist", target, self._now())
                    uow.commit()
                return found

    def get(self, actor: Actor, sanction: str) -> SanctionView:
        """One sanction: for staff with ``sanctions.read`` or its therapist; NotFound for anybody else."""
        target = sanction_id(sanction)
        staff = actor.may(Permission.SANCTIONS_READ)
        if not staff:
            self._require(actor, Permission.OWN_SANCTIONS_MANAGE, "sanctions.get", target)
        with self._guard(actor, "sanctions.get", target), self._uow() as uow:
            if staff:
                return self._view(uow.sanctions.get(target), True)
            try:
                found: Sanction | None = uow.sanctions.get(target)
            except NotFound:
                found = None
            if found is None or not actor.owns(found.therapist_id):
                raise not_found("sanction", target)
            return self._view(found, False)

    def list(self, actor: Actor, *, appeal: AppealState | str | None = None, offset: int = 0,
             limit: int = PAGE) -> Sequence[SanctionView]:
        """Every sanction, newest first; ``appeal="pending"``: the appeal queue, oldest appeal first.  Raises
        PermissionDenied without ``sanctions.read``, ValidationError ``appeal.state``, ``page.*``."""
        wanted = _appeal_state(appeal)
        page_bounds(offset, limit)
        self._require(actor, Permission.SANCTIONS_READ, "sanctions.list", "sanctions")
        with self._uow() as uow:
            return [self._view(s, True) for s in uow.sanctions.list(appeal=wanted, offset=offset, limit=limit)]

    def _reader(self, actor: Actor, target: AccountId, action: str) -> bool:
        """True for staff (``sanctions.read``), False for the therapist themselves; else a denial."""
        if actor.may(Permission.SANCTIONS_READ):
            return True
        self._require(actor, Permission.OWN_SANCTIONS_MANAGE, action, target)
        if not actor.owns(target):
            raise not_found("therapist", target)
        return False
