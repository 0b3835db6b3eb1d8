"""A sandbox SMS sender that records messages instead of sending them."""

from __future__ import annotations

import threading
from collections.abc import Iterable

from attrs import frozen

from massage_core.domain.contact import PhoneNumber
from massage_core.domain.errors import MassageError
from massage_core.ports.identity import OneTimeCodeSender


@frozen
class SentMessage:
    """One recorded one-time-code message."""

    phone: PhoneNumber
    code: str
    purpose: str


class SandboxCodeSender(OneTimeCodeSender):
    """Records every message in ``sent``; fails for numbers listed in ``fail_for`` (E.164)."""

    def __init__(self, fail_for: Iterable[str] | None = None) -> None:
        """Start with no messages; ``send`` to any E.164 number in ``fail_for`` raises ``sms.failed``."""
        self.sent: list[SentMessage] = []
        self.fail_for: set[str] = set(fail_for or ())
        self._lock = threading.Lock()

    def send(self, phone: PhoneNumber, code: str, purpose: str) -> None:
        """Record the message, or raise MassageError(code="sms.failed") for a number set to fail."""
        if phone.e164 in self.fail_for:
            raise MassageError(f"the SMS provider refused to deliver to {phone.e164}", code="sms.failed")
        with self._lock:
            self.sent.append(SentMessage(phone, code, purpose))

    def last_code_for(self, phone: PhoneNumber) -> str | None:
        """The most recent code sent to ``phone``, or None when none was."""
        with self._lock:
            for message in reversed(self.sent):
                if message.phone == phone:
                    return message.code
        return None

    def messages_for(self, phone: PhoneNumber) -> list[SentMessage]:
        """Every message sent to ``phone``, oldest first."""
        with self._lock:
            return [message for message in self.sent if message.phone == phone]
