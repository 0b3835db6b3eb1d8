"""Fixtures of the integration tests: the platform on each SQL backend with a fixed clock and the sandbox
gateway (a test file may define its own ``platform`` instead)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.adapters.crypto.passwords import Argon2idPasswordHasher
from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.memory.payments import SandboxPaymentGateway
from massage_core.bootstrap import Platform
from storage_support import T0, Backend


@pytest.fixture
def clock() -> FixedClock:
    """The platform's clock, at ``T0`` (Monday 5 January 2026, Shanghai) until a test moves it."""
    return FixedClock(T0)


@pytest.fixture
def platform(sql_backend: Backend, clock: FixedClock) -> Iterator[Platform]:
    """``Platform.from_url`` on SQLite and PostgreSQL with a fresh key ring, cheap password hashing and the
    sandbox payment gateway on the same clock."""
    assert sql_backend.url is not None
    made = Platform.from_url(sql_backend.url, keyring=KeyRing.generate(), clock=clock,
                             hasher=Argon2idPasswordHasher.for_tests(),
                             payment_gateway=SandboxPaymentGateway(clock, b"integration-secret-0123"))
    yield made
    made.close()
