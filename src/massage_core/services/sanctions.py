"""The sanctions context (``platform.sanctions``, issue 6 A2; decision 0039): penalties against therapists and
the one appeal each may get.

* ``impose`` (``sanctions.manage``: support, superadmins, the system; an optional ``request_id`` makes a
  retry return the first sanction, decision 0039): a deduction (posted at once through the
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
  when staff read a person's sanctions or one sanction.  Another therapist's sanction looks exactly like a missing one.

Every change is audited (``sanctions.impose``, ``sanctions.appeal``, ``sanctions.decide_appeal``,
``sanctions.lift``) with the sanction id; the free texts stay out of the audit log (they are encrypted at rest
with the sanction).  The rewards side stays ``earnings.grant_bonus``.
"""

from __future__ import annotations

import datetime as dt
from massage_core.domain import idempotency
from massage_core.domain.access import Actor, Permission, Role
from massage_core.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from massage_core.domain.ids import AccountId, account_id
from massage_core.domain.ledger import Book, LedgerAccount
from massage_core.domain.money import Money
from massage_core.domain.postings import penalty
from massage_core.domain.sanctions import (
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
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.base import Denied, not_found, page_bounds
from massage_core.services.deductions import exceeds_available
from massage_core.services.notify_people import notify_sanction
from massage_core.services.sanction_reads import SanctionReads, SanctionView


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


def _replayed(uow: UnitOfWork, made: Sanction, request: str) -> Sanction | None:
    """The sanction the request ``request`` imposed before under ``made.id``: None when none, the stored one
    when ``made`` asks for the same (therapist, kind, reason, amount, end); Conflict ``request.reused`` else."""
    try:
        stored = uow.sanctions.get(made.id)
    except NotFound:
        return None
    asked = (made.therapist_id, made.kind, made.reason, made.amount, made.ends_at, made.imposed_by)
    if (stored.therapist_id, stored.kind, stored.reason, stored.amount, stored.ends_at, stored.imposed_by) != asked:
        raise idempotency.reused(request)
    return stored


class SanctionsService(SanctionReads):
    """``platform.sanctions``: see the module docstring."""

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
               ends_at: dt.datetime | None = None, request_id: str | None = None) -> SanctionView:
        """Impose a ``deduction`` (``amount`` in fen or Money), ``warning`` or ``suspension`` (optional
        aware ``ends_at``) on ``therapist``, with a reason.  Audited.  With a ``request_id`` the sanction id
        derives from (actor, request id): the same request again returns the first sanction and changes nothing.

        Raises PermissionDenied (audited) without ``sanctions.manage``; ValidationError ``invalid_id``,
        ``sanction.kind``, ``sanction.reason`` (1..500 characters), ``sanction.amount`` (a deduction needs
        1 fen .. ``Policies.adjustment_cap_fen``; nothing else has one), ``sanction.ends_at`` (only a
        suspension, in the future), ``time.naive``, ``request.id``, ``sanction.exceeds_available`` (a deduction
        above the available balance; the message names it to ``ledger.read`` holders only); Conflict
        ``sanction.self``, ``therapist.already_suspended``, ``request.reused`` (the request id was used for
        another sanction); NotFound (no such therapist, or no profile to suspend).
        """
        target = account_id(therapist)
        self._require(actor, Permission.SANCTIONS_MANAGE, "sanctions.impose", target)
        now = self._now()
        money = _amount(amount)
        cap = self._deps.policies.adjustment_cap_fen
        if money is not None and money.fen > cap:
            raise ValidationError(f"a deduction is at most {Money(cap)} yuan", code="sanction.amount", field="amount")
        request = None if request_id is None else idempotency.request_id(request_id)
        ident = (self._deps.ids.new_id("sanction") if request is None
                 else idempotency.derived_id("sanction", actor.label, request))
        made = Sanction.impose(SanctionId(ident), target, sanction_kind(kind), reason, actor.account_id, now,
                               amount=money, ends_at=_ends_at(ends_at, now))
        try:
            return self._impose(actor, made, request, now)
        except Conflict as clash:
            if request is None or clash.code == idempotency.REUSED:
                raise
            with self._uow() as uow:  # a concurrent twin may have won: then answer as a replay
                first = _replayed(uow, made, request)
            if first is None:
                raise
            return self._view(first, True)

    def _impose(self, actor: Actor, made: Sanction, request: str | None, now: Instant) -> SanctionView:
        target = made.therapist_id
        with self._uow() as uow:
            self._therapist_account(uow, target)
            if made.kind is SanctionKind.DEDUCTION:
                uow.withdrawals.lock_therapist(target)  # serialised with withdrawal requests (decision 0033)
            first = None if request is None else _replayed(uow, made, request)
            if first is not None:
                return self._view(first, True)
            if made.kind is SanctionKind.DEDUCTION:
                assert made.amount is not None
                available = uow.ledger.balance(LedgerAccount.of(Book.THERAPIST_PAYABLE, target))
                if available < made.amount:
                    raise exceeds_available(actor, available, "sanction.exceeds_available")
                uow.ledger.post(penalty(deduction_reference(made.id), target, made.amount, now, f"sanction {made.id}"))
            elif made.kind is SanctionKind.SUSPENSION:
                profile = uow.therapists.get(target).suspend(suspension_note(made.id), now)
                uow.record(profile.events)
                uow.therapists.save(profile)
            saved = uow.sanctions.add(made)
            notify_sanction(uow, self._deps, saved, now)
            self._audit_ok(uow, actor, "sanctions.impose", saved.id, now, therapist=target, kind=saved.kind.value,
                           amount=str(saved.amount.fen) if saved.amount else "",
                           ends_at=saved.ends_at.isoformat() if saved.ends_at else "",
                           **({"request": request} if request is not None else {}))
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
