"""The Account aggregate and its login methods.

An account owns its ways to log in: a phone (one-time SMS codes), an email
with a password, and third-party identities (WeChat, Alipay).  Every change
is a method returning a new frozen Account with the event appended; the
repository saves it.  An account can never be left with no way to log in.
"""

from __future__ import annotations

import enum
from typing import Any

import attrs
from attrs import field, frozen

from massage_core.domain.access import AdminRole, Role
from massage_core.domain.contact import Email, PhoneNumber
from massage_core.domain.errors import Conflict, ValidationError
from massage_core.domain.events import (
    AccountReactivated,
    AccountRegistered,
    AccountSuspended,
    DomainEvent,
    LoginMethodLinked,
    LoginMethodUnlinked,
    RolesChanged,
)
from massage_core.domain.identity_documents import ResidentIdNumber
from massage_core.domain.ids import AccountId
from massage_core.domain.time import Instant


class LoginMethod(enum.StrEnum):
    """The four ways to log in."""

    PHONE = "phone"
    PASSWORD = "password"
    WECHAT = "wechat"
    ALIPAY = "alipay"


class Provider(enum.StrEnum):
    """Third-party identity providers."""

    WECHAT = "wechat"
    ALIPAY = "alipay"


class AccountStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


def provider(raw: object) -> Provider:
    """Parse a provider name; raise ValidationError for anything else."""
    try:
        return Provider(str(raw))
    except ValueError:
        raise ValidationError(
            f"unknown identity provider {raw!r}; expected one of {', '.join(Provider)}",
            code="identity.provider",
            field="provider",
        ) from None


@frozen
class ExternalIdentity:
    """An account at a third party (e.g. a WeChat openid)."""

    provider: Provider
    subject: str

    def __attrs_post_init__(self) -> None:
        if not self.subject or len(self.subject) > 128:
            raise ValidationError("identity subject must be 1..128 characters", code="identity.subject")


