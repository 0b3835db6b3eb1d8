"""Masking personal data for display where the full value is not needed."""

from __future__ import annotations


def mask_phone(e164_or_digits: str) -> str:
    """``+8613800138000`` -> ``138****8000``: first 3 and last 4 national digits."""
    digits = e164_or_digits[3:] if e164_or_digits.startswith("+86") else e164_or_digits.lstrip("+")
    if len(digits) <= 7:
        return digits[:1] + "*" * max(len(digits) - 2, 1) + digits[-1:]
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def mask_email(address: str) -> str:
    """``zhang.san@example.com`` -> ``z***@example.com``."""
    local, sep, domain = address.partition("@")
    if not sep:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_name(name: str) -> str:
    """``张三丰`` -> ``张**``; keeps the first character only."""
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


def mask_id_number(number: str) -> str:
    """Resident ID ``110101199003078515`` -> ``1101**********8515``."""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_subject(subject: str) -> str:
    """A third-party account id: keep 3 characters at each end."""
    if len(subject) <= 6:
        return "*" * len(subject)
    return subject[:3] + "***" + subject[-3:]
