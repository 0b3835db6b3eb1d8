"""The PayoutGateway port: sends a withdrawal's net amount to the therapist (decision 0033).

``send`` is idempotent by the withdrawal id: asking again for a withdrawal already sent never pays a second
time and answers what happened the first time (paid, or failed with a reason).  That is what makes a payout
run safe to repeat after a crash between the gateway's answer and our commit.
"""

from __future__ import annotations

import abc

from attrs import frozen

from massage_core.domain.ids import AccountId
from massage_core.domain.money import Money


@frozen
class PayoutResult:
    """What the provider did with one payout: ``paid`` with its ``reference``, or not with a ``reason``."""

    withdrawal_id: str
    paid: bool
    reference: str | None = None
    reason: str | None = None


class PayoutGateway(abc.ABC):
    """A payout provider (bank transfer, WeChat Pay or Alipay transfer to the therapist)."""

    @abc.abstractmethod
    def send(self, withdrawal_id: str, therapist_id: AccountId, net: Money) -> PayoutResult:
        """Pay ``net`` to the therapist for ``withdrawal_id``, once (see the module docstring).  Asking again
        with another amount or therapist raises ``Conflict`` (``payout.mismatch``)."""
