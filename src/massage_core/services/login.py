"""Registering and logging in: phone + SMS code, email + password, WeChat or Alipay.

Every attempt is recorded.  A failed attempt always raises the same
``auth.invalid_credentials`` error after comparable work, whether or not
the account exists; too many failures for one identifier (or account) lock
further attempts for a cool-down (``ThrottlePolicy``).
"""

from __future__ import annotations

from typing import NoReturn

from massage_core.domain.access import Actor
from massage_core.domain.accounts import Account, LoginMethod, provider
from massage_core.domain.authentication import (
    CodePurpose,
    LoginOutcome,
    LoginRecord,
    OneTimeCode,
    Session,
    check_client_info,
    invalid_credentials,
    too_many_attempts,
)
from massage_core.domain.contact import Email, PhoneNumber
from massage_core.domain.errors import AuthenticationFailed, Conflict, Throttled, ValidationError
from massage_core.domain.ids import AccountId, LoginRecordId, OneTimeCodeId, SessionId
from massage_core.domain.time import Instant
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.base import Service
from massage_core.services.credentials import (
    check_code,
    check_login_password,
    check_new_password,
    check_token,
    hash_token,
    new_code,
    new_token,
    same,
    session_invalid,
)
from massage_core.services.views import CodeRequest, LoginResult


def actor_of(account: Account) -> Actor:
    """The Actor an active account acts as."""
    return Actor(account_id=account.id, roles=account.roles, admin_roles=account.admin_roles)


