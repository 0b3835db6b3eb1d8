"""Complaints (C10, T9, A1): a customer's complaint about one of their orders, mediated by the platform.

::

    open ──respond (therapist, before the deadline)──▶ therapist_responded
    open / therapist_responded ──take (admin)──▶ under_mediation
    open ──escalate (system, once the answer deadline passed)──▶ under_mediation
    under_mediation ──respond (therapist, before the deadline, once)──▶ under_mediation
    under_mediation ──resolve (admin, with an outcome)──▶ resolved
    open / therapist_responded / under_mediation ──withdraw (customer)──▶ withdrawn

``resolved`` and ``withdrawn`` are terminal.  The therapist answers at most once, before ``answer_due``
(``Policies.complaint_answer_hours`` after filing).  Every step is appended to the timeline with the party, the
acting account and a note (the description, the answer, the resolution note: personal data, encrypted at rest
by the SQL adapter).  Decision 0038 has the reasoning.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from typing import Any, NewType

import attrs
from attrs import field, frozen

from massage_core.domain.errors import Conflict, InvalidTransition, PermissionDenied, ValidationError
from massage_core.domain.ids import AccountId, check_id
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderId
from massage_core.domain.time import Instant, utc

ComplaintId = NewType("ComplaintId", str)

DESCRIPTION_MAX = 2_000
ANSWER_MAX = 2_000
NOTE_MAX = 1_000
EVIDENCE_MAX = 10
EVIDENCE_REF_MAX = 128
_EVIDENCE_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/=+-]*$")


def complaint_id(raw: object) -> ComplaintId:
    """Validate and type a complaint id (``cmp_`` + 26 base32 characters)."""
    return ComplaintId(check_id("complaint", raw))


class ComplaintCategory(enum.StrEnum):
    """What the complaint is about (a fixed list; decision 0038)."""

    SERVICE_QUALITY = "service_quality"
    """The massage itself: skill, pressure, shortened or different from what was booked."""
    CONDUCT = "conduct"
    """The therapist's attitude or behaviour (rudeness, inappropriate conduct)."""
    PUNCTUALITY = "punctuality"
    """Late, early or no-show."""
    HYGIENE = "hygiene"
    """Cleanliness of the therapist or their equipment."""
    SAFETY = "safety"
    """Injury, harassment or any risk to the customer's safety."""
    BILLING = "billing"
    """Charged differently from the quote, extra charges asked for in person."""
    OTHER = "other"


class ComplaintState(enum.StrEnum):
    """Where a complaint is; see the module docstring."""

    OPEN = "open"
    THERAPIST_RESPONDED = "therapist_responded"
    UNDER_MEDIATION = "under_mediation"
    RESOLVED = "resolved"
    WITHDRAWN = "withdrawn"


LIVE_STATES = frozenset({ComplaintState.OPEN, ComplaintState.THERAPIST_RESPONDED, ComplaintState.UNDER_MEDIATION})
"""Not yet resolved or withdrawn: an order has at most one complaint in these states."""


class ComplaintAction(enum.StrEnum):
    """Everything that can happen to a complaint (``file`` only creates it and is not in the table)."""

    FILE = "file"
    RESPOND = "respond"
    TAKE = "take"
    ESCALATE = "escalate"
    RESOLVE = "resolve"
    WITHDRAW = "withdraw"


class ComplaintParty(enum.StrEnum):
    """Who fires an action: the complaining customer, the therapist complained about, an admin, the system."""

    CUSTOMER = "customer"
    THERAPIST = "therapist"
    ADMIN = "admin"
    SYSTEM = "system"


class Outcome(enum.StrEnum):
    """How a mediation ends.  Every outcome but ``no_action`` upholds the complaint (quality score)."""

    NO_ACTION = "no_action"
    PARTIAL_REFUND = "partial_refund"
    FULL_REFUND = "full_refund"
    PENALTY = "penalty"
    WARNING = "warning"

    @property
    def refunds(self) -> bool:
        return self in (Outcome.PARTIAL_REFUND, Outcome.FULL_REFUND)

    @property
    def upheld(self) -> bool:
        return self is not Outcome.NO_ACTION


Step = tuple[ComplaintState, frozenset[ComplaintParty]]


def complaint_transitions() -> dict[tuple[ComplaintState, ComplaintAction], Step]:
    """The whole machine: (state, action) -> (next state, the parties who may fire it)."""
    s, a, p = ComplaintState, ComplaintAction, ComplaintParty
    customer, therapist = frozenset({p.CUSTOMER}), frozenset({p.THERAPIST})
    admin, system = frozenset({p.ADMIN}), frozenset({p.SYSTEM})
    table: dict[tuple[ComplaintState, ComplaintAction], Step] = {
        (s.OPEN, a.RESPOND): (s.THERAPIST_RESPONDED, therapist),
        (s.OPEN, a.TAKE): (s.UNDER_MEDIATION, admin),
        (s.OPEN, a.ESCALATE): (s.UNDER_MEDIATION, system),
        (s.THERAPIST_RESPONDED, a.TAKE): (s.UNDER_MEDIATION, admin),
        (s.UNDER_MEDIATION, a.RESPOND): (s.UNDER_MEDIATION, therapist),
        (s.UNDER_MEDIATION, a.RESOLVE): (s.RESOLVED, admin),
    }
    for live in (s.OPEN, s.THERAPIST_RESPONDED, s.UNDER_MEDIATION):
        table[(live, a.WITHDRAW)] = (s.WITHDRAWN, customer)
    return table


