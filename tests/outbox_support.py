"""Helpers for the outbox tests (unit and SQL): notes to enqueue, notifiers that record or die."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from massage_core.bootstrap import Platform
from massage_core.domain.ids import AccountId
from massage_core.domain.notifications import Category, Channel, Urgency
from massage_core.domain.outbox import OutboxMessage
from massage_core.ports.notifiers import Notifier
from massage_core.services.notify import Note, enqueue


def finished(order: str, recipients: Sequence[str], *, category: Category = Category.ORDERS,
             urgency: Urgency = Urgency.NORMAL) -> Note:
    """An ``order.finished`` note for ``recipients`` keyed ``order:<order>:finished``."""
    return Note("order.finished", f"order:{order}:finished", tuple(AccountId(r) for r in recipients),
                {"order": order}, category, urgency)


def write(platform: Platform, note: Note, *, commit: bool = True) -> int:
    """Enqueue ``note`` in a unit of work of its own (committed unless told otherwise)."""
    with platform.deps.uow() as uow:
        written = enqueue(uow, platform.deps, note, platform.deps.clock.now())
        if commit:
            uow.commit()
    return written


class Recording(Notifier):
    """Records every send (thread-safe); what the recipient sees is one message per dedupe key."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self._lock = threading.Lock()
        self.sends: list[tuple[str, str]] = []

    def send(self, message: OutboxMessage, address: str) -> None:
        with self._lock:
            self.sends.append((message.dedupe_key, address))

    @property
    def keys(self) -> list[str]:
        """Dedupe keys sent, one entry per send."""
        with self._lock:
            return [key for key, _ in self.sends]

    def visible(self) -> set[str]:
        """What the recipients see: each dedupe key once."""
        return set(self.keys)


class Killed(BaseException):
    """The dispatcher process dying (like KeyboardInterrupt or SIGKILL between two statements)."""


class DiesAfterSending(Notifier):
    """Sends through ``inner``, then kills the dispatcher before it can mark the message sent (once)."""

    def __init__(self, inner: Notifier) -> None:
        self.channel = inner.channel
        self.inner = inner
        self.armed = True

    def send(self, message: OutboxMessage, address: str) -> None:
        self.inner.send(message, address)
        if self.armed:
            self.armed = False
            raise Killed()
