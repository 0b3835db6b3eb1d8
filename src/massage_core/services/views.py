"""Read models the services return: frozen, plain, with personal data masked."""

from __future__ import annotations

from attrs import frozen

from massage_core.domain.access import Actor
from massage_core.domain.accounts import Account
from massage_core.domain.authentication import LoginRecord
from massage_core.domain.masking import mask_email, mask_id_number, mask_name, mask_phone, mask_subject
from massage_core.domain.time import Instant


@frozen
class AccountView:
    """An account as shown to its owner or to an admin: identifiers masked."""

    id: str
    status: str
    roles: tuple[str, ...]
    admin_roles: tuple[str, ...]
    display_name: str
    phone: str | None
    email: str | None
    identities: tuple[tuple[str, str], ...]
    login_methods: tuple[str, ...]
    real_name: str
    id_number: str | None
    address: str
    created_at: Instant
    suspended_reason: str

    @classmethod
    def of(cls, account: Account) -> AccountView:
        """Build the masked view of ``account``."""
        return cls(
            id=account.id,
            status=account.status.value,
            roles=tuple(sorted(r.value for r in account.roles)),
            admin_roles=tuple(sorted(r.value for r in account.admin_roles)),
            display_name=account.display_name,
            phone=mask_phone(account.phone.e164) if account.phone else None,
            email=mask_email(account.email.address) if account.email else None,
            identities=tuple((i.provider.value, mask_subject(i.subject)) for i in account.identities),
            login_methods=tuple(sorted(m.value for m in account.login_methods())),
            real_name=mask_name(account.real_name),
            id_number=mask_id_number(account.id_number.value) if account.id_number else None,
            address=(account.address[:6] + "****") if account.address else "",
            created_at=account.created_at,
            suspended_reason=account.suspended_reason,
        )


@frozen
class PersonalDetails:
    """The owner's own details in full (for editing a profile)."""

    phone: str | None
    email: str | None
    real_name: str
    id_number: str | None
    address: str

    @classmethod
    def of(cls, account: Account) -> PersonalDetails:
        return cls(
            phone=account.phone.e164 if account.phone else None,
            email=account.email.address if account.email else None,
            real_name=account.real_name,
            id_number=account.id_number.value if account.id_number else None,
            address=account.address,
        )


@frozen
class LoginResult:
    """A successful login: the bearer token (shown once), its session and whether the account is new."""

    token: str
    session_id: str
    account_id: str
    expires_at: Instant
    actor: Actor
    new_account: bool = False


@frozen
class CodeRequest:
    """A one-time code was sent: when it expires and when another may be asked for."""

    expires_at: Instant
    resend_after_seconds: int


@frozen
class LoginRecordView:
    """A login attempt as shown to admins and to the owner."""

    at: Instant
    method: str
    outcome: str
    ip: str
    device: str

    @classmethod
    def of(cls, record: LoginRecord) -> LoginRecordView:
        return cls(record.at, record.method.value, record.outcome.value, record.ip, record.device)
