"""Contact value objects: phone numbers (E.164) and email addresses.

Both are normalised at construction so equality, blind indexes and lookups
agree on one spelling.  Bad input raises ValidationError with a stable code.
"""

from __future__ import annotations

import email_validator
import phonenumbers
from attrs import frozen

from massage_core.domain.errors import ValidationError

DEFAULT_REGION = "CN"


@frozen
class PhoneNumber:
    """A valid phone number in E.164 form, e.g. ``+8613800138000``."""

    e164: str

    @classmethod
    def parse(cls, raw: object, region: str = DEFAULT_REGION) -> PhoneNumber:
        """Parse what a person typed (spaces, dashes, +86 or not); raise ValidationError if invalid."""
        if not isinstance(raw, str) or not raw.strip() or len(raw) > 40:
            raise ValidationError("phone number is required", code="phone.invalid", field="phone")
        try:
            parsed = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException as exc:
            raise ValidationError(f"not a phone number: {raw!r}", code="phone.invalid", field="phone") from exc
        if not phonenumbers.is_valid_number(parsed):
            raise ValidationError(f"not a valid phone number: {raw!r}", code="phone.invalid", field="phone")
        return cls(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))

    @property
    def national_digits(self) -> str:
        """The national significant number (for CN mobiles, the 11 digits)."""
        parsed = phonenumbers.parse(self.e164, None)
        return str(parsed.national_number)

    def __str__(self) -> str:
        return self.e164


@frozen
class Email:
    """A syntactically valid email address, lower-cased (no DNS lookup)."""

    address: str

    @classmethod
    def parse(cls, raw: object) -> Email:
        """Validate and normalise an email address; raise ValidationError if invalid."""
        if not isinstance(raw, str) or not raw.strip() or len(raw) > 254:
            raise ValidationError("email address is required", code="email.invalid", field="email")
        try:
            info = email_validator.validate_email(raw.strip(), check_deliverability=False)
        except email_validator.EmailNotValidError as exc:
            raise ValidationError(f"not a valid email address: {exc}", code="email.invalid", field="email") from exc
        return cls(info.normalized.lower())

    def __str__(self) -> str:
        return self.address
