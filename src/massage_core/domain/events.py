"""Domain events: facts that happened, collected by the unit of work."""

from __future__ import annotations

from attrs import frozen

from massage_core.domain.ids import AccountId
from massage_core.domain.time import Instant


@frozen
class DomainEvent:
    """Base of every event: when it happened."""

    occurred_at: Instant


@frozen
class AccountRegistered(DomainEvent):
    account_id: AccountId
    method: str


@frozen
class LoginSucceeded(DomainEvent):
    account_id: AccountId
    method: str


@frozen
class LoginMethodLinked(DomainEvent):
    account_id: AccountId
    method: str


@frozen
class LoginMethodUnlinked(DomainEvent):
    account_id: AccountId
    method: str


@frozen
class AccountSuspended(DomainEvent):
    account_id: AccountId
    reason: str


@frozen
class AccountReactivated(DomainEvent):
    account_id: AccountId


@frozen
class RolesChanged(DomainEvent):
    account_id: AccountId
    roles: tuple[str, ...]
    admin_roles: tuple[str, ...]
