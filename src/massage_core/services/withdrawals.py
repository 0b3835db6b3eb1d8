"""The withdrawals context (``platform.withdrawals``): therapists take money out; finance decides (decision 0033).

A therapist (``own_withdrawals.manage``) ``request``s an amount of their *available* balance (their
``therapist_payable`` account): at least the policy's minimum, its fee (fixed plus basis points, from
``Policies.withdrawals``) below the amount, and at most the balance.  The hold (``withdrawal_held``: payable ->
withdrawal holds) is posted in the same unit of work as the request, after ``uow.withdrawals.lock_therapist``,
so concurrent requests of one therapist are serialised and the total held never exceeds what was available.

Finance (``money.manage``: finance admins, superadmins, the system) ``list``s the queue, ``approve``s or
``reject``s a request (a rejection needs a reason and releases the hold); every decision is audited with who
made it.  The therapist sees their own (``mine``).  Finance then ``pay``s an approved withdrawal through the
``PayoutGateway`` port (``platform.payout_gateway``; the deterministic sandbox unless one is given): paid, or
failed with the hold released -- safe to rerun after a crash (see ``pay``) -- one at a time or as a payout
batch (``batch``, ``approve_batch``, ``run_batch``: ``services/payout_batches.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

from massage_core.domain import postings
from massage_core.domain.access import Actor, Permission
from massage_core.domain.errors import Conflict, ValidationError
from massage_core.domain.ids import AccountId
from massage_core.domain.ledger import Book, LedgerAccount
from massage_core.domain.money import Money
from massage_core.domain.withdrawals import Withdrawal, WithdrawalId, WithdrawalState, withdrawal_id
from massage_core.ports.payouts import PayoutGateway
from massage_core.ports.withdrawals import PAGE
from massage_core.services.base import Dependencies
from massage_core.services.payout_batches import PayoutBatches
from massage_core.services.notify_people import notify_withdrawal

INSUFFICIENT = "withdrawal.insufficient"
SETTLED = frozenset({WithdrawalState.PAID, WithdrawalState.FAILED})


def _amount(value: Money | int) -> Money:
    if isinstance(value, Money):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Money(value)
    raise ValidationError("amount must be Money or integer fen", code="withdrawal.amount", field="amount")


def _state(value: WithdrawalState | str | None) -> WithdrawalState | None:
    if value is None or isinstance(value, WithdrawalState):
        return value
    try:
        return WithdrawalState(value)
    except ValueError:
        raise ValidationError(f"unknown withdrawal state {str(value)[:20]!r}", code="withdrawal.state",
                              field="state") from None


class WithdrawalsService(PayoutBatches):
    """Withdrawal requests and finance's decisions; see the module docstring."""

    def __init__(self, deps: Dependencies, payouts: PayoutGateway) -> None:
        super().__init__(deps)
        self._payouts = payouts

    def _therapist(self, actor: Actor, action: str) -> AccountId:
        self._require(actor, Permission.OWN_WITHDRAWALS_MANAGE, action, actor.label)
        if actor.account_id is None:
            raise ValidationError("the system has no account of its own", code="actor.no_account")
        return actor.account_id

    def request(self, actor: Actor, amount: Money | int) -> Withdrawal:
        """Ask to withdraw ``amount`` (fen) of the acting therapist's available balance; the hold is posted
        at once.  Audited.

        Raises PermissionDenied (not a therapist), ValidationError ``actor.no_account`` (the system),
        ``withdrawal.amount`` (below the minimum, or not an amount), ``withdrawal.fee`` (the fee would take
        everything), Conflict ``withdrawal.insufficient`` (more than the available balance).
        """
        me = self._therapist(actor, "withdrawals.request")
        wanted = _amount(amount)
        fee = self._deps.policies.withdrawals.check(wanted)
        now = self._now()
        fresh = Withdrawal(id=WithdrawalId(self._deps.ids.new_id("withdrawal")), therapist_id=me, amount=wanted,
                           fee=fee, requested_at=now)
        with self._uow() as uow:
            uow.withdrawals.lock_therapist(me)
            available = uow.ledger.balance(LedgerAccount.of(Book.THERAPIST_PAYABLE, me))
            if wanted.fen > available.fen:
                raise Conflict(f"only {available} is available to withdraw", code=INSUFFICIENT)
            saved = uow.withdrawals.add(fresh)
            uow.ledger.post(postings.withdrawal_held(saved.id, me, wanted, now))
            self._audit_ok(uow, actor, "withdrawals.request", saved.id, now, amount=str(wanted.fen),
                           fee=str(fee.fen))
            uow.commit()
            return saved

    def mine(self, actor: Actor, *, offset: int = 0, limit: int = PAGE) -> Sequence[Withdrawal]:
        """The acting therapist's withdrawals, newest first.  Raises PermissionDenied, ValidationError
        ``actor.no_account``."""
        me = self._therapist(actor, "withdrawals.mine")
        with self._uow() as uow:
            return list(uow.withdrawals.for_therapist(me, offset=offset, limit=limit))

    def list(self, actor: Actor, state: WithdrawalState | str | None = None, *, offset: int = 0,
             limit: int = PAGE) -> Sequence[Withdrawal]:
        """Withdrawals (in ``state`` when given), oldest request first.  Raises PermissionDenied without
        ``money.manage``, ValidationError ``withdrawal.state``."""
        wanted = _state(state)
        self._require(actor, Permission.MONEY_MANAGE, "withdrawals.list", "withdrawals")
        with self._uow() as uow:
            return list(uow.withdrawals.list(wanted, offset=offset, limit=limit))

    def approve(self, actor: Actor, withdrawal: str) -> Withdrawal:
        """Approve a requested withdrawal for payout.  Audited.

        Raises ValidationError ``invalid_id``, NotFound, Conflict ``withdrawal.state`` (not requested) or
        ``conflict.stale``, PermissionDenied without ``money.manage``.
        """
        target = withdrawal_id(withdrawal)
        self._require(actor, Permission.MONEY_MANAGE, "withdrawals.approve", target)
        now = self._now()
        with self._uow() as uow:
            saved = uow.withdrawals.save(uow.withdrawals.get(target).approve(actor.account_id, now))
            notify_withdrawal(uow, self._deps, saved, now)
            self._audit_ok(uow, actor, "withdrawals.approve", target, now, amount=str(saved.amount.fen))
            uow.commit()
            return saved

    def reject(self, actor: Actor, withdrawal: str, reason: str) -> Withdrawal:
        """Reject a requested withdrawal with a reason; the hold goes back to the available balance.  Audited.

        Raises ValidationError ``invalid_id`` / ``withdrawal.reason``, NotFound, Conflict ``withdrawal.state``
        or ``conflict.stale``, PermissionDenied without ``money.manage``.
        """
        target = withdrawal_id(withdrawal)
        self._require(actor, Permission.MONEY_MANAGE, "withdrawals.reject", target)
        now = self._now()
        with self._uow() as uow:
            current = uow.withdrawals.get(target)
            saved = uow.withdrawals.save(current.reject(actor.account_id, now, reason))
            notify_withdrawal(uow, self._deps, saved, now)
            uow.ledger.post(postings.withdrawal_released(saved.id, saved.therapist_id, saved.amount, now))
            self._audit_ok(uow, actor, "withdrawals.reject", target, now, amount=str(saved.amount.fen),
                           reason=saved.reason or "")
            uow.commit()
            return saved

    def pay(self, actor: Actor, withdrawal: str) -> Withdrawal:
        """Pay an approved withdrawal out through the PayoutGateway; return it paid or failed.  Audited.

        Two units of work, each safe to repeat: (1) post ``withdrawal_sent`` (hold -> payout clearing, the fee to
        fee revenue) and commit; (2) under the therapist's withdrawal lock, re-read the withdrawal and, still
        approved, ``send`` the net amount -- idempotent by the withdrawal id at the gateway -- then on success
        post ``payout_confirmed`` and mark it paid, on failure post ``payout_failed`` (everything back to the
        therapist's available balance) and mark it failed, and commit.  Sending under the lock makes concurrent
        runs ask the provider once: the others wait, then find the withdrawal settled (decision 0040).  Every
        entry has a business key, so a rerun after a crash anywhere pays nobody twice and posts nothing twice;
        a withdrawal already paid or failed is returned unchanged.

        Raises ValidationError ``invalid_id``, NotFound, Conflict ``withdrawal.state`` (requested or rejected),
        PermissionDenied without ``money.manage``; the gateway's errors propagate (nothing settled: rerun).
        """
        return self._settle(actor, withdrawal)[0]

    def _settle(self, actor: Actor, withdrawal: str) -> tuple[Withdrawal, bool]:
        """``pay``, also saying whether *this* call settled the withdrawal (False: it was settled already)."""
        target = withdrawal_id(withdrawal)
        self._require(actor, Permission.MONEY_MANAGE, "withdrawals.pay", target)
        now = self._now()
        with self._uow() as uow:
            current = uow.withdrawals.get(target)
            if current.state in SETTLED:
                return current, False
            if current.state is not WithdrawalState.APPROVED:
                raise Conflict(f"withdrawal {target} is {current.state.value}, not approved", code="withdrawal.state")
            uow.ledger.post(postings.withdrawal_sent(current.id, current.therapist_id, current.amount, current.fee,
                                                     now))
            uow.commit()
        with self._uow() as uow:
            uow.withdrawals.lock_therapist(current.therapist_id)  # one sender at a time; the others wait here
            current = uow.withdrawals.get(target)
            if current.state is not WithdrawalState.APPROVED:
                return current, False  # a concurrent run settled it first
            result = self._payouts.send(current.id, current.therapist_id, current.net)
            if result.paid:
                confirmed = postings.payout_confirmed(current.id, current.net, now)
                if confirmed is not None:
                    uow.ledger.post(confirmed)
                saved = uow.withdrawals.save(current.mark_paid(now, result.reference))
            else:
                uow.ledger.post(postings.payout_failed(current.id, current.therapist_id, current.amount,
                                                       current.fee, now))
                saved = uow.withdrawals.save(current.mark_failed(now, result.reason or "payout failed"))
            notify_withdrawal(uow, self._deps, saved, now)
            self._audit_ok(uow, actor, "withdrawals.pay", target, now, outcome=saved.state.value,
                           net=str(saved.net.fen), reference=saved.payout_reference or "",
                           reason=saved.reason or "")
            uow.commit()
            return saved, True
