"""The accounts context: logging in (see ``login``) and managing one's own account."""

from __future__ import annotations

from collections.abc import Sequence

from massage_core.domain.access import Actor, Permission
from massage_core.domain.accounts import Account, LoginMethod, provider
from massage_core.domain.authentication import CodePurpose
from massage_core.domain.contact import Email, PhoneNumber
from massage_core.domain.errors import AuthenticationFailed, Conflict, ValidationError
from massage_core.domain.identity_documents import ResidentIdNumber
from massage_core.domain.ids import AccountId, account_id
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.base import not_found
from massage_core.services.credentials import check_code, check_login_password, check_new_password, invalid_login
from massage_core.services.login import LoginFlows
from massage_core.services.views import AccountView, CodeRequest, LoginRecordView, PersonalDetails


class AccountsService(LoginFlows):
    """Registration, login, sessions, and a person's management of their own account."""

    def _own(self, actor: Actor, action: str) -> AccountId:
        """The actor's own account id; refuse anonymous or system callers."""
        self._require(actor, Permission.OWN_ACCOUNT_MANAGE, action, actor.label)
        if actor.account_id is None:
            raise ValidationError("the system has no account of its own", code="actor.no_account")
        return actor.account_id

    def _save(self, uow: UnitOfWork, account: Account) -> Account:
        uow.record(account.events)
        return uow.accounts.save(account)

    def me(self, actor: Actor) -> AccountView:
        """The actor's own account, masked. Raises PermissionDenied for anonymous callers."""
        own = self._own(actor, "account.read")
        with self._uow() as uow:
            return AccountView.of(uow.accounts.get(own))

    def personal_details(self, actor: Actor, account: str) -> PersonalDetails:
        """The full personal details of ``account``, for its owner only (others get NotFound)."""
        target = account_id(account)
        own = self._own(actor, "account.personal_details")
        with self._guard(actor, "account.personal_details", target), self._uow() as uow:
            if target != own:
                raise not_found("account", target)
            return PersonalDetails.of(uow.accounts.get(own))

    def update_profile(self, actor: Actor, account: str, *, display_name: str | None = None,
                       real_name: str | None = None, id_number: str | None = None,
                       address: str | None = None) -> AccountView:
        """Change the owner's display name, real name, resident ID number or address.

        Raises ValidationError (``id_number.*``, ``profile.too_long``), NotFound
        for an account that is not the actor's, Conflict (``account.duplicate``)
        for an ID number registered to another account.
        """
        target = account_id(account)
        for name, value in (("display_name", display_name), ("real_name", real_name), ("address", address)):
            if value is not None and not isinstance(value, str):
                raise ValidationError(f"{name} must be a string", code="profile.invalid", field=name)
        parsed_id = ResidentIdNumber.parse(id_number) if id_number is not None else None
        own = self._own(actor, "account.update_profile")
        with self._guard(actor, "account.update_profile", target), self._uow() as uow:
            if target != own:
                raise not_found("account", target)
            current = uow.accounts.get(own)
            saved = self._save(uow, current.update_profile(
                display_name=display_name, real_name=real_name, id_number=parsed_id, address=address))
            uow.commit()
            return AccountView.of(saved)

    def request_link_code(self, actor: Actor, phone: str) -> CodeRequest:
        """Send a code to ``phone`` to prove it before linking it. Raises like ``request_login_code``."""
        number = PhoneNumber.parse(phone)
        self._own(actor, "account.link_phone")
        return self._send_code(number, CodePurpose.LINK)

    def link_phone(self, actor: Actor, phone: str, code: str) -> AccountView:
        """Link (or replace) the actor's phone after checking the code sent to it.

        Raises AuthenticationFailed (``auth.invalid_credentials``) for a wrong
        code, Conflict (``account.duplicate``) when the phone belongs to another account.
        """
        number = PhoneNumber.parse(phone)
        code = check_code(code, self._deps.policies.codes.digits)
        own = self._own(actor, "account.link_phone")
        key = self._deps.cipher.blind_index("phone", number.e164)
        now = self._now()
        with self._uow() as uow:
            matched = self._check_code(uow, key, CodePurpose.LINK, code, now)
            uow.commit()
        if not matched:
            raise invalid_login()
        with self._uow() as uow:
            saved = self._save(uow, uow.accounts.get(own).link_phone(number, now))
            uow.commit()
            return AccountView.of(saved)

    def link_password(self, actor: Actor, email: str, password: str) -> AccountView:
        """Add email + password login to the actor's account.

        Raises Conflict (``account.password_linked``) when it already has one
        (use ``change_password``), Conflict (``account.duplicate``) for an email
        of another account, ValidationError for a weak password.
        """
        address = Email.parse(email)
        password = check_new_password(password, self._deps.policies, self._deps.common_passwords,
                                      address.address, address.address.partition("@")[0])
        own = self._own(actor, "account.link_password")
        password_hash = self._deps.hasher.hash(password)
        with self._uow() as uow:
            current = uow.accounts.get(own)
            if LoginMethod.PASSWORD in current.login_methods():
                raise Conflict("a password is already set; change it instead", code="account.password_linked")
            saved = self._save(uow, current.link_password(address, password_hash, self._now()))
            uow.commit()
            return AccountView.of(saved)

    def change_password(self, actor: Actor, current_password: str, new_password: str) -> None:
        """Replace the password after checking the current one; every other session is revoked.

        Raises AuthenticationFailed (``auth.invalid_credentials``) for a wrong
        current password, ValidationError for a weak new one or an account without a password.
        """
        current_password = check_login_password(current_password, self._deps.policies)
        own = self._own(actor, "account.change_password")
        now = self._now()
        with self._uow() as uow:
            account = uow.accounts.get(own)
            if account.password_hash is None or account.email is None:
                raise ValidationError("no email/password login to change", code="account.no_password")
            email = account.email.address
            ok = self._deps.hasher.verify(account.password_hash, current_password)
        if not ok:
            raise invalid_login()
        new_password = check_new_password(new_password, self._deps.policies, self._deps.common_passwords,
                                          email, email.partition("@")[0], current_password)
        new_hash = self._deps.hasher.hash(new_password)
        with self._uow() as uow:
            account = uow.accounts.get(own)
            self._save(uow, account.change_password_hash(new_hash))
            uow.sessions.revoke_all(own, now)
            uow.commit()

    def link_identity(self, actor: Actor, provider_name: str, authorization_code: str) -> AccountView:
        """Link a WeChat or Alipay identity vouched for by ``authorization_code``.

        Raises AuthenticationFailed (``identity.invalid_code``), Conflict
        (``account.identity_linked`` / ``account.duplicate``).
        """
        prov = provider(provider_name)
        own = self._own(actor, "account.link_identity")
        try:
            identity = self._deps.identity_provider.verify(prov, authorization_code)
        except AuthenticationFailed:
            raise
        with self._uow() as uow:
            saved = self._save(uow, uow.accounts.get(own).link_identity(identity, self._now()))
            uow.commit()
            return AccountView.of(saved)

    def unlink(self, actor: Actor, method: str) -> AccountView:
        """Remove a login method; Conflict (``account.last_login_method``) if it is the last one."""
        try:
            chosen = LoginMethod(method)
        except ValueError:
            raise ValidationError(f"unknown login method {method!r}", code="account.method", field="method") from None
        own = self._own(actor, "account.unlink")
        with self._uow() as uow:
            saved = self._save(uow, uow.accounts.get(own).unlink(chosen, self._now()))
            uow.commit()
            return AccountView.of(saved)

    def my_login_records(self, actor: Actor, *, limit: int = 50) -> Sequence[LoginRecordView]:
        """The actor's own login attempts, newest first (attempts on unknown identifiers are not shown)."""
        own = self._own(actor, "account.login_records")
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 500:
            raise ValidationError("limit must be 1..500", code="page.limit", field="limit")
        with self._uow() as uow:
            return [LoginRecordView.of(r) for r in uow.login_records.list_for_account(own, limit=limit)]

    def logout_everywhere(self, actor: Actor) -> int:
        """Revoke every session of the actor; return how many."""
        own = self._own(actor, "account.logout_everywhere")
        with self._uow() as uow:
            count = uow.sessions.revoke_all(own, self._now())
            uow.commit()
            return count
