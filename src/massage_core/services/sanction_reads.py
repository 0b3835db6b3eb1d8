"""Reading sanctions (the base of ``platform.sanctions``; decision 0039): the therapist's own (``mine``,
``get``), a therapist's for staff with ``sanctions.read`` (``of_therapist``, ``get``, audited when staff read
another person's) and every sanction or the appeal queue (``list``).  Another therapist's sanction looks
exactly like a missing one.
"""

from __future__ import annotations

from collections.abc import Sequence

from attrs import frozen

from massage_core.domain.access import Actor, Permission
from massage_core.domain.errors import NotFound, ValidationError
from massage_core.domain.ids import AccountId, account_id
from massage_core.domain.money import Money
from massage_core.domain.sanctions import AppealState, Sanction, sanction_id
from massage_core.domain.time import Instant
from massage_core.ports.sanctions import PAGE
from massage_core.services.base import Service, not_found, page_bounds


@frozen
class SanctionView:
    """A sanction as its reader may see it: the admins' ids only for staff (None for the therapist)."""

    id: str
    therapist_id: str
    kind: str
    reason: str
    imposed_at: Instant
    amount: Money | None
    ends_at: Instant | None
    state: str
    ended_at: Instant | None
    appeal_deadline: Instant
    appeal_state: str | None
    appeal_text: str | None
    appeal_filed_at: Instant | None
    decision_reason: str | None
    decided_at: Instant | None
    imposed_by: str | None
    decided_by: str | None

    @classmethod
    def of(cls, s: Sanction, window_days: int, *, staff: bool) -> SanctionView:
        a = s.appeal
        return cls(s.id, s.therapist_id, s.kind.value, s.reason, s.imposed_at, s.amount, s.ends_at, s.state.value,
                   s.ended_at, s.appeal_deadline(window_days), a.state.value if a else None, a.text if a else None,
                   a.filed_at if a else None, (a.decision_reason or None) if a else None,
                   a.decided_at if a else None, (s.imposed_by or "system") if staff else None,
                   (a.decided_by if a else None) if staff else None)


def _appeal_state(value: AppealState | str | None) -> AppealState | None:
    if value is None or isinstance(value, AppealState):
        return value
    try:
        return AppealState(value)
    except ValueError:
        raise ValidationError("appeal must be pending, upheld or rejected", code="appeal.state",
                              field="appeal") from None


class SanctionReads(Service):
    """The read side of ``platform.sanctions``; ``SanctionsService`` adds the changes."""

    @property
    def _window(self) -> int:
        return self._deps.policies.appeal_window_days

    def _view(self, sanction: Sanction, staff: bool) -> SanctionView:
        return SanctionView.of(sanction, self._window, staff=staff)

    def mine(self, actor: Actor, *, offset: int = 0, limit: int = PAGE) -> Sequence[SanctionView]:
        """The acting therapist's sanctions and appeal outcomes, newest first.  Raises PermissionDenied,
        ValidationError ``actor.no_account``, ``page.*``."""
        page_bounds(offset, limit)
        self._require(actor, Permission.OWN_SANCTIONS_MANAGE, "sanctions.mine", actor.label)
        if actor.account_id is None:
            raise ValidationError("the system has no account of its own", code="actor.no_account")
        with self._uow() as uow:
            found = uow.sanctions.for_therapist(AccountId(actor.account_id), offset=offset, limit=limit)
            return [self._view(s, False) for s in found]

    def of_therapist(self, actor: Actor, therapist: str, *, offset: int = 0,
                     limit: int = PAGE) -> Sequence[SanctionView]:
        """``therapist``'s sanctions, newest first: staff with ``sanctions.read`` (an audited read), or the
        therapist themselves; another therapist's look like a missing therapist (NotFound).  Raises
        PermissionDenied, ValidationError ``invalid_id``, ``page.*``."""
        target = account_id(therapist)
        page_bounds(offset, limit)
        with self._guard(actor, "sanctions.of_therapist", target):
            staff = self._reader(actor, target, "sanctions.of_therapist")
            with self._uow() as uow:
                found = [self._view(s, staff) for s in uow.sanctions.for_therapist(target, offset=offset,
                                                                                   limit=limit)]
                if staff and not actor.is_system:
                    self._audit_ok(uow, actor, "sanctions.of_therapist", target, self._now())
                    uow.commit()
                return found

    def get(self, actor: Actor, sanction: str) -> SanctionView:
        """One sanction: for staff with ``sanctions.read`` (audited when they read another person's) or its
        therapist; NotFound for anybody else."""
        target = sanction_id(sanction)
        staff = actor.may(Permission.SANCTIONS_READ)
        if not staff:
            self._require(actor, Permission.OWN_SANCTIONS_MANAGE, "sanctions.get", target)
        with self._guard(actor, "sanctions.get", target), self._uow() as uow:
            if staff:
                read = uow.sanctions.get(target)
                if not actor.is_system and not actor.owns(read.therapist_id):
                    self._audit_ok(uow, actor, "sanctions.get", target, self._now(), therapist=read.therapist_id)
                    uow.commit()
                return self._view(read, True)
            try:
                found: Sanction | None = uow.sanctions.get(target)
            except NotFound:
                found = None
            if found is None or not actor.owns(found.therapist_id):
                raise not_found("sanction", target)
            return self._view(found, False)

    def list(self, actor: Actor, *, appeal: AppealState | str | None = None, offset: int = 0,
             limit: int = PAGE) -> Sequence[SanctionView]:
        """Every sanction, newest first; ``appeal="pending"``: the appeal queue, oldest appeal first.  Raises
        PermissionDenied without ``sanctions.read``, ValidationError ``appeal.state``, ``page.*``."""
        wanted = _appeal_state(appeal)
        page_bounds(offset, limit)
        self._require(actor, Permission.SANCTIONS_READ, "sanctions.list", "sanctions")
        with self._uow() as uow:
            return [self._view(s, True) for s in uow.sanctions.list(appeal=wanted, offset=offset, limit=limit)]

    def _reader(self, actor: Actor, target: AccountId, action: str) -> bool:
        """True for staff (``sanctions.read``), False for the therapist themselves; else a denial."""
        if actor.may(Permission.SANCTIONS_READ):
            return True
        self._require(actor, Permission.OWN_SANCTIONS_MANAGE, action, target)
        if not actor.owns(target):
            raise not_found("therapist", target)
        return False
