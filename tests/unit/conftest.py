"""Shared fixtures for the service-level unit tests: an in-memory platform and people on it.

Everything goes through the public services of ``Platform.in_memory``; the
memory store is only *read* (or deliberately tampered with) through
``Kit.store`` to prove what is and is not kept.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import pytest

from massage_core.adapters.crypto.passwords import Argon2idPasswordHasher
from massage_core.adapters.memory.identity import SandboxIdentityProvider
from massage_core.adapters.memory.sms import SandboxCodeSender
from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.memory.ids import SequentialIdGenerator
from massage_core.adapters.memory.store import MemoryStore, Tables
from massage_core.adapters.memory.uow import MemoryUnitOfWork
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor
from massage_core.domain.accounts import Provider
from massage_core.domain.audit import AuditEntry, AuditOutcome
from massage_core.domain.authentication import LoginRecord
from massage_core.domain.contact import PhoneNumber
from massage_core.ports.identity import OneTimeCodeSender
from massage_core.ports.passwords import PasswordHasher
from massage_core.services.base import Policies
from massage_core.services.views import LoginResult
from order_kit import catalogue, make_public
from search_support import Shop

#: A password that passes every rule (length, not common, not an identifier).
PASSWORD = "Blue-Harbour-Lantern-42"
#: Another good password, for changes.
NEW_PASSWORD = "Quiet-Meadow-Compass-77"
ADMIN_KINDS = ("support", "finance", "auditor")


@dataclass
class Person:
    """An account on the platform, with the credentials used to make it and a live session."""

    account_id: str
    token: str
    actor: Actor
    roles: tuple[str, ...] = ("customer",)
    admin_roles: tuple[str, ...] = ()
    phone: str | None = None
    email: str | None = None
    password: str | None = None
    identities: dict[str, str] = field(default_factory=dict)


class Kit:
    """A platform plus helpers to make people and look into the memory store."""

    def __init__(self, platform: Platform, clock: FixedClock) -> None:
        self.platform = platform
        self.clock = clock
        self._numbers = itertools.count(1)
        self._superadmin: Person | None = None

    # -- adapters and store -----------------------------------------------------------------

    @property
    def sms(self) -> SandboxCodeSender:
        return cast(SandboxCodeSender, self.platform.deps.code_sender)

    @property
    def idp(self) -> SandboxIdentityProvider:
        return cast(SandboxIdentityProvider, self.platform.deps.identity_provider)

    @property
    def store(self) -> MemoryStore:
        uow = self.platform.deps.uow()
        assert isinstance(uow, MemoryUnitOfWork)
        return uow._store

    @property
    def tables(self) -> Tables:
        """The live tables (a rollback replaces the object, so never keep this across calls)."""
        return self.store.tables

    def snapshot(self) -> tuple[Any, ...]:
        """Everything a call could change: the five tables, the audit head and the SMS outbox."""
        t = self.tables
        return (
            dict(t.accounts),
            dict(t.sessions),
            list(t.login_records),
            dict(t.one_time_codes),
            list(t.audit),
            t.audit_head,
            list(self.sms.sent),
        )

    def audit_entries(self) -> list[AuditEntry]:
        return list(self.tables.audit)

    def denied_entries(self) -> list[AuditEntry]:
        return [e for e in self.tables.audit if e.outcome is AuditOutcome.DENIED]

    def login_records(self) -> list[LoginRecord]:
        return list(self.tables.login_records)

    # -- identifiers ---------------------------------------------------------------------------

    def next_phone(self) -> str:
        """A fresh valid mainland mobile number, as typed (11 digits)."""
        return f"139{next(self._numbers):08d}"

    def next_email(self, local: str = "user") -> str:
        return f"{local}{next(self._numbers)}@example.com"

    def next_subject(self, prefix: str = "openid") -> str:
        return f"{prefix}-{next(self._numbers):06d}-subject"

    # -- codes ------------------------------------------------------------------------------------

    def code_for(self, phone: str) -> str:
        code = self.sms.last_code_for(PhoneNumber.parse(phone))
        assert code is not None, f"no code was sent to {phone}"
        return code

    def wrong_code(self, phone: str) -> str:
        right = self.code_for(phone)
        return f"{(int(right) + 1) % 1_000_000:06d}"

    def issue(self, provider: str | Provider, subject: str) -> str:
        return self.idp.issue(Provider(provider), subject)

    # -- logging in -------------------------------------------------------------------------------

    def login_by_phone(self, phone: str, *, ip: str = "", device: str = "") -> LoginResult:
        self.platform.accounts.request_login_code(phone)
        return self.platform.accounts.login_with_code(phone, self.code_for(phone), ip=ip, device=device)

    def login_by_identity(self, provider: str, subject: str, *, ip: str = "", device: str = "") -> LoginResult:
        return self.platform.accounts.login_with_identity(provider, self.issue(provider, subject), ip=ip,
                                                          device=device)

    # -- people ----------------------------------------------------------------------------------

    def customer_by_phone(self, phone: str | None = None) -> Person:
        phone = phone or self.next_phone()
        result = self.login_by_phone(phone)
        return Person(result.account_id, result.token, result.actor, phone=phone)

    def customer_by_password(self, email: str | None = None, password: str = PASSWORD) -> Person:
        email = email or self.next_email()
        result = self.platform.accounts.register_with_password(email, password)
        return Person(result.account_id, result.token, result.actor, email=email, password=password)

    def customer_by_identity(self, provider: str, subject: str | None = None) -> Person:
        subject = subject or self.next_subject(provider)
        result = self.login_by_identity(provider, subject)
        return Person(result.account_id, result.token, result.actor, identities={provider: subject})

    def customer_by_wechat(self, subject: str | None = None) -> Person:
        return self.customer_by_identity("wechat", subject)

    def customer_by_alipay(self, subject: str | None = None) -> Person:
        return self.customer_by_identity("alipay", subject)

    def customer(self, method: str = "phone") -> Person:
        makers: dict[str, Callable[[], Person]] = {
            "phone": self.customer_by_phone,
            "password": self.customer_by_password,
            "wechat": self.customer_by_wechat,
            "alipay": self.customer_by_alipay,
        }
        return makers[method]()

    def refresh(self, person: Person) -> Person:
        """Re-read the person's actor (roles) through their session token."""
        person.actor = self.platform.accounts.authenticate(person.token)
        return person

    def superadmin(self) -> Person:
        """The first superadmin, created by the system actor (cached per kit)."""
        if self._superadmin is None:
            email = self.next_email("root")
            view = self.platform.users.create_superadmin(Actor.system(), email, PASSWORD, display_name="Root")
            result = self.platform.accounts.login_with_password(email, PASSWORD)
            assert result.account_id == view.id
            self._superadmin = Person(view.id, result.token, result.actor, roles=("admin",),
                                      admin_roles=("superadmin",), email=email, password=PASSWORD)
        return self._superadmin

    def another_superadmin(self) -> Person:
        email = self.next_email("root")
        view = self.platform.users.create_superadmin(self.superadmin().actor, email, PASSWORD)
        result = self.platform.accounts.login_with_password(email, PASSWORD)
        return Person(view.id, result.token, result.actor, roles=("admin",), admin_roles=("superadmin",),
                      email=email, password=PASSWORD)

    def with_roles(self, person: Person, roles: Sequence[str], admin_roles: Sequence[str] = ()) -> Person:
        self.platform.users.set_roles(self.superadmin().actor, person.account_id, list(roles), list(admin_roles))
        person.roles, person.admin_roles = tuple(roles), tuple(admin_roles)
        return self.refresh(person)

    def admin(self, kind: str) -> Person:
        """A support / finance / auditor admin (a phone customer promoted by the superadmin)."""
        if kind == "superadmin":
            return self.superadmin()
        return self.with_roles(self.customer_by_phone(), ["admin"], [kind])

    def support(self) -> Person:
        return self.admin("support")

    def finance(self) -> Person:
        return self.admin("finance")

    def auditor(self) -> Person:
        return self.admin("auditor")

    def therapist(self) -> Person:
        return self.with_roles(self.customer_by_phone(), ["therapist"])


