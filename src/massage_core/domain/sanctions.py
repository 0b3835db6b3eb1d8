"""Sanctions against therapists, and the one appeal each may get (issue 6, A2; decision 0039).

An admin *imposes* a sanction on a therapist, always with a reason:

* ``deduction``: an amount taken from the therapist's available balance through the ledger
  (``postings.penalty`` keyed ``penalty:<sanction id>``);
* ``warning``: a mark on the record, nothing else;
* ``suspension``: the therapist's profile is suspended (hidden from customers), until ``ends_at`` -- lifted
  then by the jobs rule -- or indefinitely (``ends_at`` None).

The therapist may appeal a sanction once, with a text, within ``appeal_window_days`` of its imposition.  An
admin *other than the one who imposed it* decides the appeal, with a reason: upheld -> the sanction is
reversed (a deduction is paid back by ``reversal_entry``, keyed ``penalty:<sanction id>:reversed``; a
suspension is lifted; a warning is struck); rejected -> it stands.

The appeal workflow is an explicit table (``appeal_transitions``) naming who may fire each step::

    (none) --file (the sanctioned therapist)--> pending
    pending --uphold (an admin other than the imposer)--> upheld
    pending --reject (an admin other than the imposer)--> rejected

A sanction's own state: ``in_force`` -> ``ended`` (a suspension whose end date passed) and ``in_force`` /
``ended`` -> ``reversed`` (its appeal was upheld).  A sanction *stands* unless reversed.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import NewType

from attrs import evolve, field, frozen

from massage_core.domain.errors import Conflict, InvalidTransition, PermissionDenied, ValidationError
from massage_core.domain.ids import AccountId, check_id
from massage_core.domain.ledger import Book, JournalEntry, LedgerAccount, credit, debit
from massage_core.domain.money import Money
from massage_core.domain.time import Instant, utc

SanctionId = NewType("SanctionId", str)

REASON_MAX = 500
APPEAL_MAX = 2000


def sanction_id(raw: object) -> SanctionId:
    """Validate and type a sanction id (``snc_`` + 26 base32 characters)."""
    return SanctionId(check_id("sanction", raw))


class SanctionKind(enum.StrEnum):
    """What a sanction does (see the module docstring)."""

    DEDUCTION = "deduction"
    WARNING = "warning"
    SUSPENSION = "suspension"


class SanctionState(enum.StrEnum):
    """Where a sanction is: in force, ended (a suspension past its end date) or reversed on appeal."""

    IN_FORCE = "in_force"
    ENDED = "ended"
    REVERSED = "reversed"


class AppealState(enum.StrEnum):
    """Where an appeal is."""

    PENDING = "pending"
    UPHELD = "upheld"
    REJECTED = "rejected"


class AppealAction(enum.StrEnum):
    """The steps of the appeal workflow."""

    FILE = "file"
    UPHOLD = "uphold"
    REJECT = "reject"


class AppealParty(enum.StrEnum):
    """Who fires an appeal step: the sanctioned therapist, or a reviewing admin (never the imposer)."""

    THERAPIST = "therapist"
    REVIEWER = "reviewer"


NO_APPEAL = "none"
"""The state name of a sanction without an appeal, in the transition table and its errors."""


def appeal_transitions() -> dict[tuple[str, AppealAction], tuple[AppealState, AppealParty]]:
    """The appeal workflow: (state, action) -> (next state, the party who may fire it)."""
    return {
        (NO_APPEAL, AppealAction.FILE): (AppealState.PENDING, AppealParty.THERAPIST),
        (AppealState.PENDING.value, AppealAction.UPHOLD): (AppealState.UPHELD, AppealParty.REVIEWER),
        (AppealState.PENDING.value, AppealAction.REJECT): (AppealState.REJECTED, AppealParty.REVIEWER),
    }


def next_appeal_state(state: str, action: AppealAction, by: AppealParty) -> AppealState:
    """The state after ``action``; InvalidTransition naming the allowed actions, PermissionDenied
    ``appeal.party`` when ``by`` may not fire it."""
    table = appeal_transitions()
    step = table.get((state, action))
    if step is None:
        raise InvalidTransition(state, action.value, [a.value for (s, a) in table if s == state])
    target, party = step
    if by is not party:
        raise PermissionDenied(f"only the {party.value} may {action.value} an appeal", code="appeal.party")
    return target


def _text(value: object, name: str, limit: int, code: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not 1 <= len(text) <= limit:
        raise ValidationError(f"a {name} of 1..{limit} characters is required", code=code, field=name)
    return text


def reason_text(value: object) -> str:
    """A sanction's or a decision's reason: stripped, 1..500 characters (``sanction.reason``)."""
    return _text(value, "reason", REASON_MAX, "sanction.reason")


def appeal_text(value: object) -> str:
    """An appeal's text: stripped, 1..2000 characters (``appeal.text``)."""
    return _text(value, "text", APPEAL_MAX, "appeal.text")