class LoginFlows(Service):
    """The anonymous entry points: send a code, register, log in, authenticate a token."""

    def request_login_code(self, phone: str) -> CodeRequest:
        """Send a one-time login code by SMS to ``phone`` (the account is created at first login).

        Returns when the code expires.  Raises ValidationError (``phone.invalid``),
        Throttled (``otp.resend_throttled``) when asked again too soon, and
        MassageError (``sms.failed``) when the SMS provider refuses; nothing is stored then.
        """
        return self._send_code(PhoneNumber.parse(phone), CodePurpose.LOGIN)

    def _send_code(self, number: PhoneNumber, purpose: CodePurpose) -> CodeRequest:
        policy = self._deps.policies.codes
        key = self._deps.cipher.blind_index("phone", number.e164)
        now = self._now()
        with self._uow() as uow:
            wait = policy.resend_wait(uow.one_time_codes.sent_since(key, now.subtract(hours=1)), now)
            if wait:
                raise Throttled(f"wait {wait} s before asking for another code", code="otp.resend_throttled",
                                retry_after_seconds=wait)
            code_id = OneTimeCodeId(self._deps.ids.new_id("one_time_code"))
            code = new_code(policy.digits)
            uow.one_time_codes.add(OneTimeCode(
                id=code_id, subject_key=key, purpose=purpose,
                code_hash=self._deps.cipher.blind_index("otp", f"{code_id}:{code}"),
                created_at=now, expires_at=now + policy.ttl,
            ))
            self._deps.code_sender.send(number, code, purpose.value)
            uow.commit()
        return CodeRequest(expires_at=now + policy.ttl, resend_after_seconds=int(policy.resend_interval.total_seconds()))

    def _check_code(self, uow: UnitOfWork, key: str, purpose: CodePurpose, code: str, now: Instant) -> bool:
        """Spend one try of the newest code for ``key``; True when it matched while usable."""
        policy = self._deps.policies.codes
        stored = uow.one_time_codes.latest(key, purpose)
        if stored is None:
            self._deps.cipher.blind_index("otp", f"none:{code}")
            return False
        usable = stored.is_usable(now, policy)
        matches = usable and same(self._deps.cipher.blind_index("otp", f"{stored.id}:{code}"), stored.code_hash)
        if usable:
            uow.one_time_codes.save(stored.attempt(matches, now, policy))
        return matches

    def login_with_code(self, phone: str, code: str, *, ip: str = "", device: str = "") -> LoginResult:
        """Log in (registering a new customer at first login) with the code sent to ``phone``.

        Raises ValidationError for a malformed phone or code, AuthenticationFailed
        (``auth.invalid_credentials``) for a wrong, expired or used-up code,
        Throttled (``auth.throttled``) after too many failures, and
        AuthenticationFailed (``auth.suspended``) for a suspended account.
        """
        number = PhoneNumber.parse(phone)
        code = check_code(code, self._deps.policies.codes.digits)
        ip, device = check_client_info(ip, device)
        key = self._deps.cipher.blind_index("phone", number.e164)
        now = self._now()
        with self._uow() as uow:
            account = uow.accounts.find_by_phone(number)
            self._throttle(uow, LoginMethod.PHONE, key, account, now, ip, device)
            if not self._check_code(uow, key, CodePurpose.LOGIN, code, now):
                self._fail(uow, LoginMethod.PHONE, key, account, now, ip, device)
            new = account is None
            if account is None:
                account = self._store_new(uow, Account.register(self._new_account_id(), now, LoginMethod.PHONE,
                                                                phone=number))
            return self._succeed(uow, LoginMethod.PHONE, key, account, now, ip, device, new)

    def register_with_password(self, email: str, password: str, *, display_name: str = "",
                               ip: str = "", device: str = "") -> LoginResult:
        """Create a customer account with email + password and log it in.

        Raises ValidationError (``email.invalid``, ``password.too_short``,
        ``password.too_long``, ``password.common``...) and Conflict
        (``account.duplicate``) when the email is already registered.
        """
        address = Email.parse(email)
        password = check_new_password(password, self._deps.policies, self._deps.common_passwords,
                                      address.address, address.address.partition("@")[0])
        ip, device = check_client_info(ip, device)
        if not isinstance(display_name, str) or len(display_name) > 50:
            raise ValidationError("display name must be at most 50 characters", code="profile.too_long",
                                  field="display_name")
        key = self._deps.cipher.blind_index("email", address.address)
        password_hash = self._deps.hasher.hash(password)
        now = self._now()
        with self._uow() as uow:
            if uow.accounts.find_by_email(address) is not None:
                raise Conflict("this email is already registered", code="account.duplicate")
            account = self._store_new(uow, Account.register(
                self._new_account_id(), now, LoginMethod.PASSWORD, email=address, password_hash=password_hash,
                display_name=display_name.strip()))
            return self._succeed(uow, LoginMethod.PASSWORD, key, account, now, ip, device, True)

    def login_with_password(self, email: str, password: str, *, ip: str = "", device: str = "") -> LoginResult:
        """Log in with email + password.

        Raises ValidationError for malformed input, AuthenticationFailed
        (``auth.invalid_credentials``) for a wrong password or unknown email
        (indistinguishable), Throttled (``auth.throttled``), AuthenticationFailed
        (``auth.suspended``).
        """
        address = Email.parse(email)
        password = check_login_password(password, self._deps.policies)
        ip, device = check_client_info(ip, device)
        key = self._deps.cipher.blind_index("email", address.address)
        now = self._now()
        with self._uow() as uow:
            account = uow.accounts.find_by_email(address)
            self._throttle(uow, LoginMethod.PASSWORD, key, account, now, ip, device)
            if account is not None and account.password_hash is not None:
                ok = self._deps.hasher.verify(account.password_hash, password)
            else:
                self._deps.hasher.dummy_verify(password)
                ok = False
            if not ok or account is None:
                self._fail(uow, LoginMethod.PASSWORD, key, account, now, ip, device)
            if self._deps.hasher.needs_rehash(account.password_hash or ""):
                account = uow.accounts.save(account.change_password_hash(self._deps.hasher.hash(password)))
            return self._succeed(uow, LoginMethod.PASSWORD, key, account, now, ip, device, False)

    def login_with_identity(self, provider_name: str, authorization_code: str, *, ip: str = "",
                            device: str = "") -> LoginResult:
        """Log in (registering at first login) with a WeChat or Alipay authorisation code.

        Raises ValidationError (``identity.provider``) for an unknown provider,
        AuthenticationFailed (``identity.invalid_code``) when the provider
        does not vouch for the code, AuthenticationFailed (``auth.suspended``).
        """
        prov = provider(provider_name)
        ip, device = check_client_info(ip, device)
        method = LoginMethod(prov.value)
        now = self._now()
        try:
            identity = self._deps.identity_provider.verify(prov, authorization_code)
        except AuthenticationFailed:
            with self._uow() as uow:
                self._record(uow, method, "", None, LoginOutcome.FAILED, now, ip, device)
                uow.commit()
            raise
        key = self._deps.cipher.blind_index(prov.value, identity.subject)
        with self._uow() as uow:
            account = uow.accounts.find_by_identity(prov, identity.subject)
            new = account is None
            if account is None:
                account = self._store_new(uow, Account.register(self._new_account_id(), now, method,
                                                                identity=identity))
            return self._succeed(uow, method, key, account, now, ip, device, new)

    def authenticate(self, token: str) -> Actor:
        """Return the Actor behind a session token.

        Raises ValidationError (``token.malformed``) for something that is not
        a token, AuthenticationFailed (``auth.session_invalid``) for an unknown,
        expired or revoked session or a suspended account.
        """
        token_hash = hash_token(check_token(token))
        now = self._now()
        with self._uow() as uow:
            session = uow.sessions.find_by_token_hash(token_hash)
            if session is None or not session.is_live(now):
                raise session_invalid()
            account = uow.accounts.get(session.account_id)
            if not account.is_active:
                raise session_invalid()
            return actor_of(account)

    def logout(self, token: str) -> None:
        """Revoke the session of ``token``. Raises like ``authenticate`` when it is not live."""
        token_hash = hash_token(check_token(token))
        now = self._now()
        with self._uow() as uow:
            session = uow.sessions.find_by_token_hash(token_hash)
            if session is None or not session.is_live(now):
                raise session_invalid()
            uow.sessions.save(session.revoke(now))
            uow.commit()

    # -- shared steps -------------------------------------------------------------------------

    def _new_account_id(self) -> AccountId:
        return AccountId(self._deps.ids.new_id("account"))

    @staticmethod
    def _store_new(uow: UnitOfWork, account: Account) -> Account:
        uow.record(account.events)
        return uow.accounts.add(account)

    def _record(self, uow: UnitOfWork, method: LoginMethod, key: str, account: Account | None,
                outcome: LoginOutcome, now: Instant, ip: str, device: str) -> None:
        uow.login_records.add(LoginRecord(
            id=LoginRecordId(self._deps.ids.new_id("login_record")), at=now, method=method, subject_key=key,
            outcome=outcome, account_id=account.id if account else None, ip=ip, device=device))

    def _throttle(self, uow: UnitOfWork, method: LoginMethod, key: str, account: Account | None,
                  now: Instant, ip: str, device: str) -> None:
        policy = self._deps.policies.throttle
        failures = uow.login_records.failures_since(key, account.id if account else None, now - policy.window)
        wait = policy.retry_after(failures, now)
        if wait:
            self._record(uow, method, key, account, LoginOutcome.THROTTLED, now, ip, device)
            uow.commit()
            raise too_many_attempts(wait)

    def _fail(self, uow: UnitOfWork, method: LoginMethod, key: str, account: Account | None, now: Instant,
              ip: str, device: str) -> NoReturn:
        self._record(uow, method, key, account, LoginOutcome.FAILED, now, ip, device)
        uow.commit()
        raise invalid_credentials()

    def _succeed(self, uow: UnitOfWork, method: LoginMethod, key: str, account: Account, now: Instant,
                 ip: str, device: str, new: bool) -> LoginResult:
        if not account.is_active:
            self._record(uow, method, key, account, LoginOutcome.SUSPENDED, now, ip, device)
            uow.commit()
            raise AuthenticationFailed("this account is suspended", code="auth.suspended")
        token, token_hash = new_token()
        session = Session(
            id=SessionId(self._deps.ids.new_id("session")), account_id=account.id, token_hash=token_hash,
            method=method, created_at=now, expires_at=now + self._deps.policies.sessions.ttl, ip=ip, device=device)
        uow.sessions.add(session)
        self._record(uow, method, key, account, LoginOutcome.SUCCESS, now, ip, device)
        uow.commit()
        return LoginResult(token=token, session_id=session.id, account_id=account.id,
                           expires_at=session.expires_at, actor=actor_of(account), new_account=new)

