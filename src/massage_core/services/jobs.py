"""Timers (P1): ``platform.jobs.run_due`` fires what is due by the Clock (decision 0021).

One run goes through these rules, each order (or complaint) in its own unit of work:

* ``expire_payment``: unpaid orders older than ``Policies.payment_window_minutes`` are closed at the gateway,
  then expired by the system; the therapist's hold is released and a coupon redemption restored.  When the
  gateway says the payment went through meanwhile (``payment.already_paid``), the order is left alone for the
  payment callback, which is on its way (counted as skipped).  Its look-ahead tells the customer of each unpaid
  order whose window closes within ``payment_expiry_notice_minutes`` (once; counted nowhere; decision 0043).
* ``acceptance_timeout``: paid offers nobody accepted (or grabbed) within ``acceptance_timeout_minutes`` are
  withdrawn by the system, and dispatch goes on exactly as after a therapist's rejection
  (``OrderDispatch._redispatch_or_cancel``): the next best match, another broadcast round, or -- nobody left,
  a chosen therapist, or ``max_offers`` reached -- cancel and refund in full.
* ``auto_complete``: finished visits older than ``auto_complete_hours`` are completed by the system.
* ``expired_badges``: ``therapists.suspend_expired_badges`` with the same actor.
* ``reminders``: accepted orders whose start is within one of ``reminder_leads_minutes`` get a ``remind`` step
  (an SOS-like step that keeps the state) and an ``OrderReminded`` event, once per lead time; the timeline is
  the record, so a rerun emits nothing.  Every order rule writes its notifications in the order's own unit of
  work (``_one`` -> ``_notify``; decision 0043): the reminder goes to the customer and the therapist.
* ``settle``: orders that left money pending for their therapist -- completed ones, and cancelled / no-show
  ones whose cancellation entry compensated the therapist (whether refunded since or not) -- get it moved to
  payable (``postings.settled``) ``Policies.settlement_days`` (T+N) after they entered their state (the
  completion, the cancellation, or the refund that ended a partly refunded dispute); the amounts are read from
  the stored completion and cancellation entries less what refunds took back; keyed ``order:<id>:settled``,
  so once (decision 0032).
* ``complaint_deadlines``: open complaints whose therapist did not answer by the deadline
  (``Policies.complaint_answer_hours``) move to mediation (``complaints.escalate_overdue``; decision 0038).
* ``lift_suspensions``: sanctions' suspensions whose end date has come end, and the therapist is reinstated
  (``sanctions.lift_expired``; decision 0039).
* ``ratings``: therapists whose reviews became visible because their review window closed get their search
  rating refreshed (``reviews.release_due``; decision 0037).
* ``chat_numbers``: virtual numbers of orders whose chat closed, and expired ones, are released
  (``chat.release_ended``; decision 0045) -- when the platform wired a ``VirtualNumbers`` provider.

Safe to run twice at once: each order is re-read and re-checked in its own unit of work, and the order's
version check lets one of two concurrent saves win; the loser (Conflict ``conflict.stale``), an order no
longer due, and a gateway refusal (PaymentError: nothing stored, the next run retries) count as skipped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from attrs import frozen

from massage_core.domain.access import Actor, Permission
from massage_core.domain.errors import Conflict, MassageError, PaymentError, ValidationError
from massage_core.domain.ids import AccountId
from massage_core.domain.ledger import Book, JournalEntry, LedgerAccount, Side
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderAction, OrderId, OrderState, Who
from massage_core.domain.orders import Order
from massage_core.domain.postings import settled
from massage_core.domain.time import Instant
from massage_core.ports.ledger import KEY_REUSED
from massage_core.ports.orders import entered_state_at
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.base import Dependencies
from massage_core.services.ledger import completion_key
from massage_core.services.order_dispatch import OrderDispatch
from massage_core.services.order_money import post_new_steps
from massage_core.services.notify_orders import warn_expiring_payments
from massage_core.services.therapists import TherapistsService
from massage_core.services.sanctions import SanctionsService
from massage_core.services.complaints import ComplaintsService
from massage_core.services.reviews import ReviewsService
from massage_core.services.chat import ChatService
from massage_core.ports.virtual_numbers import VirtualNumbers

Fire = Callable[[UnitOfWork, Order, Instant], Order | None]
"""One rule on one freshly loaded order: the changed order, or None when it is not to fire after all."""

PAGE = 200


@frozen
class RuleCount:
    """What one rule did in a run: ``fired`` changes, and ``skipped`` orders found due that another run (or
    the payment callback) handled first, or whose gateway call failed (retried by the next run)."""

    fired: int = 0
    skipped: int = 0


@frozen
class DueReport:
    """The counts of one ``run_due``, per rule, and the time the run used."""

    at: Instant
    expire_payment: RuleCount
    acceptance_timeout: RuleCount
    auto_complete: RuleCount
    expired_badges: RuleCount
    reminders: RuleCount
    settle: RuleCount = RuleCount()
    complaint_deadlines: RuleCount = RuleCount()
    lift_suspensions: RuleCount = RuleCount()
    ratings: RuleCount = RuleCount()
    chat_numbers: RuleCount = RuleCount()

    def rules(self) -> dict[str, RuleCount]:
        """Rule name -> counts, in the order the run applies them."""
        return {"expire_payment": self.expire_payment, "acceptance_timeout": self.acceptance_timeout,
                "auto_complete": self.auto_complete, "expired_badges": self.expired_badges,
                "reminders": self.reminders, "settle": self.settle,
                "complaint_deadlines": self.complaint_deadlines, "lift_suspensions": self.lift_suspensions,
                "ratings": self.ratings, "chat_numbers": self.chat_numbers}

    @property
    def fired(self) -> int:
        return sum(count.fired for count in self.rules().values())


class JobsService(OrderDispatch):
    """``platform.jobs``: see the module docstring."""

    def __init__(self, deps: Dependencies, numbers: VirtualNumbers | None = None) -> None:
        super().__init__(deps)
        self._therapists = TherapistsService(deps)
        self._complaints = ComplaintsService(deps)
        self._sanctions = SanctionsService(deps)
        self._reviews = ReviewsService(deps)
        self._chat = ChatService(deps, numbers) if numbers is not None else None

    def run_due(self, actor: Actor, *, limit_per_rule: int = 500) -> DueReport:
        """Fire every due timer once (the system actor from cron, or a superadmin: ``jobs.run``).

        At most ``limit_per_rule`` orders per rule (the oldest first; the next run takes the rest).  Returns a
        ``DueReport``.  Raises PermissionDenied (audited) and ValidationError ``jobs.limit`` (not 1..10000).
        A run by an admin is audited with its counts.
        """
        self._require(actor, Permission.JOBS_RUN, "jobs.run_due", "jobs")
        if isinstance(limit_per_rule, bool) or not isinstance(limit_per_rule, int) or not 1 <= limit_per_rule <= 10_000:
            raise ValidationError("limit_per_rule must be 1..10000", code="jobs.limit", field="limit_per_rule")
        now = self._now()
        policies = self._deps.policies
        limit = limit_per_rule
        expired = self._each(OrderState.PENDING_PAYMENT, now - dt.timedelta(minutes=policies.payment_window_minutes),
                             now, limit, self._expire)
        with self._uow() as uow:  # the expiry rule's look-ahead (decision 0043); counted nowhere
            warn_expiring_payments(uow, self._deps, now, limit)
            uow.commit()
        timed_out = self._each(OrderState.AWAITING_ACCEPTANCE,
                               now - dt.timedelta(minutes=policies.acceptance_timeout_minutes), now, limit,
                               self._time_out)
        completed = self._each(OrderState.FINISHED, now - dt.timedelta(hours=policies.auto_complete_hours), now, limit,
                               lambda uow, order, at: order.complete(Who.system(), at))
        badges = RuleCount(fired=len(self._therapists.suspend_expired_badges(actor)))
        reminders = self._reminders(now, limit)
        settled = self._settle(now - dt.timedelta(days=policies.settlement_days), now, limit)
        escalated = self._complaints.escalate_overdue(actor, limit=limit)
        report = DueReport(now, expired, timed_out, completed, badges, reminders, settled,
                           RuleCount(len(escalated.fired), escalated.skipped),
                           RuleCount(fired=self._sanctions.lift_expired(actor, limit=limit)),
                           RuleCount(fired=self._reviews.release_due(actor, limit=limit)),
                           RuleCount(fired=self._chat.release_ended(actor, limit=limit)) if self._chat else RuleCount())
        if not actor.is_system:
            with self._uow() as uow:
                self._audit_ok(uow, actor, "jobs.run_due", "jobs", now,
                               **{name: f"{c.fired}/{c.skipped}" for name, c in report.rules().items()})
                uow.commit()
        return report

    # -- one rule, one order at a time ---------------------------------------------------------------

    def _each(self, state: OrderState, cutoff: Instant, now: Instant, limit: int, fire: Fire) -> RuleCount:
        with self._uow() as uow:
            due = [order.id for order in uow.orders.due(state, cutoff, limit=limit)]

        def still_due(order: Order) -> bool:
            return order.state is state and entered_state_at(order) < cutoff

        fired = sum(self._one(oid, now, still_due, fire) for oid in due)
        return RuleCount(fired, len(due) - fired)

    def _one(self, oid: OrderId, now: Instant, still_due: Callable[[Order], bool], fire: Fire) -> bool:
        """Re-read the order, re-check it, fire, keep the therapist's time in line, save, commit: True when it
        fired; False when it was no longer due or another run saved first."""
        try:
            with self._uow() as uow:
                order = uow.orders.get(oid)
                if not still_due(order):
                    return False
                changed = fire(uow, order, now)
                if changed is None:
                    return False
                self._follow_time(uow, order, changed, now)
                post_new_steps(uow, order, changed, self._deps.policies.commission)
                self._notify(uow, order, changed, now)
                uow.record(changed.events)
                uow.orders.save(changed)
                uow.commit()
        except Conflict as clash:
            if clash.code != "conflict.stale":
                raise
            return False
        except PaymentError:
            return False  # the gateway refused a refund: nothing stored, the next run retries
        return True

    # -- the rules -----------------------------------------------------------------------------------

    def _expire(self, uow: UnitOfWork, order: Order, now: Instant) -> Order | None:
        """Close the payment first: when it was paid meanwhile, the callback will move the order."""
        try:
            self._gateway.close(order.id)
        except MassageError as refused:
            if refused.code == "payment.already_paid":
                return None
            # No payment at the gateway, or the gateway is unreachable: expire anyway.  A payment that still
            # arrives is refunded in full by the callback (the order is no longer payable).
        expired = order.expire_payment(Who.system(), now)
        uow.coupons.restore(order.id)
        return expired

    def _time_out(self, uow: UnitOfWork, order: Order, now: Instant) -> Order:
        """The system withdraws the offer and dispatch goes on as after ``orders.reject``: the next best match,
        another broadcast round, or -- nobody left -- cancel and refund."""
        return self._redispatch_or_cancel(uow, order.reject(Who.system(), now), now)

    def _reminders(self, now: Instant, limit: int) -> RuleCount:
        leads = sorted(set(self._deps.policies.reminder_leads_minutes))
        if not leads:
            return RuleCount()
        horizon = now + dt.timedelta(minutes=leads[-1])
        due: list[OrderId] = []
        offset = 0
        with self._uow() as uow:
            while len(due) < limit:
                page = uow.orders.list_by_state([OrderState.ACCEPTED], offset=offset, limit=PAGE)
                due += [o.id for o in page if now < o.scheduled.start <= horizon and _lead_due(o, now, leads)]
                if len(page) < PAGE:
                    break
                offset += PAGE
        due = due[:limit]

        def still_due(order: Order) -> bool:
            return order.state is OrderState.ACCEPTED and _lead_due(order, now, leads) is not None

        def fire(uow: UnitOfWork, order: Order, at: Instant) -> Order | None:
            lead = _lead_due(order, at, leads)
            return None if lead is None else order.remind(Who.system(), at, lead)

        fired = sum(self._one(oid, now, still_due, fire) for oid in due)
        return RuleCount(fired, len(due) - fired)

    def _settle(self, cutoff: Instant, now: Instant, limit: int) -> RuleCount:
        with self._uow() as uow:
            due = unsettled(uow, cutoff, limit)
        fired = sum(self._settle_one(oid, cutoff, now) for oid in due)
        return RuleCount(fired, len(due) - fired)

    def _settle_one(self, oid: OrderId, cutoff: Instant, now: Instant) -> bool:
        try:
            with self._uow() as uow:
                order = uow.orders.get(oid)
                if order.state not in SETTLING or not entered_state_at(order) < cutoff:
                    return False
                entry = settlement_entry(uow, order, now)
                if entry is None:
                    return False
                result = uow.ledger.post(entry)
                uow.commit()
        except Conflict as clash:
            if clash.code not in (KEY_REUSED, "conflict.busy", "conflict.stale"):
                raise
            return False
        return result.posted


def settled_key(order_id: str) -> str:
    """The business key of an order's settlement (``postings.settled``)."""
    return f"order:{order_id}:settled"


