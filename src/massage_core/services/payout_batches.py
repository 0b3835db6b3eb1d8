"""Payout batches (``platform.withdrawals.batch|approve_batch|run_batch``; decision 0033, issue 5).

A batch is not stored: it is every *approved* withdrawal at the moment, named by its id ``pob_`` + the first
32 hex digits of the SHA-256 of the sorted withdrawal ids.  A new approval (or a payment) changes the set and
so the id: an approval is always of exactly the withdrawals its approver saw.

- ``approve_batch`` (``money.manage``, a named person -- the system has no account) writes the audit entry
  ``payouts.approve_batch`` whose target is the batch id and whose details list the members and the total;
  Conflict ``payout_batch.stale`` when the id is not the current batch, ``payout_batch.empty``,
  ``payout_batch.already_approved`` when this admin approved it already.
- ``run_batch`` (``money.manage``) finds the members in the audit log (an approval or an earlier run of this
  id, the member list re-hashed to the id) or else in the current approved set; a batch whose total net
  exceeds ``Policies.batch_two_admin_threshold_fen`` needs approvals by two different accounts (the system's
  do not count, the runner may be one of them), or it is refused (PermissionDenied
  ``payout_batch.approvals``, audited).  It writes ``payouts.run_batch`` and pays each member still approved
  with the idempotent ``pay``; members already paid or failed -- before the run, or meanwhile by a
  concurrent run of the same batch -- are ``skipped``: a rerun after a crash resumes and pays nobody twice, and
  runs started at once ask the provider once per member, each member reported paid or failed by one run only.
"""

from __future__ import annotations

import abc
import csv
import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from typing import TextIO

from attrs import frozen

from massage_core.domain.access import Actor, Permission
from massage_core.domain.audit import AuditEntry, AuditOutcome
from massage_core.domain.errors import Conflict, PermissionDenied, ValidationError
from massage_core.domain.money import Money
from massage_core.domain.withdrawals import Withdrawal, WithdrawalId, WithdrawalState
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.base import Service

APPROVE = "payouts.approve_batch"
RUN = "payouts.run_batch"
PREFIX = "pob_"
_ID = re.compile(r"pob_[0-9a-f]{32}")
_PAGE = 500
CSV_COLUMNS = ("batch_id", "withdrawal_id", "therapist_id", "amount_fen", "fee_fen", "net_fen", "outcome",
               "reference", "reason")


def batch_id(withdrawal_ids: Iterable[str]) -> str:
    """The id of the batch of exactly these withdrawals (order does not matter)."""
    digest = hashlib.sha256("\n".join(sorted(withdrawal_ids)).encode()).hexdigest()
    return PREFIX + digest[:32]


def _checked_id(raw: object) -> str:
    if not isinstance(raw, str) or not _ID.fullmatch(raw):
        raise ValidationError("not a payout batch id (pob_ + 32 hex digits)", code="payout_batch.id",
                              field="batch_id")
    return raw


@frozen
class PayoutBatch:
    """The approved withdrawals as one batch: its id, members, total net and who approved it."""

    id: str
    withdrawals: tuple[Withdrawal, ...]
    threshold: Money
    approved_by: tuple[str, ...] = ()

    @property
    def total(self) -> Money:
        """What the batch sends: the sum of the members' net amounts."""
        return Money(sum(w.net.fen for w in self.withdrawals))

    @property
    def needs_two_admins(self) -> bool:
        return self.total.fen > self.threshold.fen

    @property
    def ready(self) -> bool:
        """True when ``run_batch`` would accept it now."""
        return bool(self.withdrawals) and (not self.needs_two_admins or len(self.approved_by) >= 2)


@frozen
class BatchLine:
    """One member of a run: ``paid``, ``failed`` or ``skipped`` (settled before this run, or by a concurrent one)."""

    withdrawal: Withdrawal
    outcome: str


@frozen
class BatchReport:
    """What a run did to each member, in id order."""

    batch_id: str
    lines: tuple[BatchLine, ...]

    def _with(self, outcome: str) -> tuple[Withdrawal, ...]:
        return tuple(line.withdrawal for line in self.lines if line.outcome == outcome)

    @property
    def paid(self) -> tuple[Withdrawal, ...]:
        return self._with("paid")

    @property
    def failed(self) -> tuple[Withdrawal, ...]:
        return self._with("failed")

    @property
    def skipped(self) -> tuple[Withdrawal, ...]:
        return self._with("skipped")

    def write_csv(self, out: TextIO) -> None:
        """Write one row per member (``CSV_COLUMNS``) to ``out``."""
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for line in self.lines:
            w = line.withdrawal
            writer.writerow((self.batch_id, w.id, w.therapist_id, w.amount.fen, w.fee.fen, w.net.fen, line.outcome,
                             w.payout_reference or "", w.reason or ""))


def _members(entry: AuditEntry) -> tuple[str, ...]:
    listed = dict(entry.details).get("withdrawals", "")
    return tuple(sorted(i for i in listed.split(",") if i))