def fast_hasher() -> Argon2idPasswordHasher:
    return Argon2idPasswordHasher.for_tests()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


MakeKit = Callable[..., Kit]


@pytest.fixture
def make_kit(clock: FixedClock) -> MakeKit:
    """Build a kit with custom policies, hasher or adapters (sharing the test's clock)."""

    def make(*, policies: Policies | None = None, hasher: PasswordHasher | None = None,
             code_sender: OneTimeCodeSender | None = None) -> Kit:
        platform = Platform.in_memory(clock=clock, ids=SequentialIdGenerator(), hasher=hasher or fast_hasher(),
                                      code_sender=code_sender, policies=policies)
        return Kit(platform, clock)

    return make


@pytest.fixture
def kit(make_kit: MakeKit) -> Kit:
    return make_kit()


@pytest.fixture
def platform(kit: Kit) -> Platform:
    return kit.platform


@pytest.fixture
def people(kit: Kit) -> Iterator[dict[str, Person]]:
    """One of each kind of person (the superadmin first, so it is the first account)."""
    root = kit.superadmin()
    yield {
        "superadmin": root,
        "customer": kit.customer_by_phone(),
        "therapist": kit.therapist(),
        "support": kit.support(),
        "finance": kit.finance(),
        "auditor": kit.auditor(),
    }


# -- orders: a priced catalogue, a public therapist with an online week, a customer ------------------------------


@pytest.fixture
def shop(kit: Kit) -> Shop:
    """The order kit's catalogue (``order_kit.catalogue``)."""
    return catalogue(kit.platform)


@pytest.fixture
def therapist(kit: Kit, shop: Shop) -> Person:
    """A public therapist offering both services around the order kit's point, online 08:00-20:00."""
    person = kit.therapist()
    make_public(kit.platform, person.account_id, shop)
    return person


@pytest.fixture
def customer(kit: Kit) -> Person:
    """A customer who signed up by phone."""
    return kit.customer_by_phone()