def allowed_actions(state: ComplaintState) -> tuple[ComplaintAction, ...]:
    """The actions the table allows in ``state``, in declaration order."""
    return tuple(action for (source, action) in complaint_transitions() if source is state)


def next_state(state: ComplaintState, action: ComplaintAction, by: ComplaintParty) -> ComplaintState:
    """The state after ``action``: InvalidTransition when the table has no such step (naming the allowed
    actions); PermissionDenied ``complaint.party`` when ``by`` may not fire it."""
    step = complaint_transitions().get((state, action))
    if step is None:
        raise InvalidTransition(state.value, action.value, [x.value for x in allowed_actions(state)])
    target, parties = step
    if by not in parties:
        names = " or ".join(sorted(x.value for x in parties))
        raise PermissionDenied(f"only the {names} may {action.value} a complaint in state {state.value}",
                               code="complaint.party")
    return target


def _text(value: object, name: str, limit: int, *, required: bool = True) -> str:
    text = value.strip() if isinstance(value, str) else None
    if text is None or (required and not text) or len(text) > limit:
        need = "1" if required else "0"
        raise ValidationError(f"{name} must be {need}..{limit} characters", code=f"complaint.{name}", field=name)
    return text


def resolution_note(value: object) -> str:
    """A mediator's resolution note: 1..NOTE_MAX characters, stripped (ValidationError ``complaint.note``).  The
    service checks it before a refund outcome calls the gateway, so a bad note never leaves money moved there."""
    return _text(value, "note", NOTE_MAX)


def evidence_refs(refs: Iterable[str] | None) -> tuple[str, ...]:
    """Validated evidence references: at most EVIDENCE_MAX distinct opaque references (a MediaStore key such as
    ``med_...``, or the embedder's own upload id), each 1..128 characters of ``A-Z a-z 0-9 . _ : / = + -``
    starting with a letter or digit; duplicates are dropped, the order kept.  ValidationError
    ``complaint.evidence``."""
    if refs is None:
        return ()
    if isinstance(refs, (str, bytes)):
        raise ValidationError("evidence must be a list of references", code="complaint.evidence", field="evidence")
    found: list[str] = []
    for ref in refs:
        if not isinstance(ref, str) or not 1 <= len(ref) <= EVIDENCE_REF_MAX or not _EVIDENCE_REF.fullmatch(ref):
            raise ValidationError(f"malformed evidence reference {str(ref)[:40]!r}", code="complaint.evidence",
                                  field="evidence")
        if ref not in found:
            found.append(ref)
    if len(found) > EVIDENCE_MAX:
        raise ValidationError(f"at most {EVIDENCE_MAX} evidence references", code="complaint.evidence",
                              field="evidence")
    return tuple(found)


