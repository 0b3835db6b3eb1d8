"""Channel adapters (``Notifier``): deliver one rendered outbox message to the outside world.

A notifier is given the message's dedupe key and must make a second delivery of the same key invisible
to the recipient where the channel allows it (the SMTP Message-ID, the SMS and push providers' request
ids).  It raises ``DeliveryFailed`` with a short reason when the channel refused or could not be reached;
the dispatcher then retries with backoff.
"""

from __future__ import annotations

import abc

from massage_core.domain.errors import MassageError
from massage_core.domain.notifications import Channel
from massage_core.domain.outbox import OutboxMessage


class DeliveryFailed(MassageError):
    """A channel could not deliver a message (retried later)."""

    code = "notification.delivery"


class Notifier(abc.ABC):
    """Delivers messages of one channel."""

    channel: Channel

    @abc.abstractmethod
    def send(self, message: OutboxMessage, address: str) -> None:
        """Deliver ``message`` to ``address`` (an e-mail address, a phone number, a device token);
        DeliveryFailed when it could not be delivered."""
