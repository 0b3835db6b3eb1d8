"""The complaints context (``platform.complaints``; C10, T9, A1): a customer's complaint about an order, the
therapist's answer, the platform's mediation and its outcome (decision 0038).

* ``file``: the customer (``orders.place``) of an order that a therapist accepted (accepted .. completed,
  disputed, cancelled, no_show, refunded) complains: category, description, evidence references.  One live
  complaint per order (Conflict ``complaint.already_open``).  The therapist has
  ``Policies.complaint_answer_hours`` to ``respond`` (once); then ``jobs.run_due`` moves it to mediation
  (``escalate_overdue``).
* ``take`` / ``resolve``: a named mediator (``complaints.mediate``: support, superadmin) takes it and resolves it
  with an outcome.  ``partial_refund`` / ``full_refund`` go through the order's own refund path: a finished order
  is first completed by the system (the visit was served: what the refund leaves is split and settles), then a
  completed order is disputed on the customer's behalf (the complaint is their contest) and refunded by the
  mediator (the note is checked before the gateway is called) -- the gateway refund number is
  ``<order>-r<position>``, the ledger takes back exactly what the completion credited (``order_money``), and the
  settlement timer sees it.  ``penalty`` posts ``postings.penalty`` under ``penalty:<complaint id>`` (memo
  ``complaint <id>``: the note stays out of the ledger) against the therapist's available balance.
* ``withdraw``: the customer, before the resolution.
* Every step is audited; the customer and the therapist read their complaints (``get``, ``mine``,
  ``about_me``), mediators every one (``list``; a mediator's ``get`` of a complaint they are no party to is
  audited); anybody else's looks missing (NotFound).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from massage_core.domain.access import Actor, Permission
from massage_core.domain.complaints import (
    Complaint,
    ComplaintAction,
    ComplaintCategory,
    ComplaintId,
    ComplaintParty,
    ComplaintState,
    Outcome,
    complaint_id,
    next_state,
    resolution_note,
)
from massage_core.domain.errors import Conflict, ValidationError
from massage_core.domain.ids import AccountId
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderAction, OrderState, order_id
from massage_core.domain.orders import Order
from massage_core.domain.time import Instant
from massage_core.ports.complaints import PAGE
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.base import not_found, page_bounds
from massage_core.services.complaint_views import ComplaintPage, ComplaintView, Escalated
from massage_core.services.complaint_outcomes import ComplaintOutcomes, money_or_fen
from massage_core.services.notify_people import notify_complaint

FILABLE = frozenset({OrderState.ACCEPTED, OrderState.DEPARTED, OrderState.ARRIVED, OrderState.IN_SERVICE,
                     OrderState.FINISHED, OrderState.COMPLETED, OrderState.DISPUTED, OrderState.CANCELLED,
                     OrderState.NO_SHOW, OrderState.REFUNDED})
"""Order states a complaint may be filed in (the order must also have been accepted by its therapist)."""

_Change = Callable[[UnitOfWork, Complaint, Instant], Complaint]
"""One change of a freshly loaded complaint, inside the unit of work."""


def _outcome(value: Outcome | str) -> Outcome:
    try:
        return Outcome(value)
    except ValueError:
        raise ValidationError(f"unknown outcome {str(value)[:20]!r}", code="complaint.outcome",
                              field="outcome") from None


def _state(value: ComplaintState | str | None) -> ComplaintState | None:
    if value is None:
        return None
    try:
        return ComplaintState(value)
    except ValueError:
        raise ValidationError(f"unknown complaint state {str(value)[:20]!r}", code="complaint.state",
                              field="state") from None


def _accepted(order: Order) -> bool:
    return order.therapist_id is not None and any(s.action is OrderAction.ACCEPT for s in order.timeline)


class ComplaintsService(ComplaintOutcomes):
    """``platform.complaints``: see the module docstring."""

    # -- who -------------------------------------------------------------------------------------------

    def _named(self, actor: Actor) -> AccountId:
        if actor.account_id is None:
            raise ValidationError("a named account must act here, not the system", code="actor.no_account")
        return actor.account_id

    def _visible(self, actor: Actor, complaint: Complaint) -> ComplaintView:
        """The complaint as ``actor`` may see it; a ``Denied`` NotFound when it is not theirs."""
        if actor.may(Permission.COMPLAINTS_MEDIATE):
            return ComplaintView.of(complaint, staff=True)
        me = actor.account_id
        if me is not None and ((me == complaint.customer_id and actor.may(Permission.ORDERS_PLACE))
                               or (me == complaint.therapist_id and actor.may(Permission.ORDERS_SERVE))):
            return ComplaintView.of(complaint, staff=False)
        raise not_found("complaint", complaint.id)

    def _readers(self, actor: Actor, action: str, target: str) -> None:
        if not any(actor.may(p) for p in (Permission.ORDERS_PLACE, Permission.ORDERS_SERVE,
                                          Permission.COMPLAINTS_MEDIATE)):
            self._require(actor, Permission.COMPLAINTS_MEDIATE, action, target)

    # -- the customer ----------------------------------------------------------------------------------

    def file(self, actor: Actor, order: str, category: ComplaintCategory | str, description: str,
             evidence: Iterable[str] | None = None) -> ComplaintView:
        """The customer complains about their order; the therapist's answer is due
        ``Policies.complaint_answer_hours`` from now.  Audited.

        Errors: PermissionDenied (not a customer), ValidationError ``actor.no_account`` (the system),
        ``invalid_id``, ``complaint.category``, ``complaint.description`` (1..2000 characters),
        ``complaint.evidence`` (at most 10 references, see ``domain.complaints.evidence_refs``), NotFound
        (missing or somebody else's order), Conflict ``complaint.order_state`` (never accepted by a therapist, or
        pending payment) or ``complaint.already_open`` (the order has a live complaint).
        """
        oid = order_id(order)
        self._require(actor, Permission.ORDERS_PLACE, "complaints.file", oid)
        me = self._named(actor)
        now = self._now()
        due = now + dt.timedelta(hours=self._deps.policies.complaint_answer_hours)
        ident = ComplaintId(self._deps.ids.new_id("complaint"))
        with self._guard(actor, "complaints.file", oid), self._uow() as uow:
            found = uow.orders.get(oid)
            if found.customer_id != me:
                raise not_found("order", oid)
            if found.state not in FILABLE or not _accepted(found) or found.therapist_id is None:
                raise Conflict(f"no complaint can be filed about an order in state {found.state.value} "
                               "that no therapist accepted", code="complaint.order_state")
            made = Complaint.file(ident, oid, me, AccountId(found.therapist_id), category, description, evidence,
                                  now, due)
            saved = uow.complaints.add(made)
            notify_complaint(uow, self._deps, saved, now)
            self._audit_ok(uow, actor, "complaints.file", saved.id, now, order=oid, category=saved.category.value)
            uow.commit()
        return ComplaintView.of(saved, staff=False)

    def withdraw(self, actor: Actor, complaint: str, note: str = "") -> ComplaintView:
        """The customer withdraws their complaint before it is resolved (an optional note).  Audited.

        Errors: PermissionDenied (not a customer), ValidationError ``invalid_id`` / ``complaint.note``, NotFound
        (missing or somebody else's), InvalidTransition (resolved or withdrawn already), Conflict
        ``conflict.stale``.
        """
        target = complaint_id(complaint)
        self._require(actor, Permission.ORDERS_PLACE, "complaints.withdraw", target)
        me = self._named(actor)
        return self._change(actor, "withdraw", target, lambda uow, c, now: self._own(c, me, customer=True)
                            .withdraw(me, now, note))

    # -- the therapist ---------------------------------------------------------------------------------

    def respond(self, actor: Actor, complaint: str, answer: str) -> ComplaintView:
        """The therapist complained about answers, once, before the deadline.  Audited.

        Errors: PermissionDenied (not a therapist), ValidationError ``invalid_id`` / ``complaint.answer``,
        NotFound (missing or about somebody else), InvalidTransition (not open or under mediation), Conflict
        ``complaint.already_answered``, ``complaint.answer_late``, ``conflict.stale``.
        """
        target = complaint_id(complaint)
        self._require(actor, Permission.ORDERS_SERVE, "complaints.respond", target)
        me = self._named(actor)
        return self._change(actor, "respond", target, lambda uow, c, now: self._own(c, me, customer=False)
                            .respond(me, now, answer))

    @staticmethod
    def _own(complaint: Complaint, me: AccountId, *, customer: bool) -> Complaint:
        if (complaint.customer_id if customer else complaint.therapist_id) != me:
            raise not_found("complaint", complaint.id)
        return complaint

    # -- mediation -------------------------------------------------------------------------------------

    def take(self, actor: Actor, complaint: str, note: str = "") -> ComplaintView:
        """A named mediator (``complaints.mediate``) takes an open or answered complaint into mediation.
        Audited.  Errors: PermissionDenied, ValidationError ``actor.no_account`` / ``invalid_id`` /
        ``complaint.note``, NotFound, InvalidTransition, Conflict ``conflict.stale``."""
        target = complaint_id(complaint)
        self._require(actor, Permission.COMPLAINTS_MEDIATE, "complaints.take", target)
        me = self._named(actor)
        return self._change(actor, "take", target, lambda uow, c, now: c.take(me, now, note))

    def resolve(self, actor: Actor, complaint: str, outcome: Outcome | str, note: str,
                amount: Money | int | None = None) -> ComplaintView:
        """A named mediator resolves a complaint under mediation (an answered one is taken first) with an
        ``outcome`` and a note.  Audited, with the money it moved.

        ``partial_refund``: ``amount`` (fen or Money) of 1 fen up to what the order still retains;
        ``full_refund``: all of that (``amount`` omitted or equal) -- both through the order's refund path (see
        the module docstring; the gateway call happens before the commit and is keyed by the refund number, so
        a retry moves the money once).  ``penalty``: ``amount`` of 1 fen .. ``Policies.adjustment_cap_fen``, at
        most the therapist's available balance, posted once under ``penalty:<complaint id>``.  ``no_action`` and
        ``warning`` take no amount.  Of two concurrent resolutions exactly one is stored and moves money.

        Errors: PermissionDenied, ValidationError ``actor.no_account`` / ``invalid_id`` / ``complaint.outcome`` /
        ``complaint.note`` / ``complaint.amount`` / ``complaint.exceeds_available``, NotFound, InvalidTransition
        (open before the deadline: take it first; resolved or withdrawn), Conflict ``complaint.nothing_to_refund``
        / ``conflict.stale``, the gateway's PaymentError (nothing stored).
        """
        target = complaint_id(complaint)
        self._require(actor, Permission.COMPLAINTS_MEDIATE, "complaints.resolve", target)
        me = self._named(actor)
        decided = _outcome(outcome)
        wanted = money_or_fen(amount)
        note = resolution_note(note)  # before any money moves: the gateway's refund is not rolled back
        details: dict[str, str] = {}

        def change(uow: UnitOfWork, current: Complaint, now: Instant) -> Complaint:
            if current.state is ComplaintState.THERAPIST_RESPONDED:
                current = current.take(me, now)
            next_state(current.state, ComplaintAction.RESOLVE, ComplaintParty.ADMIN)  # refused before any money
            if decided.refunds:
                moved = self._refund_outcome(uow, current, decided, wanted, me, now, details)
            elif decided is Outcome.PENALTY:
                moved = self._penalty_outcome(uow, actor, current, wanted, now)
                details["penalty"] = f"penalty:{current.id}"
            else:
                moved = wanted if wanted is not None else Money.zero()
            details.update(outcome=decided.value, amount=str(moved.fen))
            return current.resolve(me, now, decided, moved, note)

        return self._change(actor, "resolve", target, change, details)

    def _change(self, actor: Actor, action: str, target: ComplaintId, change: _Change,
                details: dict[str, str] | None = None) -> ComplaintView:
        now = self._now()
        with self._guard(actor, f"complaints.{action}", target), self._uow() as uow:
            current = uow.complaints.get_for_update(target)
            saved = uow.complaints.save(change(uow, current, now))
            notify_complaint(uow, self._deps, saved, now)
            self._audit_ok(uow, actor, f"complaints.{action}", target, now, state=saved.state.value,
                           **(details or {}))
            uow.commit()
        return self._visible(actor, saved)

    def escalate_overdue(self, actor: Actor, *, limit: int = 500) -> Escalated:
        """Move every open complaint whose answer deadline passed to mediation (the system's ``escalate``), each
        in its own unit of work, audited; ``jobs.run_due`` calls it.  ``jobs.run`` (system, superadmin) only.
        Errors: PermissionDenied, ValidationError ``jobs.limit`` (not 1..10000)."""
        self._require(actor, Permission.JOBS_RUN, "complaints.escalate_overdue", "complaints")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10_000:
            raise ValidationError("limit must be 1..10000", code="jobs.limit", field="limit")
        now = self._now()
        with self._uow() as uow:
            due = list(uow.complaints.overdue(now, limit=limit))
        fired: list[ComplaintId] = []
        for ident in due:
            try:
                with self._uow() as uow:
                    current = uow.complaints.get_for_update(ident)
                    if current.state is not ComplaintState.OPEN or now < current.answer_due:
                        continue
                    notify_complaint(uow, self._deps, uow.complaints.save(current.escalate(now)), now)
                    self._audit_ok(uow, Actor.system(), "complaints.escalate", ident, now,
                                   state=ComplaintState.UNDER_MEDIATION.value)
                    uow.commit()
            except Conflict as clash:
                if clash.code not in ("conflict.stale", "conflict.busy"):
                    raise
                continue
            fired.append(ident)
        return Escalated(tuple(fired), len(due) - len(fired))

    # -- reading ---------------------------------------------------------------------------------------

    def get(self, actor: Actor, complaint: str) -> ComplaintView:
        """One complaint with its timeline: its customer, its therapist, mediators (audited when the mediator is
        not a party).  Errors: PermissionDenied (no such role), ValidationError ``invalid_id``, NotFound
        (missing or somebody else's)."""
        target = complaint_id(complaint)
        self._readers(actor, "complaints.get", target)
        with self._guard(actor, "complaints.get", target), self._uow() as uow:
            found = uow.complaints.get(target)
            seen = self._visible(actor, found)
            if (actor.may(Permission.COMPLAINTS_MEDIATE) and not actor.is_system
                    and not any(actor.owns(party) for party in (found.customer_id, found.therapist_id))):
                self._audit_ok(uow, actor, "complaints.get", target, self._now())
                uow.commit()
            return seen

    def mine(self, actor: Actor, *, offset: int = 0, limit: int = PAGE) -> ComplaintPage:
        """The acting customer's complaints, newest first.  Errors: PermissionDenied, ValidationError
        ``actor.no_account``, ``page.offset``, ``page.limit``."""
        self._require(actor, Permission.ORDERS_PLACE, "complaints.mine", actor.label)
        me = self._named(actor)
        offset, limit = page_bounds(offset, limit)
        with self._uow() as uow:
            found = uow.complaints.for_customer(me, offset=offset, limit=limit)
        return ComplaintPage(tuple(ComplaintView.of(c, staff=False) for c in found), offset, limit)

    def about_me(self, actor: Actor, *, offset: int = 0, limit: int = PAGE) -> ComplaintPage:
        """Complaints about the acting therapist, newest first.  Errors: PermissionDenied, ValidationError
        ``actor.no_account``, ``page.offset``, ``page.limit``."""
        self._require(actor, Permission.ORDERS_SERVE, "complaints.about_me", actor.label)
        me = self._named(actor)
        offset, limit = page_bounds(offset, limit)
        with self._uow() as uow:
            found = uow.complaints.for_therapist(me, offset=offset, limit=limit)
        return ComplaintPage(tuple(ComplaintView.of(c, staff=False) for c in found), offset, limit)

    def list(self, actor: Actor, state: ComplaintState | str | None = None, *, offset: int = 0,
             limit: int = PAGE) -> ComplaintPage:
        """Every complaint (in ``state`` when given), oldest filing first: the mediation queue
        (``complaints.mediate``).  Errors: PermissionDenied, ValidationError ``complaint.state``,
        ``page.offset``, ``page.limit``."""
        self._require(actor, Permission.COMPLAINTS_MEDIATE, "complaints.list", "complaints")
        wanted = _state(state)
        offset, limit = page_bounds(offset, limit)
        with self._uow() as uow:
            found = uow.complaints.list(wanted, offset=offset, limit=limit)
        return ComplaintPage(tuple(ComplaintView.of(c, staff=True) for c in found), offset, limit)

