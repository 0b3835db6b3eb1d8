"""The sandbox VirtualNumbers provider: a configurable pool of numbers, bindings kept in memory (decision 0045).

A number belongs to at most one live binding (not released, not expired by the clock); a binding asked for
again under the same key while live is returned as it is.  ``free`` and ``live`` let tests and demos look
inside.  Thread-safe: one lock around every call.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import attrs
from attrs import frozen

from massage_core.domain.contact import PhoneNumber
from massage_core.domain.errors import Conflict, ValidationError
from massage_core.domain.time import Instant
from massage_core.ports.clock import Clock
from massage_core.ports.virtual_numbers import EXHAUSTED, Allocation, VirtualNumbers

DEFAULT_POOL = tuple(f"+861710000{n:04d}" for n in range(20))
"""Twenty sandbox numbers, +8617100000000 .. +8617100000019."""


@frozen
class SandboxBinding:
    """One binding as the sandbox keeps it: who is connected through which number, until when."""

    allocation: Allocation
    key: str
    customer: PhoneNumber
    therapist: PhoneNumber
    released: bool = False

    def live_at(self, now: Instant) -> bool:
        return not self.released and now < self.allocation.expires_at


class SandboxVirtualNumbers(VirtualNumbers):
    """Allocates from ``pool`` (E.164 numbers; default ``DEFAULT_POOL``), the first free one in pool order."""

    def __init__(self, clock: Clock, pool: Iterable[str] = DEFAULT_POOL) -> None:
        numbers = tuple(PhoneNumber.parse(raw).e164 for raw in pool)
        if not numbers or len(set(numbers)) != len(numbers):
            raise ValidationError("the pool needs at least one number and no number twice", code="numbers.pool")
        self._clock = clock
        self._pool = numbers
        self._bindings: dict[str, SandboxBinding] = {}
        self._lock = threading.Lock()

    def bind(self, key: str, customer: PhoneNumber, therapist: PhoneNumber, expires_at: Instant) -> Allocation:
        with self._lock:
            now = self._clock.now()
            if not expires_at > now:
                raise ValidationError("a binding must expire in the future", code="numbers.expiry")
            for binding in self._bindings.values():
                if binding.key == key and binding.live_at(now):
                    return binding.allocation
            taken = self._taken(now)
            free = [number for number in self._pool if number not in taken]
            if not free:
                raise Conflict(f"all {len(self._pool)} virtual numbers are bound", code=EXHAUSTED)
            allocation = Allocation(f"vnb_{len(self._bindings) + 1:06d}", free[0], expires_at)
            self._bindings[allocation.reference] = SandboxBinding(allocation, key, customer, therapist)
            return allocation

    def release(self, reference: str) -> None:
        with self._lock:
            binding = self._bindings.get(reference)
            if binding is not None:
                self._bindings[reference] = attrs.evolve(binding, released=True)

    def _taken(self, now: Instant) -> set[str]:
        return {b.allocation.number for b in self._bindings.values() if b.live_at(now)}

    # -- what a test or a demo may look at ------------------------------------------------------------

    def free(self) -> tuple[str, ...]:
        """The pool's numbers no live binding holds now, in pool order."""
        with self._lock:
            taken = self._taken(self._clock.now())
            return tuple(number for number in self._pool if number not in taken)

    def live(self) -> dict[str, SandboxBinding]:
        """The live bindings now, by reference."""
        with self._lock:
            now = self._clock.now()
            return {ref: b for ref, b in self._bindings.items() if b.live_at(now)}

    def dial(self, number: str, caller: PhoneNumber) -> PhoneNumber:
        """Whom ``caller`` reaches by dialling ``number`` now: the other party of the live binding connecting
        them; NotFound-like Conflict ``numbers.not_bound`` when ``caller`` is not on such a binding."""
        with self._lock:
            now = self._clock.now()
            for binding in self._bindings.values():
                if binding.allocation.number == number and binding.live_at(now):
                    if caller == binding.customer:
                        return binding.therapist
                    if caller == binding.therapist:
                        return binding.customer
            raise Conflict(f"{caller.e164} has no live binding on {number}", code="numbers.not_bound")
