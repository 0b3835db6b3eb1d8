"""Builders for the notification cells of the access matrix (``test_access_matrix.MATRIX``; decision 0041).

``retry`` needs a dead message: one is written for the other customer through the outbox writer and parked
dead through the repository; ``mark_read`` names an item of the actor's own inbox (when it has one) and one
of another person's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from massage_core.domain.access import Actor
from massage_core.domain.ids import AccountId
from massage_core.domain.notifications import Category
from massage_core.domain.outbox import RetryPolicy
from massage_core.services.notify import Note, enqueue

Call = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]
SYSTEM = Actor.system()
MANAGERS = ("superadmin", "system")
"""Who holds ``outbox.manage``."""


def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Call:
    return fn, args, kwargs


def _written(c: Any, who: str, key: str = "order:m1:finished") -> list[str]:
    with c.p.deps.uow() as uow:
        enqueue(uow, c.p.deps, Note("order.finished", key, (AccountId(who),), {"order": "m1"}, Category.ORDERS),
                c.p.deps.clock.now())
        uow.commit()
        return [m.id for m in uow.outbox.list() if m.recipient == who]


def dispatch(c: Any) -> Call:
    _written(c, c.other.account_id)
    return _call(c.p.notifications.dispatch, c.actor)


def retry(c: Any) -> Call:
    ident = _written(c, c.other.account_id)[0]
    with c.p.deps.uow() as uow:
        uow.outbox.save(uow.outbox.get(ident).failed("down", c.p.deps.clock.now(), RetryPolicy(max_attempts=1)))
        uow.commit()
    return _call(c.p.notifications.retry, c.actor, ident)


def outbox(c: Any) -> Call:
    _written(c, c.other.account_id)
    return _call(c.p.notifications.outbox, c.actor, "pending")


def counts(c: Any) -> Call:
    return _call(c.p.notifications.counts, c.actor)


def inbox(c: Any) -> Call:
    return _call(c.p.notifications.inbox, c.actor)


def unread_count(c: Any) -> Call:
    return _call(c.p.notifications.unread_count, c.actor)


def mark_read(c: Any) -> Call:
    ids = _written(c, c.other.account_id)
    if c.me is not None:
        ids += _written(c, c.me.account_id, "order:m2:finished")
    c.p.notifications.dispatch(SYSTEM)
    return _call(c.p.notifications.mark_read, c.actor, ids)


def preferences(c: Any) -> Call:
    return _call(c.p.notifications.preferences, c.actor)


def set_preferences(c: Any) -> Call:
    return _call(c.p.notifications.set_preferences, c.actor, channels={"promotions": []}, quiet_hours="22:00-07:00",
                 locale="en")