def cancelled_key(order_id: str) -> str:
    """The business key of a cancelled or no-show order's split (``postings.cancellation_split``)."""
    return f"order:{order_id}:cancelled"


SETTLING = (OrderState.COMPLETED, OrderState.CANCELLED, OrderState.NO_SHOW, OrderState.REFUNDED)
"""The states in which an order may still hold money pending for its therapist: completed, a cancellation
or no-show that compensated the therapist (refunded or not), and a completed order partly refunded after a
dispute."""


def unsettled(uow: UnitOfWork, cutoff: Instant, limit: int) -> list[OrderId]:
    """Orders in one of ``SETTLING`` that entered it before ``cutoff``, whose completion or cancellation entry
    left the therapist something still pending and that have no settlement entry yet, oldest first per state,
    at most ``limit``.  Settled orders stay in their state, so the window of oldest orders read grows until it
    holds ``limit`` candidates or every due order (decision 0032)."""
    found: list[OrderId] = []
    for state in SETTLING:
        window = max(limit, 1)
        while True:
            orders = uow.orders.due(state, cutoff, limit=window)
            keys = [key for o in orders for key in (completion_key(o.id), cancelled_key(o.id), settled_key(o.id))]
            posted = uow.ledger.posted_keys(keys)
            fresh = [o for o in orders if settled_key(o.id) not in posted
                     and (completion_key(o.id) in posted or cancelled_key(o.id) in posted)]
            candidates = [o.id for o in fresh if settlement_entry(uow, o, cutoff) is not None]
            if len(candidates) >= limit - len(found) or len(orders) < window:
                found += candidates[:limit - len(found)]
                break
            window *= 4
        if len(found) >= limit:
            break
    return found


