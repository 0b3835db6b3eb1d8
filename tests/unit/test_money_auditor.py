"""The money auditor (issue 5, acceptance 1): a Hypothesis state machine plays random payments (and replayed
payment callbacks), visits and completions, cancellations before and after acceptance, no-shows, refunds after
a dispute, bonuses and penalties, withdrawals (request, approve, reject, pay, failed payouts, replays) and the
timers (T+N settlement) on one platform, and audits the books after every step -- through the ledger's own
reads, never from the machine's bookkeeping alone:

* every entry balances and, over all entries, debits equal credits;
* every stored balance equals the balance recomputed here from the entry lines, and ``ledger.verify`` is clean;
* no therapist account (pending, tips, payable, holds) is negative;
* every business key is stored once (one entry per key, as many keys as entries);
* a small model of each therapist's money (pending, available, on hold), kept from the order facts and the
  commission and withdrawal policies, agrees with ``earnings.summary``; the gateway clearing account holds
  what orders kept less what payouts sent.

Refusals must carry their stable codes and change nothing in the ledger.  ``MoneyAuditor`` is reused on
SQLite by ``tests/integration/test_money_auditor_sql.py`` (``make_platform`` overridden).
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pendulum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from massage_core.adapters.crypto.passwords import Argon2idPasswordHasher
from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.memory.ids import SequentialIdGenerator
from massage_core.adapters.memory.payouts import SandboxPayoutGateway
from massage_core.adapters.memory.payments import SandboxPaymentGateway
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor, AdminRole, Role
from massage_core.domain.cancellation import CancellationPolicy, NoticeWindow, Shares
from massage_core.domain.errors import MassageError
from massage_core.domain.ledger import PER_OWNER, Book, JournalEntry, LedgerAccount, Side
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderAction, OrderState
from massage_core.domain.postings import CommissionPolicy
from massage_core.domain.quotes import LineKind
from massage_core.domain.withdrawals import Withdrawal, WithdrawalPolicy, WithdrawalState
from massage_core.ports.orders import entered_state_at
from massage_core.services.base import Policies
from massage_core.services.order_views import OrderView
from search_support import shop, therapist
from storage_support import make_account

SYSTEM = Actor.system()
ZONE = "Asia/Shanghai"
LAT, LNG = 31.2304, 121.4737
WEEK = {day: [("08:00", "20:00")] for day in range(1, 8)}
LEVELS = ("junior", "senior", "senior")
RATES = {"senior": 2_000}
DEFAULT_BP = 3_000
MIN_WITHDRAWAL, FEE_FIXED, FEE_BP = 1_000, 100, 50
SETTLEMENT_DAYS = 7
POLICIES = Policies(
    cancellation=CancellationPolicy(windows=(NoticeWindow(dt.timedelta(hours=30), Shares(5_000, 4_000)),),
                                    late=Shares(2_000, 6_000)),
    commission=CommissionPolicy(default_bp=DEFAULT_BP, by_level=RATES),
    withdrawals=WithdrawalPolicy(min_amount=Money(MIN_WITHDRAWAL), fee_fixed=Money(FEE_FIXED), fee_bp=FEE_BP),
    settlement_days=SETTLEMENT_DAYS, acceptance_timeout_minutes=60 * 24 * 2)
"""A customer's cancellation with 30 h notice or more gets half back (40 % to the therapist), later 20 %
back (60 % to the therapist): bookings for the next day fall on both sides, so fees happen often.  Offers
wait two days for acceptance, so the timers do not cancel most orders before anybody serves them."""
SETTLING = frozenset({OrderState.COMPLETED, OrderState.CANCELLED, OrderState.NO_SHOW, OrderState.REFUNDED})
ORDER_REFUSALS = frozenset({"invalid_transition", "order.party", "order.no_show_too_early",
                            "order.refund_amount", "order.nothing_to_refund"})
BOOKING_REFUSALS = frozenset({"reservation.overlap", "reservation.outside_hours", "schedule.offline"})
STEPS = ("accept", "depart", "arrive", "start", "finish", "complete", "mark_no_show", "therapist_cancel")
WAITS = (60 * 24 * 8, 5, 11, 30, 90, 60 * 20, 60 * 25, 60 * 24 * 3)
"""Minutes the clock may jump before the timers run: past the acceptance timeout, the auto-completion delay
and the settlement delay."""


@dataclass
class Booked:
    """What the model knows of one order."""

    id: str
    customer: int
    therapist: str
    callback: tuple[dict[str, str], bytes]
    seen: int = 0
    state: OrderState = OrderState.PENDING_PAYMENT
    split: tuple[int, int, int] | None = None
    """(income, tip, commission) the completion should have posted."""
    pending: int = 0
    settled: bool = False


@dataclass
class Asked:
    """One withdrawal as the model expects it."""

    id: str
    therapist: str
    amount: int
    state: WithdrawalState = WithdrawalState.REQUESTED


@dataclass
class Purse:
    """One therapist's money as the model expects it, in fen."""

    pending: int = 0
    available: int = 0
    held: int = 0


