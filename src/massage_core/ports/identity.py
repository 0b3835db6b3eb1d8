"""Third-party login (WeChat, Alipay) and SMS one-time codes."""

from __future__ import annotations

import abc

from massage_core.domain.accounts import ExternalIdentity, Provider
from massage_core.domain.contact import PhoneNumber


class IdentityProvider(abc.ABC):
    """Turns an authorisation code from WeChat or Alipay into the account it vouches for."""

    @abc.abstractmethod
    def verify(self, provider: Provider, authorization_code: str) -> ExternalIdentity:
        """Return the identity the code was issued for.

        Raises ``AuthenticationFailed`` when the code is forged, expired,
        already used, or was issued by another provider.
        """


class OneTimeCodeSender(abc.ABC):
    """Delivers one-time login codes by SMS."""

    @abc.abstractmethod
    def send(self, phone: PhoneNumber, code: str, purpose: str) -> None:
        """Send ``code`` to ``phone``. Raises ``MassageError`` (code ``sms.failed``) when the provider refuses."""
