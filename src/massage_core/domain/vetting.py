"""The vetting workflow of a therapist: one explicit transition table, with who may fire each step.

::

    draft ──submit──▶ submitted ──start_review──▶ document_review ──accept_documents──▶ background_check
      rejected ──submit──▶ submitted                                                        │
    background_check ──pass_background_check──▶ skill_test ──pass_skill_test──▶ approved (certified badge)
    background_check ──fail_background_check──▶ rejected      skill_test ──fail_skill_test──▶ rejected
    submitted / document_review / background_check / skill_test ──reject──▶ rejected
    approved ──suspend_badge──▶ badge_suspended ──restore_badge──▶ approved

The owner (the therapist) submits and resubmits; every other step is fired by
a vetter (an admin allowed to vet, or the system for ``suspend_badge`` when a
certificate expires).  An action missing from the table for the current state
raises ``InvalidTransition`` naming the state, the action and the allowed actions.
"""

from __future__ import annotations

import enum

from attrs import field, frozen

from massage_core.domain.catalog import whole
from massage_core.domain.errors import InvalidTransition, PermissionDenied, ValidationError
from massage_core.domain.time import Instant


class VettingState(enum.StrEnum):
    """Where a therapist is in vetting."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    DOCUMENT_REVIEW = "document_review"
    BACKGROUND_CHECK = "background_check"
    SKILL_TEST = "skill_test"
    APPROVED = "approved"
    REJECTED = "rejected"
    BADGE_SUSPENDED = "badge_suspended"


class VettingAction(enum.StrEnum):
    """The steps of vetting."""

    SUBMIT = "submit"
    START_REVIEW = "start_review"
    ACCEPT_DOCUMENTS = "accept_documents"
    PASS_BACKGROUND_CHECK = "pass_background_check"
    FAIL_BACKGROUND_CHECK = "fail_background_check"
    PASS_SKILL_TEST = "pass_skill_test"
    FAIL_SKILL_TEST = "fail_skill_test"
    REJECT = "reject"
    SUSPEND_BADGE = "suspend_badge"
    RESTORE_BADGE = "restore_badge"


class Party(enum.StrEnum):
    """Who fires a step: the therapist who owns the profile, or a vetter (admin or system)."""

    OWNER = "owner"
    VETTER = "vetter"


def vetting_transitions() -> dict[tuple[VettingState, VettingAction], tuple[VettingState, Party]]:
    """The whole workflow: (state, action) -> (next state, who may fire it)."""
    s, a, owner, vetter = VettingState, VettingAction, Party.OWNER, Party.VETTER
    table = {
        (s.DRAFT, a.SUBMIT): (s.SUBMITTED, owner),
        (s.REJECTED, a.SUBMIT): (s.SUBMITTED, owner),
        (s.SUBMITTED, a.START_REVIEW): (s.DOCUMENT_REVIEW, vetter),
        (s.DOCUMENT_REVIEW, a.ACCEPT_DOCUMENTS): (s.BACKGROUND_CHECK, vetter),
        (s.BACKGROUND_CHECK, a.PASS_BACKGROUND_CHECK): (s.SKILL_TEST, vetter),
        (s.BACKGROUND_CHECK, a.FAIL_BACKGROUND_CHECK): (s.REJECTED, vetter),
        (s.SKILL_TEST, a.PASS_SKILL_TEST): (s.APPROVED, vetter),
        (s.SKILL_TEST, a.FAIL_SKILL_TEST): (s.REJECTED, vetter),
        (s.APPROVED, a.SUSPEND_BADGE): (s.BADGE_SUSPENDED, vetter),
        (s.BADGE_SUSPENDED, a.RESTORE_BADGE): (s.APPROVED, vetter),
    }
    for under_review in (s.SUBMITTED, s.DOCUMENT_REVIEW, s.BACKGROUND_CHECK, s.SKILL_TEST):
        table[(under_review, a.REJECT)] = (s.REJECTED, vetter)
    return table


def allowed_actions(state: VettingState) -> tuple[VettingAction, ...]:
    """The actions the table allows in ``state``, in declaration order."""
    return tuple(action for (source, action) in vetting_transitions() if source is state)


def next_state(state: VettingState, action: VettingAction, by: Party) -> VettingState:
    """The state after ``action``; InvalidTransition when the table has no such step, PermissionDenied
    (``vetting.party``) when ``by`` may not fire it."""
    step = vetting_transitions().get((state, action))
    if step is None:
        raise InvalidTransition(state.value, action.value, [a.value for a in allowed_actions(state)])
    target, party = step
    if party is not by:
        raise PermissionDenied(f"only the {party.value} may {action.value}", code="vetting.party")
    return target


REVIEW_STATES = frozenset({VettingState.SUBMITTED, VettingState.DOCUMENT_REVIEW, VettingState.BACKGROUND_CHECK,
                           VettingState.SKILL_TEST})
"""States in which the documents are being looked at: identity and certificates are locked."""


class BackgroundOutcome(enum.StrEnum):
    """What a background check found."""

    CLEAR = "clear"
    FLAGGED = "flagged"


def _score(value: object) -> int:
    return whole(value, "score", "skill_test.score", 0, 100)


def _pass_mark(value: object) -> int:
    return whole(value, "pass_mark", "skill_test.pass_mark", 1, 100)


@frozen
class SkillTest:
    """A practical test: who examined, the score (0..100) and the pass mark (1..100)."""

    examiner: str
    score: int = field(converter=_score)
    pass_mark: int = field(converter=_pass_mark)

    @property
    def passed(self) -> bool:
        return self.score >= self.pass_mark


def reasons(values: object) -> tuple[str, ...]:
    """1..10 rejection reasons of 1..200 characters each."""
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, (list, tuple)):
        raise ValidationError("reasons must be a list of text", code="vetting.reasons", field="reasons")
    result = []
    for raw in values:
        if not isinstance(raw, str) or not 1 <= len(raw.strip()) <= 200:
            raise ValidationError("each reason must be 1..200 characters", code="vetting.reasons",
                                  field="reasons")
        result.append(raw.strip())
    if not 1 <= len(result) <= 10:
        raise ValidationError("a rejection needs 1..10 reasons", code="vetting.reasons", field="reasons")
    return tuple(result)


@frozen
class VettingStep:
    """One step taken: when, what, by whom, from which state to which, and a note (reasons, results)."""

    at: Instant
    action: VettingAction
    actor: str
    from_state: VettingState
    to_state: VettingState
    note: str = ""