def fee(amount: int) -> int:
    return FEE_FIXED + amount * FEE_BP // 10_000


def _raw(account: LedgerAccount, fen: int) -> int:
    """A normal-sense balance as debits minus credits."""
    return fen if account.book.kind.debit_normal else -fen


class MoneyAuditor(RuleBasedStateMachine):
    """See the module docstring."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = FixedClock()
        self.platform = self.make_platform(self.clock)
        uow = self.platform.deps.uow
        catalogue = shop(uow)
        self.services = (catalogue.tuina, catalogue.spa)
        self.therapists: list[str] = []
        self.levels: dict[str, str] = {}
        for level in LEVELS:
            tid = therapist(uow, LAT, LNG, services=self.services, level=level)
            self.platform.schedules.set_weekly_hours(SYSTEM, tid, WEEK)
            self.platform.schedules.set_online(SYSTEM, tid, True)
            self.therapists.append(tid)
            self.levels[tid] = level
        self.customers = [self._person({Role.CUSTOMER}) for _ in range(2)]
        self.finance = [self._person({Role.ADMIN}, AdminRole.FINANCE) for _ in range(2)]
        self.support = self._person({Role.ADMIN}, AdminRole.SUPPORT)
        self.orders: list[Booked] = []
        self.withdrawals: list[Asked] = []
        self.purses = {tid: Purse() for tid in self.therapists}
        self.paid_out = 0
        self.refusals: dict[str, int] = {}

    # -- set-up ------------------------------------------------------------------------------------

    def make_platform(self, clock: FixedClock) -> Platform:
        """The platform under audit (memory here; the SQL test overrides this)."""
        return Platform.in_memory(clock=clock, ids=SequentialIdGenerator(), hasher=Argon2idPasswordHasher.for_tests(),
                                  policies=POLICIES)

    def teardown(self) -> None:
        self.platform.close()

    def _person(self, roles: set[Role], admin: AdminRole | None = None) -> Actor:
        admin_roles = frozenset({admin}) if admin else frozenset()
        account = make_account(roles=frozenset(roles), admin_roles=admin_roles)
        with self.platform.deps.uow() as uow:
            uow.accounts.add(account)
            uow.commit()
        return Actor(account.id, roles=frozenset(roles), admin_roles=admin_roles)

    def therapist_actor(self, tid: str) -> Actor:
        return Actor(tid, roles=frozenset({Role.CUSTOMER, Role.THERAPIST}))  # type: ignore[arg-type]

    @property
    def gateway(self) -> SandboxPaymentGateway:
        found = self.platform.deps.payment_gateway
        assert isinstance(found, SandboxPaymentGateway)
        return found

    @property
    def payouts(self) -> SandboxPayoutGateway:
        found = self.platform.payout_gateway
        assert isinstance(found, SandboxPayoutGateway)
        return found

    # -- the ledger as the storage has it --------------------------------------------------------------

    def _fingerprint(self) -> tuple[int, frozenset[tuple[str, int, int | None]]]:
        with self.platform.deps.uow() as uow:
            return uow.ledger.entry_count(), frozenset(uow.ledger.compared_balances())

    def _refused(self, call: Callable[[], Any], codes: frozenset[str] | set[str]) -> Any:
        """Run ``call``; a refusal must carry one of ``codes`` and change nothing in the ledger.  Returns the
        result, or None when refused."""
        before = self._fingerprint()
        try:
            return call()
        except MassageError as refused:
            assert refused.code in codes, f"unexpected refusal {refused.code}: {refused}"
            assert self._fingerprint() == before, f"the refusal {refused.code} changed the ledger"
            self.refusals[refused.code] = self.refusals.get(refused.code, 0) + 1
            return None

    def _expect_refusal(self, call: Callable[[], Any], code: str) -> None:
        before = self._fingerprint()
        try:
            call()
        except MassageError as refused:
            assert refused.code == code, f"expected {code}, got {refused.code}: {refused}"
        else:
            raise AssertionError(f"expected the refusal {code}")
        assert self._fingerprint() == before, f"the refusal {code} changed the ledger"
        self.refusals[code] = self.refusals.get(code, 0) + 1

    # -- the model follows the orders' facts -------------------------------------------------------------

    def _view(self, booked: Booked) -> OrderView:
        return self.platform.orders.get(SYSTEM, booked.id)

    def _sync(self, booked: Booked) -> OrderView:
        """Apply to the model what the order's new timeline steps mean for the therapist's money."""
        view = self._view(booked)
        purse = self.purses[booked.therapist]
        for position in range(booked.seen, len(view.timeline)):
            step, earlier = view.timeline[position], view.timeline[:position]
            if (step.action is OrderAction.REFUND and step.from_state is OrderState.DISPUTED and booked.split is None
                    and any(s.to_state is OrderState.FINISHED for s in earlier)):
                # a served visit refunded in dispute is split like a completion first (decision 0031)
                booked.split = self._split(view)
                booked.pending += booked.split[0] + booked.split[1]
                purse.pending += booked.split[0] + booked.split[1]
            if step.to_state is OrderState.COMPLETED and step.from_state is not OrderState.COMPLETED:
                if booked.split is None:
                    booked.split = self._split(view)
                    booked.pending += booked.split[0] + booked.split[1]
                    purse.pending += booked.split[0] + booked.split[1]
            elif step.action is OrderAction.REFUND and booked.split is not None:
                moved = Money.parse_yuan(step.note)
                income, tip, _ = moved.allocate(list(booked.split))
                taken = income.fen + tip.fen
                if booked.settled:  # never below zero: the platform bears what was withdrawn already
                    purse.available -= min(taken, purse.available)
                else:
                    booked.pending -= taken
                    purse.pending -= taken
            elif step.action in (OrderAction.CANCEL, OrderAction.MARK_NO_SHOW):
                assert view.settlement is not None
                if view.therapist_id == booked.therapist:
                    share = view.settlement.therapist_compensation.fen
                    booked.pending += share
                    purse.pending += share
        booked.seen, booked.state = len(view.timeline), view.state
        return view

    def _split(self, view: OrderView) -> tuple[int, int, int]:
        """(income, tip, commission) of a completed order, from its bill and the commission policy."""
        def amount(*kinds: LineKind) -> int:
            return sum(line.amount.fen for line in view.bill if line.kind in kinds)

        commissionable = amount(LineKind.SERVICE, LineKind.NIGHT, LineKind.HOLIDAY)
        assert amount(LineKind.DISCOUNT) == 0
        rate = RATES.get(self.levels[booked_therapist(view)], DEFAULT_BP)
        commission, kept = Money(commissionable).split_basis_points(rate)
        return kept.fen + amount(LineKind.TRAVEL), amount(LineKind.TIP), commission.fen

    def _settle_model(self) -> None:
        """What the T+N rule must have settled by now."""
        cutoff = self.clock.now() - dt.timedelta(days=SETTLEMENT_DAYS)
        for booked in self.orders:
            if booked.settled or booked.pending == 0:
                continue
            view = self._view(booked)
            if view.state in SETTLING and entered_state_at(view) < cutoff:  # type: ignore[arg-type]
                purse = self.purses[booked.therapist]
                purse.pending -= booked.pending
                purse.available += booked.pending
                booked.pending, booked.settled = 0, True

    def _pick(self, data: st.DataObject) -> Booked:
        """Mostly an order still open (so actions get somewhere), sometimes any order (so refusals happen)."""
        open_ = [b for b in self.orders if b.state not in (OrderState.REFUNDED, OrderState.PAYMENT_EXPIRED)]
        some_open = bool(open_) and data.draw(st.integers(0, 3)) > 0
        return data.draw(st.sampled_from(open_ if some_open else self.orders))

    def _sync_all(self) -> None:
        for booked in self.orders:
            self._sync(booked)

    # -- payments -------------------------------------------------------------------------------------

    @rule(customer=st.integers(0, 1), who=st.integers(0, 2), slot=st.integers(0, 4), spa=st.booleans(),
          tip=st.sampled_from((0, 0, 1_000, 2_345)), then=st.sampled_from(("completed", "paid", "accepted")))
    def book_and_pay(self, customer: int, who: int, slot: int, spa: bool, tip: int, then: str) -> None:
        """A customer books a therapist for the next day and pays at the sandbox (its callback reaches the
        service); the visit may go on at once up to acceptance or completion."""
        tid = self.therapists[who]
        day = pendulum.instance(self.clock.now()).in_timezone(ZONE).date() + dt.timedelta(days=1)
        start = pendulum.datetime(day.year, day.month, day.day, 10 + 2 * slot, tz=ZONE)
        view = self._refused(lambda: self.platform.orders.book(
            self.customers[customer], therapist=tid, service=self.services[spa], start=start, lat=LAT, lng=LNG,
            tip=tip), BOOKING_REFUSALS)
        if view is None:
            return
        before = self._fingerprint()
        headers, body = self.gateway.simulate_payment(view.id)
        paid = self.platform.orders.payment_callback(headers, body)
        assert paid.state is OrderState.AWAITING_ACCEPTANCE and paid.paid == view.total
        assert self._fingerprint() != before
        self.orders.append(Booked(view.id, customer, tid, (headers, body)))
        self._sync(self.orders[-1])
        if then != "paid":
            self._serve(self.orders[-1], then)

    @precondition(lambda self: bool(self.orders))
    @rule(data=st.data(), fresh=st.booleans())
    def replay_payment(self, data: st.DataObject, fresh: bool) -> None:
        """A provider re-delivers a payment notice: the very same one (accepted within the 5-minute window, refused
        as stale after it) or a fresh copy of it (accepted): the ledger does not move either way."""
        booked = self._pick(data)
        before = self._fingerprint()
        if fresh:
            try:
                headers, body = self.gateway.simulate_payment(booked.id)
            except MassageError:
                return  # refunded at the gateway meanwhile: the provider sends no more "paid" notices
            self.platform.orders.payment_callback(headers, body)
        else:
            headers, body = booked.callback
            replay: Callable[[], OrderView] = functools.partial(self.platform.orders.payment_callback, headers, body)
            if self.clock.now().int_timestamp - int(headers["Sandbox-Timestamp"]) > 300:
                self._expect_refusal(replay, "payment.stale")
            else:
                replay()  # the same delivery again within the window: the same notice, applied once
        assert self._fingerprint() == before, "a replayed payment moved the ledger"
        self._sync(booked)

    # -- the visit -------------------------------------------------------------------------------------

    @precondition(lambda self: bool(self.orders))
    @rule(data=st.data(), step=st.sampled_from(STEPS))
    def visit(self, data: st.DataObject, step: str) -> None:
        """The order's therapist (or customer, for ``complete``) takes a step; refusals keep their codes."""
        booked = self._pick(data)
        orders = self.platform.orders
        me = self.therapist_actor(booked.therapist)
        calls: dict[str, Callable[[], Any]] = {
            "accept": lambda: orders.accept(me, booked.id), "depart": lambda: orders.depart(me, booked.id),
            "arrive": lambda: orders.arrive(me, booked.id), "start": lambda: orders.start(me, booked.id),
            "finish": lambda: orders.finish(me, booked.id),
            "complete": lambda: orders.complete(self.customers[booked.customer], booked.id),
            "mark_no_show": lambda: orders.mark_no_show(me, booked.id),
            "therapist_cancel": lambda: orders.cancel(me, booked.id, "unwell")}
        self._refused(calls[step], ORDER_REFUSALS | {"not_found"})
        self._sync(booked)

    @precondition(lambda self: bool(self.orders))
    @rule(data=st.data(), upto=st.sampled_from(("completed", "finished", "arrived", "accepted")))
    def serve(self, data: st.DataObject, upto: str) -> None:
        """Walk an order along the happy path (deep states are reached often)."""
        self._serve(self._pick(data), upto)

    @precondition(lambda self: bool(self.orders))
    @rule(data=st.data())
    def customer_absent(self, data: st.DataObject) -> None:
        """The therapist arrives, waits out the grace period and declares the customer absent."""
        booked = self._pick(data)
        self._serve(booked, "arrived")
        if booked.state is OrderState.ARRIVED:
            self.clock.advance(POLICIES.cancellation.customer_grace + dt.timedelta(minutes=1))
            self.platform.orders.mark_no_show(self.therapist_actor(booked.therapist), booked.id)
            assert self._sync(booked).state in (OrderState.NO_SHOW, OrderState.REFUNDED)

    def _serve(self, booked: Booked, upto: str) -> None:
        path = ("accept", "depart", "arrive", "start", "finish", "complete")
        ends = {"accepted": 1, "arrived": 3, "finished": 5, "completed": 6}
        orders, me = self.platform.orders, self.therapist_actor(booked.therapist)
        for action in path[:ends[upto]]:
            view = self._view(booked)
            if OrderAction(action) not in view.allowed:
                continue
            if action == "complete":
                orders.complete(self.customers[booked.customer], booked.id)
            else:
                getattr(orders, action)(me, booked.id)
        self._sync(booked)

    @precondition(lambda self: bool(self.orders))
    @rule(data=st.data(), by_admin=st.booleans())
    def cancel(self, data: st.DataObject, by_admin: bool) -> None:
        """The customer (a fee by the notice given) or an admin (everything back) cancels."""
        booked = self._pick(data)
        actor = self.support if by_admin else self.customers[booked.customer]
        view = self._refused(lambda: self.platform.orders.cancel(actor, booked.id, "plans changed"), ORDER_REFUSALS)
        synced = self._sync(booked)
        if view is not None:
            assert synced.settlement is not None
            assert synced.refunded + synced.settlement.therapist_compensation + synced.settlement.platform_retained \
                == synced.paid

    @precondition(lambda self: bool(self.orders))
    @rule(data=st.data(), amount=st.one_of(st.none(), st.integers(1, 5_000), st.integers(5_000, 60_000)),
          dismiss=st.booleans())
    def dispute(self, data: st.DataObject, amount: int | None, dismiss: bool) -> None:
        """The customer disputes a finished or completed visit; support refunds part or all of it (too much is
        refused) or dismisses the dispute."""
        booked = self._pick(data)
        orders = self.platform.orders
        if self._refused(lambda: orders.dispute(self.customers[booked.customer], booked.id, "too short"),
                         ORDER_REFUSALS) is None and self._view(booked).state is not OrderState.DISPUTED:
            self._sync(booked)
            return
        self._sync(booked)
        if dismiss:
            orders.dismiss_dispute(self.support, booked.id, "served in full")
        elif amount is not None and amount > self._view(booked).retained.fen:
            self._expect_refusal(lambda: orders.refund(self.support, booked.id, amount), "order.refund_amount")
        else:
            orders.refund(self.support, booked.id, amount)
        self._sync(booked)

    # -- time ---------------------------------------------------------------------------------------------

    @rule(minutes=st.sampled_from(WAITS))
    def timers(self, minutes: int) -> None:
        """Time passes and the timers run: acceptance timeouts, auto-completion, T+N settlement."""
        self.clock.advance(dt.timedelta(minutes=minutes))
        self.platform.jobs.run_due(SYSTEM)
        self._sync_all()
        self._settle_model()

    # -- admins' adjustments ----------------------------------------------------------------------------------

    @rule(who=st.integers(0, 2), amount=st.integers(1, 20_000), by=st.integers(0, 1))
    def bonus(self, who: int, amount: int, by: int) -> None:
        tid = self.therapists[who]
        self.platform.earnings.grant_bonus(self.finance[by], tid, Money(amount), "five-star week")
        self.purses[tid].available += amount

    @precondition(lambda self: any(p.available for p in self.purses.values()))
    @rule(data=st.data(), amount=st.integers(1, 20_000), over=st.booleans())
    def penalty(self, data: st.DataObject, amount: int, over: bool) -> None:
        tid = self._with_money(data)
        purse = self.purses[tid]
        wanted = purse.available + amount if over else amount
        call: Callable[[], Any] = functools.partial(self.platform.earnings.deduct_penalty, self.finance[0], tid,
                                                    Money(wanted), "late")
        if wanted > purse.available:
            self._expect_refusal(call, "earnings.exceeds_available")
        else:
            call()
            purse.available -= wanted

    # -- withdrawals -------------------------------------------------------------------------------------------

    def _with_money(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from([tid for tid, p in self.purses.items() if p.available]))

    @precondition(lambda self: any(p.available for p in self.purses.values()))
    @rule(data=st.data(), how=st.sampled_from(("some", "all", "too_much", "below_minimum")),
          amount=st.integers(0, 40_000))
    def request_withdrawal(self, data: st.DataObject, how: str, amount: int) -> None:
        tid = self._with_money(data)
        purse = self.purses[tid]
        within = MIN_WITHDRAWAL + amount % max(purse.available - MIN_WITHDRAWAL + 1, 1)
        wanted = {"all": purse.available, "below_minimum": amount % MIN_WITHDRAWAL, "some": within,
                  "too_much": purse.available + 1 + amount}[how]
        call: Callable[[], Withdrawal] = functools.partial(self.platform.withdrawals.request,
                                                           self.therapist_actor(tid), wanted)
        if wanted < MIN_WITHDRAWAL:
            self._expect_refusal(call, "withdrawal.amount")
        elif wanted > purse.available:
            self._expect_refusal(call, "withdrawal.insufficient")
        else:
            made = call()
            assert (made.amount.fen, made.fee.fen, made.state) == (wanted, fee(wanted), WithdrawalState.REQUESTED)
            self.withdrawals.append(Asked(made.id, tid, wanted))
            purse.available -= wanted
            purse.held += wanted

    @precondition(lambda self: bool(self.withdrawals))
    @rule(data=st.data(), action=st.sampled_from(("approve", "pay", "fail", "reject")), by=st.integers(0, 1))
    def decide_withdrawal(self, data: st.DataObject, action: str, by: int) -> None:
        """Finance approves, rejects or pays (the sandbox paying or failing) a withdrawal in any state: the
        wrong state is refused (``withdrawal.state``), a second payment of a paid or failed one is a no-op."""
        asked = data.draw(st.sampled_from(self.withdrawals))
        service, finance = self.platform.withdrawals, self.finance[by]
        purse = self.purses[asked.therapist]
        state = asked.state
        if action in ("approve", "reject"):
            call: Callable[[], Withdrawal] = functools.partial(service.approve, finance, asked.id) \
                if action == "approve" else functools.partial(service.reject, finance, asked.id, "documents missing")
            if state is not WithdrawalState.REQUESTED:
                self._expect_refusal(call, "withdrawal.state")
                return
            done = call()
            asked.state = done.state
            assert done.state is (WithdrawalState.APPROVED if action == "approve" else WithdrawalState.REJECTED)
            if action == "reject":
                purse.held -= asked.amount
                purse.available += asked.amount
            return
        if state in (WithdrawalState.REQUESTED, WithdrawalState.REJECTED):
            self._expect_refusal(lambda: service.pay(finance, asked.id), "withdrawal.state")
            return
        if action == "fail" and state is WithdrawalState.APPROVED:
            self.payouts.fail(asked.id, "account closed")
        before = self._fingerprint()
        done = service.pay(finance, asked.id)
        if state is not WithdrawalState.APPROVED:  # a replay of a paid or failed payout
            assert done.state is state and self._fingerprint() == before
            return
        asked.state = done.state
        purse.held -= asked.amount
        if done.state is WithdrawalState.PAID:
            assert action == "pay"
            self.paid_out += asked.amount - fee(asked.amount)
        else:
            assert action == "fail" and done.state is WithdrawalState.FAILED
            purse.available += asked.amount

    # -- the audit ---------------------------------------------------------------------------------------------

    def _all_entries(self) -> tuple[dict[str, JournalEntry], list[tuple[LedgerAccount, int]]]:
        """Every entry (by key), read account by account through ``platform.ledger.entries``, and every
        account's stored balance through ``platform.ledger.balance``."""
        ledger = self.platform.ledger
        with self.platform.deps.uow() as uow:
            codes = sorted(code for code, _, _ in uow.ledger.compared_balances())
        entries: dict[str, JournalEntry] = {}
        stored: list[tuple[LedgerAccount, int]] = []
        for code in codes:
            seen: set[str] = set()
            for offset in itertools.count(0, 500):
                page = ledger.entries(SYSTEM, code, offset=offset, limit=500)
                for entry in page:
                    assert entry.key not in seen, f"the key {entry.key} is stored twice"
                    seen.add(entry.key)
                    assert entries.setdefault(entry.key, entry) == entry, f"two entries under {entry.key}"
                if len(page) < 500:
                    break
            stored.append((LedgerAccount.parse(code), ledger.balance(SYSTEM, code).fen))
        return entries, stored

    @invariant()
    def the_books_are_sound(self) -> None:
        entries, stored = self._all_entries()
        with self.platform.deps.uow() as uow:
            assert uow.ledger.entry_count() == len(entries), "a business key was applied twice"
        debits = credits = 0
        recomputed: dict[LedgerAccount, int] = {}
        for entry in entries.values():
            assert entry.total(Side.DEBIT) == entry.total(Side.CREDIT), entry.key
            debits += entry.total(Side.DEBIT).fen
            credits += entry.total(Side.CREDIT).fen
            for account, delta in entry.effects().items():
                recomputed[account] = recomputed.get(account, 0) + delta
        assert debits == credits
        for account, balance in stored:
            assert balance == recomputed.get(account, 0), f"{account.code}: stored {balance}"
            if account.book in PER_OWNER:
                assert balance >= 0, f"{account.code} is negative: {balance}"
        assert sum(_raw(account, fen) for account, fen in stored) == 0
        report = self.platform.ledger.verify(SYSTEM)
        assert report.ok, [str(p) for p in report.problems]

    @invariant()
    def the_model_agrees(self) -> None:
        for tid, purse in self.purses.items():
            summary = self.platform.earnings.summary(SYSTEM, tid)
            assert (summary.pending.fen, summary.available.fen, summary.on_hold.fen) == (
                purse.pending, purse.available, purse.held), tid
            assert min(purse.pending, purse.available, purse.held) >= 0
        kept = sum(self._view(booked).retained.fen for booked in self.orders)
        clearing = self.platform.ledger.balance(SYSTEM, Book.GATEWAY_CLEARING.value).fen
        assert clearing == kept - self.paid_out
        assert sum(self.payouts.sent.values(), Money(0)).fen == self.paid_out


def booked_therapist(view: OrderView) -> str:
    assert view.therapist_id is not None
    return view.therapist_id


MoneyAuditor.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None,
                                          suppress_health_check=[HealthCheck.too_slow])
TestMoneyAuditor = MoneyAuditor.TestCase
