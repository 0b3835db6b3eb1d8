"""Input checks and secret handling shared by the login and account services."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from massage_core.domain.errors import AuthenticationFailed, ValidationError
from massage_core.ports.passwords import CommonPasswords
from massage_core.services.base import Policies

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$")


def check_new_password(password: object, policies: Policies, common: CommonPasswords, *hints: str) -> str:
    """Return ``password`` when it may be set; raise ValidationError naming the rule otherwise.

    Any Unicode is allowed; length counts code points; common passwords and
    passwords equal to the account's own identifiers are refused.
    """
    if not isinstance(password, str):
        raise ValidationError("password must be a string", code="password.invalid", field="password")
    if len(password) < policies.password_min_length:
        raise ValidationError(
            f"password must have at least {policies.password_min_length} characters",
            code="password.too_short",
            field="password",
        )
    if len(password) > policies.password_max_length:
        raise ValidationError(
            f"password must have at most {policies.password_max_length} characters",
            code="password.too_long",
            field="password",
        )
    if common.is_common(password):
        raise ValidationError("password is too common", code="password.common", field="password")
    lowered = password.casefold()
    if any(h and lowered == h.casefold() for h in hints):
        raise ValidationError("password must differ from your login name", code="password.is_identifier",
                              field="password")
    return password


def check_login_password(password: object, policies: Policies) -> str:
    """A password typed at login: a string of bounded length (anything else is bad input)."""
    if not isinstance(password, str) or not password or len(password) > policies.password_max_length:
        raise ValidationError("password must be 1..128 characters", code="password.invalid", field="password")
    return password


def check_code(code: object, digits: int) -> str:
    """A one-time code: exactly ``digits`` ASCII digits."""
    if not isinstance(code, str) or len(code) != digits or not code.isascii() or not code.isdigit():
        raise ValidationError(f"code must be {digits} digits", code="otp.malformed", field="code")
    return code


def new_code(digits: int) -> str:
    """A uniformly random numeric code."""
    return f"{secrets.randbelow(10 ** digits):0{digits}d}"


def new_token() -> tuple[str, str]:
    """A bearer token of 256 random bits and the SHA-256 hex digest that is stored instead."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    """SHA-256 hex digest of a token (a token has enough entropy that no salt is needed)."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def check_token(token: object) -> str:
    """A bearer token as issued: 43 URL-safe base64 characters."""
    if not isinstance(token, str) or not TOKEN_PATTERN.fullmatch(token):
        raise ValidationError("malformed session token", code="token.malformed", field="token")
    return token


def same(a: str, b: str) -> bool:
    """Constant-time string comparison."""
    return hmac.compare_digest(a.encode(), b.encode())


def session_invalid() -> AuthenticationFailed:
    return AuthenticationFailed("session is invalid, expired or revoked", code="auth.session_invalid")


def invalid_login() -> AuthenticationFailed:
    """Same error as a failed login (see ``domain.authentication.invalid_credentials``)."""
    return AuthenticationFailed("invalid credentials", code="auth.invalid_credentials")
