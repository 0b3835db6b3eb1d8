"""Checks shared by the tunable policies (dispatch, quality): weights, bounded numbers and whole numbers, each
refused with the policy's own ``ValidationError`` code and a message naming the value."""

from __future__ import annotations

import math
from collections.abc import Callable

from massage_core.domain.errors import ValidationError

ErrorFor = Callable[[str, str], ValidationError]
"""Builds the policy's error from the value's name and the rule it broke."""


def policy_error(policy: str, code: str) -> ErrorFor:
    """The error factory of one policy: ``"<policy>: <name> must be <rule>"`` with ``code``."""
    def error(name: str, rule: str) -> ValidationError:
        return ValidationError(f"{policy}: {name} must be {rule}", code=code, field=name)
    return error


def weight(value: object, error: ErrorFor) -> float:
    """A finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise error("a weight", "a finite number >= 0")
    return float(value)


def within(value: object, low: int, high: int, what: str, error: ErrorFor) -> float:
    """A number within ``low..high``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise error(what, f"within {low}..{high}")
    return float(value)


def whole(value: object, name: str, low: int, high: int, error: ErrorFor) -> int:
    """A whole number within ``low..high``."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise error(name, f"a whole number within {low}..{high}")
    return value
