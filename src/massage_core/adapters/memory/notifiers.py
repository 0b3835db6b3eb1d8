"""Sandbox SMS and push providers: they record what they delivered instead of sending it.

They behave like a real provider where the dispatcher can tell the difference: the address must have the
right shape (an E.164 phone number; an account id for push, which reaches every device of the account),
a second request with the same dedupe key for the same address is accepted but shown once (the providers'
idempotency by request id), and a provider can be told to fail for an address -- a number of times or until told to
recover -- so retries and dead messages can be tested.  Thread-safe: several dispatchers may share one.
"""

from __future__ import annotations

import abc
import threading
from collections import defaultdict

from attrs import frozen

from massage_core.domain.contact import PhoneNumber
from massage_core.domain.errors import ValidationError
from massage_core.domain.ids import account_id
from massage_core.domain.notifications import Channel
from massage_core.domain.outbox import OutboxMessage
from massage_core.domain.time import Instant
from massage_core.ports.notifiers import DeliveryFailed, Notifier

ALWAYS = -1
"""``fail(address, times=ALWAYS)``: fail until ``recover(address)``."""


@frozen
class Delivery:
    """One message as the recipient sees it."""

    address: str
    dedupe_key: str
    subject: str
    body: str
    created_at: Instant


class _SandboxNotifier(Notifier):
    """Records deliveries per address; see the module docstring."""

    def __init__(self) -> None:
        """Start with nothing delivered and no failures planned."""
        self._lock = threading.Lock()
        self._delivered: dict[str, list[Delivery]] = defaultdict(list)
        self._keys: set[tuple[str, str]] = set()
        self._failures: dict[str, int] = {}
        self._attempts: dict[str, int] = defaultdict(int)

    def send(self, message: OutboxMessage, address: str) -> None:
        """Record ``message`` for ``address`` once per dedupe key; DeliveryFailed for a message of another
        channel, a malformed address, or a failure planned with ``fail``."""
        if message.channel is not self.channel:
            raise DeliveryFailed(f"a {message.channel} message cannot go by {self.channel}",
                                 code="notification.channel")
        try:
            where = self._address(address)
        except ValidationError:
            raise DeliveryFailed(f"not a valid {self.channel} address", code="notification.address") from None
        with self._lock:
            self._attempts[where] += 1
            planned = self._failures.get(where, 0)
            if planned:
                if planned > 0:
                    self._failures[where] = planned - 1
                raise DeliveryFailed(f"the {self.channel} provider is unavailable (sandbox)")
            if (where, message.dedupe_key) in self._keys:
                return
            self._keys.add((where, message.dedupe_key))
            self._delivered[where].append(
                Delivery(where, message.dedupe_key, message.subject, message.body, message.created_at))

    def delivered(self, address: str) -> list[Delivery]:
        """What ``address`` received, each message once, oldest first (ValidationError if malformed)."""
        where = self._address(address)
        with self._lock:
            return list(self._delivered.get(where, ()))

    def attempts(self, address: str) -> int:
        """How many sends to ``address`` were asked for: failed, duplicate and delivered."""
        where = self._address(address)
        with self._lock:
            return self._attempts.get(where, 0)

    def fail(self, address: str, times: int = ALWAYS) -> None:
        """Make the next ``times`` sends to ``address`` fail (``ALWAYS``: until ``recover``)."""
        if isinstance(times, bool) or not isinstance(times, int) or (times < 1 and times != ALWAYS):
            raise ValidationError("times must be a positive whole number or ALWAYS", code="sandbox.times")
        where = self._address(address)
        with self._lock:
            self._failures[where] = times

    def recover(self, address: str) -> None:
        """Cancel the failures planned for ``address``."""
        where = self._address(address)
        with self._lock:
            self._failures.pop(where, None)

    @abc.abstractmethod
    def _address(self, address: str) -> str:
        """The canonical form of ``address``; ValidationError when it has the wrong shape."""


class SandboxSmsNotifier(_SandboxNotifier):
    """The ``sms`` channel; addresses are phone numbers in E.164 form (``+8613800138000``)."""

    channel = Channel.SMS

    def _address(self, address: str) -> str:
        if not isinstance(address, str) or not address.startswith("+"):
            raise ValidationError("an SMS address is an E.164 phone number", code="phone.invalid", field="phone")
        phone = PhoneNumber.parse(address)
        if phone.e164 != address:
            raise ValidationError("an SMS address is an E.164 phone number", code="phone.invalid", field="phone")
        return phone.e164


class SandboxPushNotifier(_SandboxNotifier):
    """The ``push`` channel; addresses are account ids (the provider reaches the account's devices)."""

    channel = Channel.PUSH

    def _address(self, address: str) -> str:
        return account_id(address)
