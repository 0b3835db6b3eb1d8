"""Who answers an SOS (``platform.duty``, issue 7; decision 0044).

Support staff (admins with the ``support`` or ``superadmin`` sub-role: the roles that may act on an order)
go on and off duty themselves (``support.duty``; audited ``duty.set``).  ``notify_sos`` writes the SOS
message -- template ``sos.alert``, category ``safety`` (every channel), urgent (quiet hours do not hold it),
key ``sos:<order>:<n>`` (the n-th SOS of the order, so a replay writes nothing new) -- to every support
admin on duty, or to every support admin when nobody is on duty: an SOS is never dropped.
"""

from __future__ import annotations

from attrs import frozen

from massage_core.domain.access import Actor, AdminRole, Permission
from massage_core.domain.announcements import StaffMember
from massage_core.domain.errors import ValidationError
from massage_core.domain.ids import AccountId
from massage_core.domain.notifications import Category, Urgency
from massage_core.domain.order_states import OrderAction
from massage_core.domain.orders import Order
from massage_core.domain.time import Instant
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.base import Dependencies, Service
from massage_core.services.notify import Note, enqueue

SUPPORT_STAFF = frozenset({AdminRole.SUPPORT, AdminRole.SUPERADMIN})


@frozen
class Duty:
    """An admin's duty after a change: whether they are on duty and whether the call changed it."""

    account_id: AccountId
    on_duty: bool
    changed: bool


def sos_recipients(uow: UnitOfWork) -> tuple[AccountId, ...]:
    """The support admins on duty, or every support admin when nobody is on duty."""
    staff = uow.duty.staff(SUPPORT_STAFF)
    on_duty = tuple(s.account_id for s in staff if s.on_duty)
    return on_duty or tuple(s.account_id for s in staff)


def notify_sos(uow: UnitOfWork, deps: Dependencies, order: Order, now: Instant) -> int:
    """Write the urgent SOS message of the order's latest SOS in ``uow``; returns how many messages were new
    (a replay of the same SOS: 0)."""
    raised = [s for s in order.timeline if s.action is OrderAction.SOS]
    if not raised:
        return 0
    note = Note("sos.alert", f"sos:{order.id}:{len(raised)}", sos_recipients(uow),
                {"order": str(order.id), "at": raised[-1].at}, Category.SAFETY, Urgency.URGENT)
    return enqueue(uow, deps, note, now)


class DutyService(Service):
    """``platform.duty``: see the module docstring."""

    def set_on_duty(self, actor: Actor, on: bool) -> Duty:
        """Put the acting support admin on (``on=True``) or off duty; audited ``duty.set`` when it changes.
        Raises PermissionDenied (audited) without ``support.duty``; ValidationError ``actor.no_account`` for
        the system, ``duty.on`` unless ``on`` is a bool."""
        self._require(actor, Permission.SUPPORT_DUTY, "duty.set", "duty")
        if not isinstance(on, bool):
            raise ValidationError("on must be true or false", code="duty.on", field="on")
        if actor.account_id is None:
            raise ValidationError("the system cannot be on duty", code="actor.no_account")
        now = self._now()
        with self._uow() as uow:
            changed = uow.duty.set(actor.account_id, on, now)
            if changed:
                self._audit_ok(uow, actor, "duty.set", actor.account_id, now, on=str(on).lower())
            uow.commit()
        return Duty(actor.account_id, on, changed)

    def roster(self, actor: Actor) -> tuple[StaffMember, ...]:
        """Every active support admin with their duty flag, by account id (``support.duty``).  Raises
        PermissionDenied (audited)."""
        self._require(actor, Permission.SUPPORT_DUTY, "duty.roster", "duty")
        with self._uow() as uow:
            return tuple(uow.duty.staff(SUPPORT_STAFF))