class PayoutBatches(Service):
    """The batch use cases of the withdrawals service (mixed into ``WithdrawalsService``)."""

    @abc.abstractmethod
    def _settle(self, actor: Actor, withdrawal: str) -> tuple[Withdrawal, bool]:
        """Pay one approved withdrawal, idempotently, and say whether this call settled it (``WithdrawalsService``
        implements it; ``pay`` is the public face)."""

    def _threshold(self) -> Money:
        return Money(self._deps.policies.batch_two_admin_threshold_fen)

    @staticmethod
    def _approved(uow: UnitOfWork) -> list[Withdrawal]:
        found: list[Withdrawal] = []
        while True:
            page = uow.withdrawals.list(WithdrawalState.APPROVED, offset=len(found), limit=_PAGE)
            found.extend(page)
            if len(page) < _PAGE:
                return sorted(found, key=lambda w: w.id)

    @staticmethod
    def _entries(uow: UnitOfWork, target: str) -> list[AuditEntry]:
        """The successful batch entries (approvals and runs) of ``target``, oldest first."""
        found: list[AuditEntry] = []
        after = 0
        while True:
            page = uow.audit.entries(after_sequence=after, limit=_PAGE)
            found.extend(e for e in page if e.target == target and e.action in (APPROVE, RUN)
                         and e.outcome is AuditOutcome.OK)
            if len(page) < _PAGE:
                return found
            after = page[-1].sequence

    @staticmethod
    def _approvers(entries: Sequence[AuditEntry]) -> tuple[str, ...]:
        seen: list[str] = []
        for entry in entries:
            if entry.action == APPROVE and entry.actor != "system" and entry.actor not in seen:
                seen.append(entry.actor)
        return tuple(seen)

    def _current(self, uow: UnitOfWork) -> PayoutBatch:
        members = self._approved(uow)
        ident = batch_id(w.id for w in members)
        return PayoutBatch(ident, tuple(members), self._threshold(), self._approvers(self._entries(uow, ident)))

    def batch(self, actor: Actor) -> PayoutBatch:
        """The current batch: every approved withdrawal, its id, total and approvers.  Raises
        PermissionDenied without ``money.manage``."""
        self._require(actor, Permission.MONEY_MANAGE, "withdrawals.batch", "payouts")
        with self._uow() as uow:
            return self._current(uow)

    def approve_batch(self, actor: Actor, batch: str) -> PayoutBatch:
        """Approve the current batch ``batch`` as the acting admin; return it with its approvers.  Audited.

        Raises ValidationError ``payout_batch.id`` / ``actor.no_account`` (the system), PermissionDenied
        without ``money.manage``, Conflict ``payout_batch.stale`` (not the current batch), ``payout_batch.empty``,
        ``payout_batch.already_approved``.
        """
        target = _checked_id(batch)
        self._require(actor, Permission.MONEY_MANAGE, "withdrawals.approve_batch", target)
        if actor.account_id is None:
            raise ValidationError("a batch is approved by a named admin, not the system", code="actor.no_account")
        now = self._now()
        with self._uow() as uow:
            current = self._current(uow)
            if current.id != target:
                raise Conflict(f"{target} is not the current batch ({current.id})", code="payout_batch.stale")
            if not current.withdrawals:
                raise Conflict("there is no approved withdrawal to pay", code="payout_batch.empty")
            if actor.label in current.approved_by:
                raise Conflict("you approved this batch already", code="payout_batch.already_approved")
            self._audit_ok(uow, actor, APPROVE, target, now, total=str(current.total.fen),
                           withdrawals=",".join(w.id for w in current.withdrawals))
            uow.commit()
            return PayoutBatch(current.id, current.withdrawals, current.threshold,
                               (*current.approved_by, actor.label))

    def run_batch(self, actor: Actor, batch: str, *,
                  progress: Callable[[BatchLine, int], None] | None = None) -> BatchReport:
        """Pay every member of ``batch`` still approved (``pay``); skip those already settled; call
        ``progress(line, members)`` after each member.  Safe to rerun after a crash.  Audited (``payouts.run_batch`` and each
        ``withdrawals.pay``).

        Raises ValidationError ``payout_batch.id``, PermissionDenied without ``money.manage`` or
        ``payout_batch.approvals`` (above the threshold without two different approvers), Conflict
        ``payout_batch.stale`` (an id neither recorded nor current), ``payout_batch.empty``.
        """
        target = _checked_id(batch)
        self._require(actor, Permission.MONEY_MANAGE, "withdrawals.run_batch", target)
        now = self._now()
        with self._uow() as uow:
            entries = self._entries(uow, target)
            recorded = [m for m in map(_members, entries) if batch_id(m) == target]
            if recorded:
                members = tuple(uow.withdrawals.get(WithdrawalId(i)) for i in recorded[0])
            else:
                current = self._current(uow)
                if current.id != target:
                    raise Conflict(f"{target} is not the current batch ({current.id})", code="payout_batch.stale")
                members = current.withdrawals
            if not members:
                raise Conflict("there is no approved withdrawal to pay", code="payout_batch.empty")
            found = PayoutBatch(target, members, self._threshold(), self._approvers(entries))
        if not found.ready:
            self._audit_denied(actor, "withdrawals.run_batch", target, "payout_batch.approvals")
            raise PermissionDenied(f"a batch above {found.threshold} needs approvals by two different admins",
                                   code="payout_batch.approvals")
        with self._uow() as uow:
            self._audit_ok(uow, actor, RUN, target, now, total=str(found.total.fen),
                           withdrawals=",".join(w.id for w in members))
            uow.commit()
        lines: list[BatchLine] = []
        for member in members:
            settled, by_us = self._settle(actor, member.id) if member.state is WithdrawalState.APPROVED else (
                member, False)
            if by_us:
                line = BatchLine(settled, "paid" if settled.state is WithdrawalState.PAID else "failed")
            else:  # settled before this run, or by a concurrent one
                line = BatchLine(settled, "skipped")
            lines.append(line)
            if progress is not None:
                progress(line, len(members))
        return BatchReport(target, tuple(lines))