def settlement_entry(uow: UnitOfWork, order: Order, at: Instant) -> JournalEntry | None:
    """The settlement of an order: the pending income and tip its completion and cancellation entries credited,
    less what refunds took back from them; None without either entry, without a therapist or with nothing
    left (a refund after completion took it all)."""
    keys = [completion_key(order.id), cancelled_key(order.id)]
    keys += [f"refund:{order.id}-r{position}" for position, step in enumerate(order.timeline)
             if step.action is OrderAction.REFUND]
    entries = [entry for entry in map(uow.ledger.entry, keys) if entry is not None]
    if order.therapist_id is None or not any(e.key in keys[:2] for e in entries):
        return None
    therapist = AccountId(order.therapist_id)
    pending = LedgerAccount.of(Book.THERAPIST_PENDING, therapist)
    tips = LedgerAccount.of(Book.TIPS_PAYABLE, therapist)
    income = tip = 0
    for entry in entries:
        for line in entry.lines:
            if line.account in (pending, tips):
                signed = line.amount.fen if line.side is Side.CREDIT else -line.amount.fen
                if line.account == pending:
                    income += signed
                else:
                    tip += signed
    currency = order.total.currency
    return settled(order.id, therapist, Money(max(income, 0), currency), Money(max(tip, 0), currency), at)


def _lead_due(order: Order, now: Instant, leads: list[int]) -> int | None:
    """The reminder to send now: the smallest lead whose moment has come, unless a reminder with that lead or a
    smaller one is already in the timeline (an order accepted 20 minutes before the start gets only the 30-minute
    reminder, never a late 120-minute one)."""
    start = order.scheduled.start
    if not now < start:
        return None
    reached = [lead for lead in leads if start - dt.timedelta(minutes=lead) <= now]
    if not reached:
        return None
    lead = min(reached)
    if any(sent <= lead for sent in order.reminded_leads):
        return None
    return lead
