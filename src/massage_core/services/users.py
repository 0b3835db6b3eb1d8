"""Back-office user management: search, show, login records, suspension, roles, the first superadmin."""

from __future__ import annotations

from collections.abc import Sequence

from massage_core.domain.access import Actor, AdminRole, Permission, Role
from massage_core.domain.accounts import Account, AccountStatus, LoginMethod
from massage_core.domain.contact import Email, PhoneNumber
from massage_core.domain.errors import Conflict, ValidationError
from massage_core.domain.ids import AccountId, account_id
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.base import Denied, Service, page_bounds
from massage_core.services.credentials import check_new_password
from massage_core.services.views import AccountView, LoginRecordView



class UsersService(Service):
    """What support, auditors and superadmins do with user accounts. Every call is permission-checked."""

    def search(self, actor: Actor, *, phone: str | None = None, email: str | None = None) -> Sequence[AccountView]:
        """Find accounts by exact phone or email (through the blind index); masked views.

        Raises ValidationError when neither or a malformed one is given,
        PermissionDenied without ``users.read``.  Audited.
        """
        if (phone is None) == (email is None):
            raise ValidationError("search by exactly one of phone or email", code="search.criteria")
        number = PhoneNumber.parse(phone) if phone is not None else None
        address = Email.parse(email) if email is not None else None
        self._require(actor, Permission.USERS_READ, "users.search", "accounts")
        with self._uow() as uow:
            found = uow.accounts.find_by_phone(number) if number else uow.accounts.find_by_email(address)  # type: ignore[arg-type]
            self._audit_ok(uow, actor, "users.search", found.id if found else "-", self._now(),
                           by="phone" if number else "email")
            uow.commit()
            return [AccountView.of(found)] if found else []

    def list(self, actor: Actor, *, offset: int = 0, limit: int = 50,
             status: str | None = None) -> Sequence[AccountView]:
        """A page of accounts, oldest first, optionally only ``active`` or ``suspended`` ones. Audited (a bulk read)."""
        offset, limit = page_bounds(offset, limit, 500)
        try:
            wanted = AccountStatus(status) if status is not None else None
        except ValueError:
            raise ValidationError(f"unknown status {status!r}", code="account.status", field="status") from None
        self._require(actor, Permission.USERS_READ, "users.list", "accounts")
        with self._uow() as uow:
            views = [AccountView.of(a) for a in uow.accounts.list(offset=offset, limit=limit, status=wanted)]
            self._audit_ok(uow, actor, "users.list", "accounts", self._now(), offset=str(offset),
                           returned=str(len(views)))
            uow.commit()
            return views

    def show(self, actor: Actor, account: str) -> AccountView:
        """One account, masked. Audited. Raises NotFound, PermissionDenied without ``users.read``."""
        target = account_id(account)
        self._require(actor, Permission.USERS_READ, "users.show", target)
        with self._uow() as uow:
            view = AccountView.of(uow.accounts.get(target))
            self._audit_ok(uow, actor, "users.show", target, self._now())
            uow.commit()
            return view

    def login_records(self, actor: Actor, account: str, *, limit: int = 100) -> Sequence[LoginRecordView]:
        """The login attempts of an account, newest first. Audited (a read of personal data)."""
        target = account_id(account)
        page_bounds(0, limit, 500)
        self._require(actor, Permission.LOGIN_RECORDS_READ, "users.login_records", target)
        with self._uow() as uow:
            uow.accounts.get(target)
            records = [LoginRecordView.of(r) for r in uow.login_records.list_for_account(target, limit=limit)]
            self._audit_ok(uow, actor, "users.login_records", target, self._now())
            uow.commit()
            return records

    def suspend(self, actor: Actor, account: str, reason: str) -> AccountView:
        """Suspend an account: it cannot log in and all its sessions are revoked. Audited.

        Raises ValidationError (``account.reason``), Conflict
        (``account.already_suspended``, ``account.self``; ``account.protected`` when a
        non-superadmin tries it on a superadmin, audited as denied), NotFound, PermissionDenied.
        """
        target = account_id(account)
        if not isinstance(reason, str):
            raise ValidationError("reason must be a string", code="account.reason", field="reason")
        self._require(actor, Permission.USERS_SUSPEND, "users.suspend", target)
        if actor.owns(target):
            raise Conflict("you cannot suspend yourself", code="account.self")
        now = self._now()
        with self._guard(actor, "users.suspend", target), self._uow() as uow:
            current = uow.accounts.get(target)
            self._protect_superadmin(actor, current, "suspend")
            saved = self._save(uow, current.suspend(reason, now))
            revoked = uow.sessions.revoke_all(target, now)
            self._audit_ok(uow, actor, "users.suspend", target, now, reason=reason.strip(),
                           sessions_revoked=str(revoked))
            uow.commit()
            return AccountView.of(saved)

    def reactivate(self, actor: Actor, account: str) -> AccountView:
        """Lift a suspension. Audited.

        Raises Conflict (``account.not_suspended``; ``account.protected`` when a
        non-superadmin tries it on a superadmin, audited as denied), NotFound, PermissionDenied.
        """
        target = account_id(account)
        self._require(actor, Permission.USERS_SUSPEND, "users.reactivate", target)
        now = self._now()
        with self._guard(actor, "users.reactivate", target), self._uow() as uow:
            current = uow.accounts.get(target)
            self._protect_superadmin(actor, current, "reactivate")
            saved = self._save(uow, current.reactivate(now))
            self._audit_ok(uow, actor, "users.reactivate", target, now)
            uow.commit()
            return AccountView.of(saved)

    def set_roles(self, actor: Actor, account: str, roles: Sequence[str],
                  admin_roles: Sequence[str] = ()) -> AccountView:
        """Replace an account's roles and admin sub-roles (superadmin only). Audited.

        Raises ValidationError for unknown roles or an admin without sub-role,
        Conflict (``account.last_superadmin``) when it would leave no active superadmin.
        """
        target = account_id(account)
        try:
            new_roles = frozenset(Role(r) for r in roles)
            new_admin = frozenset(AdminRole(r) for r in admin_roles)
        except ValueError as exc:
            raise ValidationError(str(exc), code="account.roles", field="roles") from None
        self._require(actor, Permission.ROLES_MANAGE, "users.set_roles", target)
        now = self._now()
        with self._uow() as uow:
            current = uow.accounts.get(target)
            updated = current.set_roles(new_roles, new_admin, now)
            if current.is_active and AdminRole.SUPERADMIN in current.admin_roles \
                    and AdminRole.SUPERADMIN not in new_admin:
                if self._active_superadmins(uow) <= 1:
                    raise Conflict("that would leave no superadmin", code="account.last_superadmin")
            saved = self._save(uow, updated)
            self._audit_ok(uow, actor, "users.set_roles", target, now, roles=",".join(sorted(new_roles)),
                           admin_roles=",".join(sorted(new_admin)))
            uow.commit()
            return AccountView.of(saved)

    def create_superadmin(self, actor: Actor, email: str, password: str, *, display_name: str = "") -> AccountView:
        """Create a superadmin with email + password login.

        The system actor (the CLI on the server) may do it only while no
        superadmin exists; afterwards only a superadmin may.  Audited.
        Raises Conflict (``admin.exists``, ``account.duplicate``), ValidationError, PermissionDenied.
        """
        address = Email.parse(email)
        password = check_new_password(password, self._deps.policies, self._deps.common_passwords,
                                      address.address, address.address.partition("@")[0])
        if not isinstance(display_name, str) or len(display_name) > 50:
            raise ValidationError("display name must be at most 50 characters", code="profile.too_long")
        if not actor.is_system:
            self._require(actor, Permission.ROLES_MANAGE, "users.create_superadmin", address.address)
        password_hash = self._deps.hasher.hash(password)
        now = self._now()
        with self._uow() as uow:
            if actor.is_system and self._active_superadmins(uow) > 0:
                raise Conflict("a superadmin exists already; ask them to create more", code="admin.exists")
            if uow.accounts.find_by_email(address) is not None:
                raise Conflict("this email is already registered", code="account.duplicate")
            fresh = Account.register(
                AccountId(self._deps.ids.new_id("account")), now, LoginMethod.PASSWORD, email=address,
                password_hash=password_hash, roles=frozenset({Role.ADMIN}), display_name=display_name.strip())
            fresh = fresh.set_roles(frozenset({Role.ADMIN}), frozenset({AdminRole.SUPERADMIN}), now)
            uow.record(fresh.events)
            saved = uow.accounts.add(fresh)
            self._audit_ok(uow, actor, "users.create_superadmin", saved.id, now)
            uow.commit()
            return AccountView.of(saved)

    @staticmethod
    def _protect_superadmin(actor: Actor, target: Account, verb: str) -> None:
        """Only a superadmin (or the system) may suspend or reactivate a superadmin; refusal is audited."""
        if AdminRole.SUPERADMIN in target.admin_roles and AdminRole.SUPERADMIN not in actor.admin_roles \
                and not actor.is_system:
            raise Denied(Conflict(f"only a superadmin may {verb} a superadmin", code="account.protected"))

    @staticmethod
    def _save(uow: UnitOfWork, account: Account) -> Account:
        uow.record(account.events)
        return uow.accounts.save(account)

    @staticmethod
    def _active_superadmins(uow: UnitOfWork) -> int:
        count, offset = 0, 0
        while True:
            page = uow.accounts.list(offset=offset, limit=500, status=AccountStatus.ACTIVE)
            count += sum(1 for a in page if AdminRole.SUPERADMIN in a.admin_roles)
            if len(page) < 500:
                return count
            offset += 500
