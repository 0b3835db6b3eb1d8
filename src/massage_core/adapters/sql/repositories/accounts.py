"""Accounts and their third-party identities, with personal data encrypted."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from typing import Any

import attrs
from sqlalchemy import Row, bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from massage_core.adapters.sql.fields import (
    ACCOUNT_ADDRESS,
    ACCOUNT_EMAIL,
    ACCOUNT_ID_NUMBER,
    ACCOUNT_PHONE,
    ACCOUNT_REAL_NAME,
    EMAIL_INDEX,
    ID_NUMBER_INDEX,
    IDENTITY_SUBJECT,
    PHONE_INDEX,
    FieldCodec,
)
from massage_core.adapters.sql.prepared import Prepared
from massage_core.adapters.sql.repositories._guard import guarded
from massage_core.adapters.sql.tables import account_identities, accounts
from massage_core.domain.access import AdminRole, Role
from massage_core.domain.accounts import Account, AccountStatus, ExternalIdentity, Provider
from massage_core.domain.contact import Email, PhoneNumber
from massage_core.domain.errors import Conflict, IntegrityError, NotFound
from massage_core.domain.identity_documents import ResidentIdNumber
from massage_core.domain.ids import AccountId
from massage_core.ports.repositories import AccountRepository

DUPLICATE = "account.duplicate"

IdentityMap = dict[str, list[ExternalIdentity]]
"""Identities of several accounts, by account id, in their stored order."""

# Hot-path statements are built once; only their parameters change per call.
_BY_ID = select(accounts).where(accounts.c.id == bindparam("value"))
_BY_PHONE = select(accounts).where(accounts.c.phone_idx == bindparam("value"))
_BY_EMAIL = select(accounts).where(accounts.c.email_idx == bindparam("value"))
_IDENTITIES_OF_ONE = Prepared(
    select(account_identities.c.account_id, account_identities.c.provider, account_identities.c.subject_enc)
    .where(account_identities.c.account_id == bindparam("value"))
    .order_by(account_identities.c.position)
)
_P_BY_ID = Prepared(_BY_ID)  # ``get``'s statements run on the driver on SQLite
_STATUS_OF = Prepared(select(accounts.c.status).where(accounts.c.id == bindparam("value")))
_ACTIVE_AMONG = select(accounts.c.id).where(accounts.c.id.in_(bindparam("ids", expanding=True)),
                                            accounts.c.status == AccountStatus.ACTIVE.value)
_IN_CHUNK = 1000  # ids per ``IN`` list: a page of recipients in one, far below the drivers' limits
_IDENTITIES_OF = (
    select(account_identities.c.account_id, account_identities.c.provider, account_identities.c.subject_enc)
    .where(account_identities.c.account_id.in_(bindparam("ids", expanding=True)))
    .order_by(account_identities.c.account_id, account_identities.c.position)
)


def _join(values: Iterable[str]) -> str:
    return ",".join(sorted(values))


def _split(text: str) -> list[str]:
    return [part for part in text.split(",") if part]


def _mismatch(what: str) -> IntegrityError:
    return IntegrityError(f"stored {what} does not match its lookup index", code="crypto.index_mismatch")


class SqlAccountRepository(AccountRepository):
    """Accounts in ``accounts`` + ``account_identities``; optimistic locking on ``version``."""

    def __init__(self, connection: Connection, codec: FieldCodec) -> None:
        """Work inside ``connection``'s transaction, encrypting with ``codec``."""
        self._conn = connection
        self._codec = codec

    # -- writing -------------------------------------------------------------

    def _values(self, account: Account) -> dict[str, Any]:
        key = (account.id,)
        seal, index = self._codec.seal, self._codec.index
        phone = account.phone.e164 if account.phone is not None else None
        email = account.email.address if account.email is not None else None
        id_number = account.id_number.value if account.id_number is not None else None
        return {
            "created_at": account.created_at,
            "roles": _join(account.roles),
            "admin_roles": _join(account.admin_roles),
            "status": account.status.value,
            "display_name": account.display_name,
            "real_name_enc": seal(ACCOUNT_REAL_NAME, key, account.real_name),
            "id_number_enc": seal(ACCOUNT_ID_NUMBER, key, id_number) if id_number is not None else None,
            "id_number_idx": index(ID_NUMBER_INDEX, id_number) if id_number is not None else None,
            "address_enc": seal(ACCOUNT_ADDRESS, key, account.address),
            "phone_enc": seal(ACCOUNT_PHONE, key, phone) if phone is not None else None,
            "phone_idx": index(PHONE_INDEX, phone) if phone is not None else None,
            "email_enc": seal(ACCOUNT_EMAIL, key, email) if email is not None else None,
            "email_idx": index(EMAIL_INDEX, email) if email is not None else None,
            "password_hash": account.password_hash,
            "suspended_reason": account.suspended_reason,
        }

    def _identity_values(self, account: Account, position: int, identity: ExternalIdentity) -> dict[str, Any]:
        key = (account.id, identity.provider.value)
        return {
            "position": position,
            "subject_enc": self._codec.seal(IDENTITY_SUBJECT, key, identity.subject),
            "subject_idx": self._codec.index(identity.provider.value, identity.subject),
        }

    def _sync_identities(self, account: Account) -> None:
        t = account_identities
        stored = {
            row.provider: row
            for row in self._conn.execute(
                select(t.c.provider, t.c.position, t.c.subject_idx).where(t.c.account_id == account.id)
            )
        }
        wanted = {identity.provider.value for identity in account.identities}
        gone = [name for name in stored if name not in wanted]
        if gone:
            self._conn.execute(delete(t).where(t.c.account_id == account.id, t.c.provider.in_(gone)))
        for position, identity in enumerate(account.identities):
            name = identity.provider.value
            old = stored.get(name)
            index = self._codec.index(name, identity.subject)
            where = (t.c.account_id == account.id, t.c.provider == name)
            if old is None:
                values = self._identity_values(account, position, identity)
                self._conn.execute(insert(t).values(account_id=account.id, provider=name, **values))
            elif old.subject_idx != index:
                self._conn.execute(update(t).where(*where).values(self._identity_values(account, position, identity)))
            elif old.position != position:
                self._conn.execute(update(t).where(*where).values(position=position))

    def add(self, account: Account) -> Account:
        """Insert the account and its identities with version 1."""
        with guarded(self._conn, duplicate=DUPLICATE):
            self._conn.execute(insert(accounts).values(id=account.id, version=1, **self._values(account)))
            self._sync_identities(account)
        return attrs.evolve(account.clear_events(), version=1)

    def save(self, account: Account) -> Account:
        """Update where the stored version is ``account.version``; bump it."""
        new_version = account.version + 1
        with guarded(self._conn, duplicate=DUPLICATE):
            result = self._conn.execute(
                update(accounts)
                .where(accounts.c.id == account.id, accounts.c.version == account.version)
                .values(version=new_version, **self._values(account))
            )
            if result.rowcount == 0:
                found = self._conn.execute(select(accounts.c.version).where(accounts.c.id == account.id)).first()
                if found is None:
                    raise NotFound("account", account.id)
                raise Conflict(f"account {account.id} was changed by somebody else", code="conflict.stale")
            self._sync_identities(account)
        return attrs.evolve(account.clear_events(), version=new_version)

    # -- reading -------------------------------------------------------------

    def _identities(self, account_ids: Sequence[str]) -> IdentityMap:
        found: IdentityMap = defaultdict(list)
        if not account_ids:
            return found
        rows = (_IDENTITIES_OF_ONE.rows(self._conn, {"value": account_ids[0]}) if len(account_ids) == 1 else
                self._conn.execute(_IDENTITIES_OF, {"ids": list(account_ids)}))
        for row in rows:
            subject = self._codec.open(IDENTITY_SUBJECT, (row.account_id, row.provider), row.subject_enc)
            found[row.account_id].append(ExternalIdentity(Provider(row.provider), subject))
        return found

    def _to_account(self, row: Row[Any], identities: Sequence[ExternalIdentity]) -> Account:
        key = (row.id,)
        opened = self._codec.open
        return Account(
            id=AccountId(row.id),
            created_at=row.created_at,
            roles=frozenset(Role(name) for name in _split(row.roles)),
            admin_roles=frozenset(AdminRole(name) for name in _split(row.admin_roles)),
            status=AccountStatus(row.status),
            display_name=row.display_name,
            phone=PhoneNumber(opened(ACCOUNT_PHONE, key, row.phone_enc)) if row.phone_enc is not None else None,
            email=Email(opened(ACCOUNT_EMAIL, key, row.email_enc)) if row.email_enc is not None else None,
            password_hash=row.password_hash,
            identities=tuple(identities),
            suspended_reason=row.suspended_reason,
            real_name=opened(ACCOUNT_REAL_NAME, key, row.real_name_enc),
            id_number=(
                ResidentIdNumber(opened(ACCOUNT_ID_NUMBER, key, row.id_number_enc))
                if row.id_number_enc is not None
                else None
            ),
            address=opened(ACCOUNT_ADDRESS, key, row.address_enc),
            version=row.version,
        )

    def _load(self, rows: Sequence[Row[Any]]) -> Sequence[Account]:
        identities = self._identities([row.id for row in rows])
        return [self._to_account(row, identities.get(row.id, ())) for row in rows]

    def _one(self, statement: Any, value: str) -> Account | None:
        rows = (statement.rows(self._conn, {"value": value}) if isinstance(statement, Prepared) else
                self._conn.execute(statement, {"value": value}).all())
        return self._load(rows)[0] if rows else None

    def get(self, account_id: AccountId) -> Account:
        """Return the account or raise NotFound."""
        account = self._one(_P_BY_ID, account_id)
        if account is None:
            raise NotFound("account", account_id)
        return account

    def status_of(self, account_id: AccountId) -> AccountStatus:
        """The status column alone (no identities read, nothing decrypted), or NotFound."""
        rows = _STATUS_OF.rows(self._conn, {"value": account_id})
        if not rows:
            raise NotFound("account", account_id)
        return AccountStatus(rows[0].status)

    def active_among(self, account_ids: Collection[AccountId]) -> frozenset[AccountId]:
        """One ``SELECT id ... WHERE id IN (...) AND status = 'active'`` per 1,000 ids; nothing decrypted."""
        wanted = sorted(set(account_ids))
        found: set[AccountId] = set()
        for start in range(0, len(wanted), _IN_CHUNK):
            rows = self._conn.execute(_ACTIVE_AMONG, {"ids": wanted[start:start + _IN_CHUNK]})
            found.update(AccountId(row.id) for row in rows)
        return frozenset(found)

    def find_by_phone(self, phone: PhoneNumber) -> Account | None:
        """Look up by the phone's blind index; check the decrypted number matches."""
        account = self._one(_BY_PHONE, self._codec.index(PHONE_INDEX, phone.e164))
        if account is not None and account.phone != phone:
            raise _mismatch("phone")
        return account

    def find_by_email(self, email: Email) -> Account | None:
        """Look up by the email's blind index; check the decrypted address matches."""
        account = self._one(_BY_EMAIL, self._codec.index(EMAIL_INDEX, email.address))
        if account is not None and account.email != email:
            raise _mismatch("email")
        return account

    def find_by_identity(self, provider: Provider, subject: str) -> Account | None:
        """Look up by the identity's blind index; check the decrypted subject matches."""
        t = account_identities
        owner = self._conn.execute(
            select(t.c.account_id).where(
                t.c.provider == provider.value, t.c.subject_idx == self._codec.index(provider.value, subject)
            )
        ).scalar_one_or_none()
        if owner is None:
            return None
        account = self.get(AccountId(owner))
        identity = account.identity(provider)
        if identity is None or identity.subject != subject:
            raise _mismatch("identity")
        return account

    def list(self, *, offset: int = 0, limit: int = 50, status: AccountStatus | None = None) -> Sequence[Account]:
        """Accounts ordered by creation time, then id."""
        query = select(accounts).order_by(accounts.c.created_at, accounts.c.id)
        if status is not None:
            query = query.where(accounts.c.status == status.value)
        rows = self._conn.execute(query.offset(max(offset, 0)).limit(max(limit, 0))).all()
        return self._load(rows)

    def count(self) -> int:
        """Number of accounts."""
        return int(self._conn.execute(select(func.count()).select_from(accounts)).scalar_one())