@frozen
class Appeal:
    """The therapist's one appeal of a sanction and how it was decided."""

    text: str = field(converter=appeal_text)
    filed_at: Instant = field(converter=utc)
    state: AppealState = AppealState.PENDING
    decided_by: AccountId | None = None
    decided_at: Instant | None = None
    decision_reason: str = ""


def kind(raw: object) -> SanctionKind:
    """Parse a sanction kind; ValidationError ``sanction.kind``."""
    try:
        return SanctionKind(str(raw).strip().lower())
    except ValueError:
        raise ValidationError("kind must be deduction, warning or suspension", code="sanction.kind",
                              field="kind") from None


@frozen
class Sanction:
    """One sanction and its appeal; see the module docstring."""

    id: SanctionId
    therapist_id: AccountId
    kind: SanctionKind
    reason: str = field(converter=reason_text)
    imposed_by: AccountId | None
    """The imposing admin; None when the system imposed it."""
    imposed_at: Instant = field(converter=utc)
    amount: Money | None = None
    """The deduction's amount (deductions only)."""
    ends_at: Instant | None = None
    """When a suspension ends (None: indefinite; suspensions only)."""
    state: SanctionState = SanctionState.IN_FORCE
    ended_at: Instant | None = None
    """When it ended (a suspension reaching its end date) or was reversed."""
    appeal: Appeal | None = None
    version: int = 0

    def __attrs_post_init__(self) -> None:
        if (self.kind is SanctionKind.DEDUCTION) != (self.amount is not None):
            raise ValidationError("a deduction, and only a deduction, has an amount", code="sanction.amount",
                                  field="amount")
        if self.amount is not None and (self.amount.fen <= 0 or self.amount.currency != "CNY"):
            raise ValidationError("a deduction is a positive amount in CNY", code="sanction.amount", field="amount")
        if self.ends_at is not None and (self.kind is not SanctionKind.SUSPENSION or self.ends_at <= self.imposed_at):
            raise ValidationError("only a suspension has an end, after its start", code="sanction.ends_at",
                                  field="ends_at")

    @classmethod
    def impose(cls, ident: SanctionId, therapist: AccountId, kind_: SanctionKind | str, reason: str,
               by: AccountId | None, now: Instant, *, amount: Money | None = None,
               ends_at: Instant | None = None) -> Sanction:
        """A new sanction in force.  ValidationError ``sanction.kind``, ``sanction.reason``, ``sanction.amount``
        (a deduction needs a positive amount, nothing else has one), ``sanction.ends_at`` (only a suspension
        ends, after now), Conflict ``sanction.self`` when an admin sanctions themselves."""
        if by is not None and by == therapist:
            raise Conflict("nobody sanctions themselves", code="sanction.self")
        return cls(ident, therapist, kind(kind_), reason, by, now, amount,
                   None if ends_at is None else utc(ends_at))

    @property
    def stands(self) -> bool:
        """True unless reversed on appeal."""
        return self.state is not SanctionState.REVERSED

    def appeal_deadline(self, window_days: int) -> Instant:
        """The last instant an appeal may be filed."""
        return self.imposed_at + dt.timedelta(days=window_days)

    def file_appeal(self, by: AccountId, text: str, now: Instant, window_days: int) -> Sanction:
        """The therapist appeals, once, within the window.  Conflict ``appeal.once`` (appealed already),
        ``appeal.window_closed``; PermissionDenied ``appeal.party`` for anybody but the therapist;
        ValidationError ``appeal.text``."""
        if self.appeal is not None:
            raise Conflict(f"sanction {self.id} was appealed already; an appeal is allowed once", code="appeal.once")
        party = AppealParty.THERAPIST if by == self.therapist_id else AppealParty.REVIEWER
        state = next_appeal_state(NO_APPEAL, AppealAction.FILE, party)
        if utc(now) > self.appeal_deadline(window_days):
            raise Conflict(f"the {window_days}-day appeal window closed", code="appeal.window_closed")
        return evolve(self, appeal=Appeal(text, now, state))

    def decide_appeal(self, upheld: bool, by: AccountId, reason: str, now: Instant) -> Sanction:
        """An admin decides the pending appeal.  PermissionDenied ``appeal.same_admin`` for the admin who
        imposed the sanction (``appeal.party`` for the therapist), InvalidTransition without a pending appeal,
        ValidationError ``sanction.reason``.  Upheld: the sanction is reversed."""
        action = AppealAction.UPHOLD if upheld else AppealAction.REJECT
        if by == self.imposed_by:
            raise PermissionDenied("the admin who imposed a sanction may not decide its appeal",
                                   code="appeal.same_admin")
        party = AppealParty.THERAPIST if by == self.therapist_id else AppealParty.REVIEWER
        state = next_appeal_state(self.appeal.state.value if self.appeal else NO_APPEAL, action, party)
        assert self.appeal is not None
        decided = evolve(self.appeal, state=state, decided_by=by, decided_at=utc(now),
                         decision_reason=reason_text(reason))
        if not upheld:
            return evolve(self, appeal=decided)
        return evolve(self, appeal=decided, state=SanctionState.REVERSED, ended_at=utc(now))

    def is_due_to_end(self, now: Instant) -> bool:
        """A suspension in force whose end date has come."""
        return self.state is SanctionState.IN_FORCE and self.ends_at is not None and self.ends_at <= now

    def end(self, now: Instant) -> Sanction:
        """The suspension reached its end date; Conflict ``sanction.not_due`` otherwise."""
        if not self.is_due_to_end(now):
            raise Conflict(f"sanction {self.id} is not a suspension due to end", code="sanction.not_due")
        return evolve(self, state=SanctionState.ENDED, ended_at=utc(now))


def deduction_reference(ident: SanctionId) -> str:
    """The ``postings.penalty`` reference of a deduction: its ledger key is ``penalty:<sanction id>``."""
    return ident


def suspension_note(ident: SanctionId) -> str:
    """The reason written on the therapist profile of a sanction's suspension (the text itself stays in the
    encrypted sanction): lifting checks it, so a suspension made by somebody else is never lifted by mistake."""
    return f"sanction {ident}"


def reversal_entry(sanction: Sanction, at: Instant) -> JournalEntry:
    """The deduction paid back after an upheld appeal: penalty revenue -> the therapist's payable balance,
    keyed ``penalty:<sanction id>:reversed`` (so once, and counted against the penalties by earnings)."""
    if sanction.amount is None:
        raise ValidationError("only a deduction is paid back", code="sanction.amount")
    return JournalEntry(f"penalty:{sanction.id}:reversed", at, (
        debit(LedgerAccount.of(Book.PENALTY_REVENUE), sanction.amount),
        credit(LedgerAccount.of(Book.THERAPIST_PAYABLE, sanction.therapist_id), sanction.amount)),
        f"sanction {sanction.id} reversed on appeal")