def _account_for(instance: ComplaintStep, _attribute: object, value: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValidationError("a step names who acted", code="complaint.step")


@frozen
class ComplaintStep:
    """One timeline entry: when, what, by which party and account (``system`` for the system), the states, and
    a note (the description, the answer, the resolution note; may be empty)."""

    at: Instant
    action: ComplaintAction
    party: ComplaintParty
    actor: str = field(validator=_account_for)
    from_state: ComplaintState | None
    to_state: ComplaintState
    note: str = ""


@frozen
class Resolution:
    """The outcome of a mediation: what was decided, the amount (refund or penalty; zero otherwise), by whom,
    when and why."""

    outcome: Outcome
    amount: Money
    by: AccountId | None
    at: Instant
    note: str


@frozen
class Complaint:
    """A complaint about one order; see the module docstring."""

    id: ComplaintId
    order_id: OrderId
    customer_id: AccountId
    therapist_id: AccountId
    category: ComplaintCategory
    description: str
    evidence: tuple[str, ...]
    filed_at: Instant
    answer_due: Instant
    state: ComplaintState = ComplaintState.OPEN
    answer: str | None = None
    answered_at: Instant | None = None
    mediator_id: AccountId | None = None
    resolution: Resolution | None = None
    timeline: tuple[ComplaintStep, ...] = ()
    version: int = 0

    @classmethod
    def file(cls, ident: ComplaintId, order_id: OrderId, customer_id: AccountId, therapist_id: AccountId,
             category: ComplaintCategory | str, description: str, evidence: Iterable[str] | None, now: Instant,
             answer_due: Instant) -> Complaint:
        """A new open complaint.  ValidationError ``complaint.category`` (not one of ComplaintCategory),
        ``complaint.description`` (1..2000 characters), ``complaint.evidence``."""
        try:
            kind = ComplaintCategory(category)
        except ValueError:
            raise ValidationError(f"unknown complaint category {str(category)[:30]!r}", code="complaint.category",
                                  field="category") from None
        text = _text(description, "description", DESCRIPTION_MAX)
        at = utc(now)
        step = ComplaintStep(at, ComplaintAction.FILE, ComplaintParty.CUSTOMER, customer_id, None,
                             ComplaintState.OPEN, text)
        return cls(ident, order_id, customer_id, therapist_id, kind, text, evidence_refs(evidence), at,
                   utc(answer_due), timeline=(step,))

    @property
    def is_live(self) -> bool:
        """Not resolved or withdrawn yet."""
        return self.state in LIVE_STATES

    def allowed_actions(self) -> tuple[ComplaintAction, ...]:
        return allowed_actions(self.state)

    def _step(self, action: ComplaintAction, party: ComplaintParty, actor: str, now: Instant, note: str = "",
              **changes: Any) -> Complaint:
        target = next_state(self.state, action, party)
        at = utc(now)
        step = ComplaintStep(at, action, party, actor, self.state, target, note)
        return attrs.evolve(self, state=target, timeline=self.timeline + (step,), **changes)

    def respond(self, therapist: AccountId, now: Instant, answer: str) -> Complaint:
        """The therapist complained about answers, once, before ``answer_due``.  PermissionDenied
        ``complaint.not_yours`` for another therapist, Conflict ``complaint.already_answered`` /
        ``complaint.answer_late``, ValidationError ``complaint.answer`` (1..2000 characters)."""
        next_state(self.state, ComplaintAction.RESPOND, ComplaintParty.THERAPIST)
        if therapist != self.therapist_id:
            raise PermissionDenied("this complaint is not about you", code="complaint.not_yours")
        if self.answer is not None:
            raise Conflict("the therapist already answered this complaint", code="complaint.already_answered")
        if not utc(now) < self.answer_due:
            raise Conflict("the deadline to answer this complaint has passed", code="complaint.answer_late")
        text = _text(answer, "answer", ANSWER_MAX)
        return self._step(ComplaintAction.RESPOND, ComplaintParty.THERAPIST, therapist, now, text, answer=text,
                          answered_at=utc(now))

    def take(self, admin: AccountId, now: Instant, note: str = "") -> Complaint:
        """A support admin takes the complaint into mediation (an optional note of 0..1000 characters)."""
        text = _text(note, "note", NOTE_MAX, required=False)
        return self._step(ComplaintAction.TAKE, ComplaintParty.ADMIN, admin, now, text, mediator_id=admin)

    def escalate(self, now: Instant) -> Complaint:
        """The system moves an unanswered complaint to mediation once ``answer_due`` passed (Conflict
        ``complaint.not_due`` before)."""
        next_state(self.state, ComplaintAction.ESCALATE, ComplaintParty.SYSTEM)
        if utc(now) < self.answer_due:
            raise Conflict("the therapist may still answer", code="complaint.not_due")
        return self._step(ComplaintAction.ESCALATE, ComplaintParty.SYSTEM, "system", now,
                          "no answer before the deadline")

    def resolve(self, admin: AccountId, now: Instant, outcome: Outcome, amount: Money, note: str) -> Complaint:
        """Close the mediation with ``outcome`` and a note (1..1000 characters, ValidationError
        ``complaint.note``).  ``amount`` is the refund or the penalty (positive, ValidationError
        ``complaint.amount``), zero for no_action and warning.  What the amount may be at most is the service's
        check (what is still refundable, the available balance)."""
        next_state(self.state, ComplaintAction.RESOLVE, ComplaintParty.ADMIN)
        text = _text(note, "note", NOTE_MAX)
        moves = outcome.refunds or outcome is Outcome.PENALTY
        if not isinstance(amount, Money) or (amount.fen <= 0 if moves else amount.fen != 0):
            need = "a positive amount" if moves else "no amount"
            raise ValidationError(f"a {outcome.value} outcome takes {need}", code="complaint.amount", field="amount")
        at = utc(now)
        decided = Resolution(outcome, amount, admin, at, text)
        return self._step(ComplaintAction.RESOLVE, ComplaintParty.ADMIN, admin, now, text, resolution=decided)

    def withdraw(self, customer: AccountId, now: Instant, note: str = "") -> Complaint:
        """The customer withdraws their complaint before it is resolved (PermissionDenied
        ``complaint.not_yours`` for anybody else)."""
        next_state(self.state, ComplaintAction.WITHDRAW, ComplaintParty.CUSTOMER)
        if customer != self.customer_id:
            raise PermissionDenied("this is not your complaint", code="complaint.not_yours")
        text = _text(note, "note", NOTE_MAX, required=False)
        return self._step(ComplaintAction.WITHDRAW, ComplaintParty.CUSTOMER, customer, now, text)
