"""What money, vetting, reviews, complaints and sanctions tell people (issue 7, decision 0043).

Each function is called by its use case inside the unit of work that makes the change, before the commit, with
the object as it is saved; the business key names the object and the state it reached, so a retried or
replayed use case writes nothing twice (the outbox ignores a dedupe key it holds).

* withdrawals: approved / paid / failed / rejected -> the therapist (money; ``withdrawal:<id>:<state>``);
* vetting: approved / rejected -> the therapist (account; ``vetting:<therapist>:<state>:<step>``);
* certificates: about to expire (``Policies.certificate_notice_days``) -> the therapist (account;
  ``certificate:<therapist>:<digest of issuer, number, last day>``), from the daily badge sweep;
* reviews: a moderator approved (or masked) / rejected a review -> its customer, a reply -> its therapist
  (reviews; ``review:<id>:<part>:<state>``);
* complaints: each step -> the party that has to know (orders; ``complaint:<id>:<state>:<step>``): filed -> the
  therapist (answer by the deadline), answered -> the customer, mediation and resolution -> both, withdrawn ->
  the therapist;
* sanctions: imposed -> the therapist, with the appeal window; appeal decided -> the therapist (account;
  ``sanction:<id>:imposed``, ``sanction:<id>:appeal``).

No value carries a phone number, an address or an ID number; reasons are the ones the recipient is meant to read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from massage_core.domain.complaints import Complaint, ComplaintState
from massage_core.domain.ids import AccountId
from massage_core.domain.notifications import Category, Urgency
from massage_core.domain.reviews import ModerationState, Review
from massage_core.domain.sanctions import AppealState, Sanction
from massage_core.domain.templates import Value
from massage_core.domain.therapist_values import Certificate
from massage_core.domain.therapists import TherapistProfile
from massage_core.domain.time import Instant
from massage_core.domain.vetting import VettingState
from massage_core.domain.withdrawals import Withdrawal, WithdrawalState
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.base import Dependencies
from massage_core.services.notify import Note, enqueue

W = WithdrawalState


def notify_withdrawal(uow: UnitOfWork, deps: Dependencies, withdrawal: Withdrawal, now: Instant) -> int:
    """The therapist hears that their withdrawal was approved, paid, failed or rejected."""
    values: dict[str, Value] = {"amount": withdrawal.amount}
    if withdrawal.state is W.PAID:
        values["net"] = withdrawal.net
    elif withdrawal.state is W.REJECTED:
        values["reason"] = withdrawal.reason or "-"
    elif withdrawal.state not in (W.APPROVED, W.FAILED):
        return 0
    state = withdrawal.state.value
    return enqueue(uow, deps, Note(f"withdrawal.{state}", f"withdrawal:{withdrawal.id}:{state}",
                                   (withdrawal.therapist_id,), values, Category.MONEY), now)


def notify_vetting(uow: UnitOfWork, deps: Dependencies, before: TherapistProfile, after: TherapistProfile,
                   now: Instant) -> int:
    """The therapist hears the vetting outcome: approved (after the skill test) or rejected, with the reasons."""
    if after.state is before.state:
        return 0
    if after.state is VettingState.APPROVED and before.state is VettingState.SKILL_TEST:
        values: dict[str, Value] = {}
    elif after.state is VettingState.REJECTED:
        values = {"reasons": "; ".join(after.rejection_reasons) or "-"}
    else:
        return 0
    state = after.state.value
    return enqueue(uow, deps, Note(f"vetting.{state}", f"vetting:{after.id}:{state}:{len(after.history)}",
                                   (after.id,), values, Category.ACCOUNT), now)


def _certificate_key(therapist: AccountId, certificate: Certificate) -> str:
    digest = hashlib.sha256(f"{certificate.issuer}|{certificate.number}|{certificate.expires_on}".encode())
    return f"certificate:{therapist}:{digest.hexdigest()[:16]}"


def notify_expiring_certificates(uow: UnitOfWork, deps: Dependencies, profiles: Sequence[TherapistProfile],
                                 now: Instant) -> int:
    """Tell each approved therapist about each certificate whose last valid day is within the policy's notice
    days of their own today (not yet expired); once per certificate and last day."""
    days = deps.policies.certificate_notice_days
    written = 0
    for profile in profiles:
        if profile.state is not VettingState.APPROVED:
            continue
        today = profile.today(now)
        for certificate in profile.certificates:
            if certificate.expired(today) or (certificate.expires_on - today).days > days:
                continue
            note = Note("certificate.expiring", _certificate_key(profile.id, certificate), (profile.id,),
                        {"certificate": certificate.number, "expires_on": certificate.expires_on.isoformat()},
                        Category.ACCOUNT)
            written += enqueue(uow, deps, note, now)
    return written


def notify_review(uow: UnitOfWork, deps: Dependencies, review: Review, reply: bool, now: Instant) -> int:
    """The author hears a moderator's decision: the customer for a review, the therapist for a reply."""
    moderation = review.reply.moderation if reply and review.reply is not None else review.moderation
    values: dict[str, Value] = {"order": review.order_id}
    if moderation.approved:
        state = "published"
    elif moderation.state is ModerationState.REJECTED:
        state, values["reason"] = "rejected", moderation.reason or "-"
    else:
        return 0
    part = "reply" if reply else "review"
    author = review.therapist_id if reply else review.customer_id
    return enqueue(uow, deps, Note(f"{part}.{state}", f"review:{review.id}:{part}:{state}", (author,), values,
                                   Category.REVIEWS), now)