@frozen
class Account:
    """A person's account; see the module docstring."""

    id: AccountId
    created_at: Instant
    roles: frozenset[Role] = field(factory=lambda: frozenset({Role.CUSTOMER}))
    admin_roles: frozenset[AdminRole] = field(factory=frozenset)
    status: AccountStatus = AccountStatus.ACTIVE
    display_name: str = ""
    phone: PhoneNumber | None = None
    email: Email | None = None
    password_hash: str | None = None
    identities: tuple[ExternalIdentity, ...] = ()
    suspended_reason: str = ""
    real_name: str = ""
    id_number: ResidentIdNumber | None = None
    address: str = ""
    version: int = 0
    events: tuple[DomainEvent, ...] = field(default=(), eq=False, repr=False)

    @classmethod
    def register(
        cls,
        account_id: AccountId,
        now: Instant,
        method: LoginMethod,
        *,
        phone: PhoneNumber | None = None,
        email: Email | None = None,
        password_hash: str | None = None,
        identity: ExternalIdentity | None = None,
        roles: frozenset[Role] = frozenset({Role.CUSTOMER}),
        display_name: str = "",
    ) -> Account:
        """Create a new active account with one login method."""
        account = cls(
            id=account_id,
            created_at=now,
            roles=roles,
            phone=phone,
            email=email,
            password_hash=password_hash,
            identities=(identity,) if identity else (),
            display_name=display_name,
        )
        if not account.login_methods():
            raise ValidationError("an account needs a way to log in", code="account.no_login_method")
        return account._with(AccountRegistered(now, account_id, method.value))

    def _with(self, event: DomainEvent, **changes: Any) -> Account:
        return attrs.evolve(self, events=self.events + (event,), **changes)

    def login_methods(self) -> frozenset[LoginMethod]:
        """The methods this account can log in with right now."""
        methods: set[LoginMethod] = set()
        if self.phone is not None:
            methods.add(LoginMethod.PHONE)
        if self.email is not None and self.password_hash is not None:
            methods.add(LoginMethod.PASSWORD)
        for ident in self.identities:
            methods.add(LoginMethod(ident.provider.value))
        return frozenset(methods)

    @property
    def is_active(self) -> bool:
        return self.status is AccountStatus.ACTIVE

    def identity(self, prov: Provider) -> ExternalIdentity | None:
        """The linked identity of that provider, if any."""
        return next((i for i in self.identities if i.provider is prov), None)

    def link_phone(self, phone: PhoneNumber, now: Instant) -> Account:
        """Attach (or replace) the phone number."""
        return self._with(LoginMethodLinked(now, self.id, LoginMethod.PHONE.value), phone=phone)

    def link_password(self, email: Email, password_hash: str, now: Instant) -> Account:
        """Attach an email with a password (or replace them)."""
        return self._with(
            LoginMethodLinked(now, self.id, LoginMethod.PASSWORD.value), email=email, password_hash=password_hash
        )

    def change_password_hash(self, password_hash: str) -> Account:
        """Replace the stored hash (rehash on login, or a password change)."""
        if self.email is None:
            raise ValidationError("no email/password login to change", code="account.no_password")
        return attrs.evolve(self, password_hash=password_hash)

    def link_identity(self, identity: ExternalIdentity, now: Instant) -> Account:
        """Attach a third-party identity; one per provider."""
        if self.identity(identity.provider) is not None:
            raise Conflict(f"a {identity.provider} identity is already linked", code="account.identity_linked")
        return self._with(
            LoginMethodLinked(now, self.id, identity.provider.value), identities=self.identities + (identity,)
        )

    def unlink(self, method: LoginMethod, now: Instant) -> Account:
        """Remove a login method; refuse when it is missing or the last one."""
        methods = self.login_methods()
        if method not in methods:
            raise ValidationError(f"{method} is not linked", code="account.method_not_linked", field="method")
        if methods == {method}:
            raise Conflict("cannot remove the last way to log in", code="account.last_login_method")
        event = LoginMethodUnlinked(now, self.id, method.value)
        if method is LoginMethod.PHONE:
            return self._with(event, phone=None)
        if method is LoginMethod.PASSWORD:
            return self._with(event, email=None, password_hash=None)
        prov = Provider(method.value)
        return self._with(event, identities=tuple(i for i in self.identities if i.provider is not prov))

    def suspend(self, reason: str, now: Instant) -> Account:
        """Suspend: the account cannot log in and its sessions die."""
        reason = reason.strip()
        if not reason or len(reason) > 500:
            raise ValidationError("a suspension needs a reason (1..500 characters)", code="account.reason")
        if self.status is AccountStatus.SUSPENDED:
            raise Conflict("account is already suspended", code="account.already_suspended")
        return self._with(
            AccountSuspended(now, self.id, reason), status=AccountStatus.SUSPENDED, suspended_reason=reason
        )

    def reactivate(self, now: Instant) -> Account:
        """Lift a suspension."""
        if self.status is AccountStatus.ACTIVE:
            raise Conflict("account is not suspended", code="account.not_suspended")
        return self._with(AccountReactivated(now, self.id), status=AccountStatus.ACTIVE, suspended_reason="")

    def set_roles(self, roles: frozenset[Role], admin_roles: frozenset[AdminRole], now: Instant) -> Account:
        """Replace roles; admin sub-roles require the admin role and vice versa."""
        if not roles:
            raise ValidationError("an account needs at least one role", code="account.roles")
        if bool(admin_roles) != (Role.ADMIN in roles):
            raise ValidationError("admin sub-roles go together with the admin role", code="account.roles")
        event = RolesChanged(now, self.id, tuple(sorted(roles)), tuple(sorted(admin_roles)))
        return self._with(event, roles=roles, admin_roles=admin_roles)

    def update_profile(
        self,
        *,
        display_name: str | None = None,
        real_name: str | None = None,
        id_number: ResidentIdNumber | None = None,
        address: str | None = None,
    ) -> Account:
        """Change personal details; None leaves a field as it is."""
        changes: dict[str, Any] = {}
        for name, value, limit in (("display_name", display_name, 50), ("real_name", real_name, 50),
                                   ("address", address, 200)):
            if value is not None:
                value = value.strip()
                if len(value) > limit:
                    raise ValidationError(f"{name} is longer than {limit} characters", code="profile.too_long",
                                          field=name)
                changes[name] = value
        if id_number is not None:
            changes["id_number"] = id_number
        return attrs.evolve(self, **changes)

    def clear_events(self) -> Account:
        """The same account with its pending events taken away (after the UoW collected them)."""
        return attrs.evolve(self, events=())
