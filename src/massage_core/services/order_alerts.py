"""The SOS alert queue (C8/T5): every SOS a therapist raised during a visit, for support to act on at once.

An SOS keeps the order's state, adds a timeline step (with the therapist's note, encrypted at rest), emits
``SosRaised`` and is audited (``orders.sos``).  This read turns the recent ones into alerts, the most recent
first; an alert is *open* while its visit is still under way (departed, arrived or in service).  Delivering the
alert to on-duty support is ``_alert_support``: the SOS's unit of work also writes an urgent ``sos.alert`` to every
support admin on duty (or every support admin when nobody is; ``services.duty``, decision 0044).
"""

from __future__ import annotations

import datetime as dt

from attrs import frozen

from massage_core.domain.access import Actor, Permission
from massage_core.domain.errors import ValidationError
from massage_core.domain.ids import AccountId
from massage_core.domain.order_states import VISIT_STATES, OrderAction, OrderId, OrderState
from massage_core.domain.orders import Order
from massage_core.domain.time import Instant
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.duty import notify_sos
from massage_core.services.order_payments import OrderFlows


@frozen
class SosAlert:
    """One SOS: the order, the therapist who raised it, when, their note, the order's state now, and whether
    the visit is still under way (``open``)."""

    order_id: OrderId
    therapist_id: AccountId | None
    at: Instant
    note: str
    state: OrderState
    open: bool


class OrderAlerts(OrderFlows):
    """``platform.orders.sos_alerts``."""

    def _alert_support(self, uow: UnitOfWork, before: Order, changed: Order, now: Instant) -> Order:
        """After an SOS step: the urgent message to support, in the SOS's own unit of work."""
        notify_sos(uow, self._deps, changed, now)
        return changed

    def sos_alerts(self, actor: Actor, *, hours: int = 24, open_only: bool = False,
                   limit: int = 50) -> tuple[SosAlert, ...]:
        """The SOS alerts of the last ``hours`` (1..720), most recent first; only open ones with ``open_only``
        (``orders.read``: support, superadmin, system).  Raises PermissionDenied (audited), ValidationError
        ``orders.hours``, ``page.limit``."""
        self._require(actor, Permission.ORDERS_READ, "orders.sos_alerts", "orders")
        if isinstance(hours, bool) or not isinstance(hours, int) or not 1 <= hours <= 720:
            raise ValidationError("hours must be 1..720", code="orders.hours", field="hours")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 200:
            raise ValidationError("limit must be 1..200", code="page.limit", field="limit")
        since = self._now() - dt.timedelta(hours=hours)
        alerts: list[SosAlert] = []
        with self._uow() as uow:
            for order in uow.orders.with_sos(since, limit=limit if not open_only else 200):
                active = order.state in VISIT_STATES
                if open_only and not active:
                    continue
                alerts += [SosAlert(order.id, AccountId(s.actor), s.at, s.note, order.state, active)
                           for s in reversed(order.timeline) if s.action is OrderAction.SOS and s.at >= since]
        alerts.sort(key=lambda a: (a.at, a.order_id), reverse=True)
        return tuple(alerts[:limit])