C = ComplaintState
COMPLAINT_EVENTS = {C.OPEN: "complaint.filed", C.THERAPIST_RESPONDED: "complaint.answered",
                    C.UNDER_MEDIATION: "complaint.mediation", C.RESOLVED: "complaint.resolved",
                    C.WITHDRAWN: "complaint.withdrawn"}


def notify_complaint(uow: UnitOfWork, deps: Dependencies, complaint: Complaint, now: Instant) -> int:
    """The parties hear the step the complaint reached (see the module docstring)."""
    state = complaint.state
    if state is C.OPEN:
        recipients: tuple[AccountId, ...] = (complaint.therapist_id,)
    elif state is C.THERAPIST_RESPONDED:
        recipients = (complaint.customer_id,)
    elif state is C.WITHDRAWN:
        recipients = (complaint.therapist_id,)
    else:
        recipients = (complaint.customer_id, complaint.therapist_id)
    values: dict[str, Value] = {"complaint": complaint.id, "order": complaint.order_id}
    if state is C.OPEN:
        values["due"] = complaint.answer_due
    key = f"complaint:{complaint.id}:{state.value}:{len(complaint.timeline)}"
    return enqueue(uow, deps, Note(COMPLAINT_EVENTS[state], key, recipients, values, Category.ORDERS), now)


def notify_sanction(uow: UnitOfWork, deps: Dependencies, sanction: Sanction, now: Instant) -> int:
    """The therapist hears a sanction imposed (with the appeal window) or their appeal decided."""
    if sanction.appeal is not None and sanction.appeal.state is not AppealState.PENDING:
        upheld = sanction.appeal.state is AppealState.UPHELD
        values: dict[str, Value] = {"sanction": sanction.id}
        if not upheld:
            values["reason"] = sanction.appeal.decision_reason or "-"
        event = "appeal.upheld" if upheld else "appeal.rejected"
        return enqueue(uow, deps, Note(event, f"sanction:{sanction.id}:appeal", (sanction.therapist_id,), values,
                                       Category.ACCOUNT), now)
    values = {"reason": sanction.reason, "days": deps.policies.appeal_window_days}
    if sanction.amount is not None:
        values["amount"] = sanction.amount
    return enqueue(uow, deps, Note(f"sanction.{sanction.kind.value}", f"sanction:{sanction.id}:imposed",
                                   (sanction.therapist_id,), values, Category.ACCOUNT, Urgency.NORMAL), now)
