"""Sessions, one-time codes, login records and the policies that govern them.

Secrets never appear here in clear: a session holds the SHA-256 of its
token, a one-time code holds a keyed hash of the code, and identifiers
(phone, email, third-party id) appear only as blind-index keys.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import timedelta

import attrs
from attrs import frozen

from massage_core.domain.accounts import LoginMethod
from massage_core.domain.errors import AuthenticationFailed, Throttled
from massage_core.domain.ids import AccountId, LoginRecordId, OneTimeCodeId, SessionId
from massage_core.domain.time import Instant


@frozen
class SessionPolicy:
    """How long a session lives."""

    ttl: timedelta = timedelta(days=30)


@frozen
class ThrottlePolicy:
    """Failed logins: ``max_failures`` inside ``window`` lock further attempts.

    The lock lasts until the oldest of those failures leaves the window, so
    it expires by itself; attempts refused while locked are recorded but do
    not extend it.
    """

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)

    def retry_after(self, failures: Sequence[Instant], now: Instant) -> int:
        """Seconds to wait before another attempt (0 = go ahead)."""
        recent = sorted(f for f in failures if now - f < self.window)
        if len(recent) < self.max_failures:
            return 0
        unlock_at = recent[-self.max_failures] + self.window
        return max(int((unlock_at - now).total_seconds()) + 1, 1)


@frozen
class OneTimeCodePolicy:
    """SMS code rules: lifetime, tries, resend throttle, code length."""

    ttl: timedelta = timedelta(minutes=5)
    max_attempts: int = 5
    resend_interval: timedelta = timedelta(seconds=60)
    max_per_hour: int = 5
    digits: int = 6

    def resend_wait(self, sent: Sequence[Instant], now: Instant) -> int:
        """Seconds until another code may be sent to this number (0 = now)."""
        last_hour = sorted(s for s in sent if now - s < timedelta(hours=1))
        waits = [0]
        if last_hour and now - last_hour[-1] < self.resend_interval:
            waits.append(int((last_hour[-1] + self.resend_interval - now).total_seconds()) + 1)
        if len(last_hour) >= self.max_per_hour:
            waits.append(int((last_hour[-self.max_per_hour] + timedelta(hours=1) - now).total_seconds()) + 1)
        return max(waits)


class CodePurpose(enum.StrEnum):
    LOGIN = "login"
    LINK = "link"


@frozen
class OneTimeCode:
    """A code sent by SMS; only a keyed hash of it is kept."""

    id: OneTimeCodeId
    subject_key: str
    purpose: CodePurpose
    code_hash: str
    created_at: Instant
    expires_at: Instant
    attempts: int = 0
    consumed_at: Instant | None = None

    def is_usable(self, now: Instant, policy: OneTimeCodePolicy) -> bool:
        return self.consumed_at is None and now < self.expires_at and self.attempts < policy.max_attempts

    def attempt(self, matches: bool, now: Instant, policy: OneTimeCodePolicy) -> OneTimeCode:
        """Record one try; consumed when it matches while usable."""
        if not self.is_usable(now, policy):
            return self
        if matches:
            return attrs.evolve(self, attempts=self.attempts + 1, consumed_at=now)
        return attrs.evolve(self, attempts=self.attempts + 1)


@frozen
class Session:
    """A logged-in session; the token itself is never stored."""

    id: SessionId
    account_id: AccountId
    token_hash: str
    method: LoginMethod
    created_at: Instant
    expires_at: Instant
    revoked_at: Instant | None = None
    ip: str = ""
    device: str = ""

    def is_live(self, now: Instant) -> bool:
        return self.revoked_at is None and now < self.expires_at

    def revoke(self, now: Instant) -> Session:
        return self if self.revoked_at is not None else attrs.evolve(self, revoked_at=now)


class LoginOutcome(enum.StrEnum):
    SUCCESS = "success"
    FAILED = "failed"
    THROTTLED = "throttled"
    SUSPENDED = "suspended"


@frozen
class LoginRecord:
    """One login attempt, whatever its outcome."""

    id: LoginRecordId
    at: Instant
    method: LoginMethod
    subject_key: str
    outcome: LoginOutcome
    account_id: AccountId | None = None
    ip: str = ""
    device: str = ""


def check_client_info(ip: object, device: object) -> tuple[str, str]:
    """Validate the caller-supplied IP and device strings (free text, bounded)."""
    from massage_core.domain.errors import ValidationError

    if not isinstance(ip, str) or len(ip) > 64:
        raise ValidationError("ip must be a string of at most 64 characters", code="login.ip", field="ip")
    if not isinstance(device, str) or len(device) > 256:
        raise ValidationError("device must be a string of at most 256 characters", code="login.device", field="device")
    return ip, device


INVALID_CREDENTIALS = "auth.invalid_credentials"


def invalid_credentials() -> AuthenticationFailed:
    """The one error for every failed login, so nobody learns whether an account exists."""
    return AuthenticationFailed("invalid credentials", code=INVALID_CREDENTIALS)


def too_many_attempts(seconds: int) -> Throttled:
    return Throttled(f"too many attempts; try again in {seconds} s", code="auth.throttled", retry_after_seconds=seconds)
