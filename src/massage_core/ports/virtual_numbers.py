"""The VirtualNumbers port: a telephony provider's masked number pairs for order calls (decision 0045).

The provider binds a virtual number to two real phones (the customer's and the therapist's): either of them
dials the virtual number and reaches the other, and neither learns the other's real number.  A binding lives
until its expiry or until it is released.  Real providers (Aliyun / Tencent privacy numbers, operators' AXB
services) sit behind this port; ``adapters.memory.virtual_numbers.SandboxVirtualNumbers`` is the sandbox.
"""

from __future__ import annotations

import abc

from attrs import frozen

from massage_core.domain.contact import PhoneNumber
from massage_core.domain.time import Instant

EXHAUSTED = "numbers.exhausted"
"""The Conflict code when the provider has no free number."""


@frozen
class Allocation:
    """What the provider bound: its id of the binding, the virtual number (E.164) and the expiry."""

    reference: str
    number: str
    expires_at: Instant


class VirtualNumbers(abc.ABC):
    """Binds and releases masked number pairs; see the module docstring."""

    @abc.abstractmethod
    def bind(self, key: str, customer: PhoneNumber, therapist: PhoneNumber, expires_at: Instant) -> Allocation:
        """Bind a virtual number between ``customer`` and ``therapist`` until ``expires_at`` for the business
        ``key`` (an order id).  Idempotent per key: while the key's binding is live, the same allocation is
        returned.  Raises Conflict ``numbers.exhausted`` when no number is free, ValidationError
        ``numbers.expiry`` when ``expires_at`` is not in the future."""

    @abc.abstractmethod
    def release(self, reference: str) -> None:
        """End the binding ``reference`` now; its number may be given to another binding.  Releasing an unknown
        or already released binding does nothing."""
