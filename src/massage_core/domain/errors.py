"""One error root with stable machine-readable codes.

A web layer maps ``error.code`` (or the class) to an HTTP status without
parsing the message.  Codes never change once released.
"""

from __future__ import annotations

from collections.abc import Iterable


class MassageError(Exception):
    """Root of every error the library raises on purpose."""

    code: str = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


class ValidationError(MassageError):
    """Input is malformed or breaks a rule; nothing was changed."""

    code = "validation"

    def __init__(self, message: str, *, code: str = "validation", field: str | None = None) -> None:
        super().__init__(message, code=code)
        self.field = field


class NotFound(MassageError):
    """The object does not exist, or the actor may not see it (indistinguishable)."""

    code = "not_found"

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"{kind} {ident} not found", code="not_found")
        self.kind = kind
        self.ident = ident


class PermissionDenied(MassageError):
    """The actor's role does not allow the operation at all."""

    code = "permission_denied"


class AuthenticationFailed(MassageError):
    """Credentials, code or token were wrong; deliberately vague."""

    code = "auth.failed"


class Throttled(MassageError):
    """Too many attempts; retry after ``retry_after_seconds``."""

    code = "throttled"

    def __init__(self, message: str, *, code: str = "throttled", retry_after_seconds: int = 0) -> None:
        super().__init__(message, code=code)
        self.retry_after_seconds = retry_after_seconds


class Conflict(MassageError):
    """The change clashes with the current state (duplicate, stale version, overlap)."""

    code = "conflict"


class InvalidTransition(MassageError):
    """A workflow action is not allowed in the current state."""

    code = "invalid_transition"

    def __init__(self, state: str, action: str, allowed: Iterable[str]) -> None:
        self.state = state
        self.action = action
        self.allowed = tuple(sorted(allowed))
        super().__init__(
            f"cannot {action} in state {state}; allowed: {', '.join(self.allowed) or 'none'}",
            code="invalid_transition",
        )


class PaymentError(MassageError):
    """A payment gateway refused or could not be verified."""

    code = "payment"


class IntegrityError(MassageError):
    """Stored data failed an integrity check (tampering, wrong key, moved ciphertext)."""

    code = "integrity"
