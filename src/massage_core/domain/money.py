"""Money as an integer number of fen, and splits that conserve every fen.

Rounding rule (largest remainder): each part first gets the floor of its
exact share; the fen left over go one each to the parts with the largest
fractional remainders, ties broken by position (earlier part first).  The
parts therefore always add up to the whole, and no part is ever more than
one fen away from its exact share.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from attrs import field, frozen

from massage_core.domain.errors import ValidationError

CURRENCIES = frozenset({"CNY"})


def _check_fen(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError("money must be an integer number of fen", code="money.not_integer")


def _check_currency(_instance: Any, _attribute: Any, value: Any) -> None:
    if value not in CURRENCIES:
        raise ValidationError(f"unsupported currency {value!r}", code="money.currency")


@frozen(order=False)
class Money:
    """An amount of money in integer fen (1 yuan = 100 fen)."""

    fen: int = field(validator=_check_fen)
    currency: str = field(default="CNY", validator=_check_currency)

    @classmethod
    def zero(cls, currency: str = "CNY") -> Money:
        """No money."""
        return cls(0, currency)

    @classmethod
    def yuan(cls, whole: int, fen: int = 0) -> Money:
        """Named constructor: ``Money.yuan(12, 50)`` is 12.50 CNY."""
        return cls(whole * 100 + fen)

    @classmethod
    def parse_yuan(cls, text: str) -> Money:
        """``"198"``, ``"198.5"`` or ``"¥198.50"`` as Money; ValidationError (``money.format``) otherwise."""
        raw = text.strip().removeprefix("¥") if isinstance(text, str) else ""
        whole, _, part = raw.partition(".")
        if not whole.isdigit() or not (part == "" or (part.isdigit() and len(part) <= 2)) or not raw.isascii():
            raise ValidationError(f"not an amount in yuan: {str(text)[:20]!r} (e.g. 198 or 198.50)",
                                  code="money.format")
        return cls(int(whole) * 100 + int(part.ljust(2, "0")))

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise ValidationError("cannot mix currencies", code="money.currency")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.fen + other.fen, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.fen - other.fen, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.fen, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.fen < other.fen

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.fen <= other.fen

    @property
    def is_negative(self) -> bool:
        return self.fen < 0

    def allocate(self, weights: Sequence[int]) -> tuple[Money, ...]:
        """Split into parts proportional to non-negative integer ``weights``.

        Returns one Money per weight; their sum is exactly ``self``.  Raises
        ValidationError for an empty list, a negative weight or all-zero weights.
        """
        if not weights:
            raise ValidationError("allocate needs at least one weight", code="money.weights")
        if any((not isinstance(w, int)) or isinstance(w, bool) or w < 0 for w in weights):
            raise ValidationError("weights must be non-negative integers", code="money.weights")
        total = sum(weights)
        if total == 0:
            raise ValidationError("weights must not all be zero", code="money.weights")
        sign = -1 if self.fen < 0 else 1
        amount = abs(self.fen)
        floors = [amount * w // total for w in weights]
        remainders = [amount * w % total for w in weights]
        left = amount - sum(floors)
        order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
        for i in order[:left]:
            floors[i] += 1
        return tuple(Money(sign * f, self.currency) for f in floors)

    def split_basis_points(self, basis_points: int) -> tuple[Money, Money]:
        """Split into (share, rest) where share is ``basis_points``/10000 of the whole.

        Uses the same largest-remainder rule, so share + rest == self exactly.
        """
        if not 0 <= basis_points <= 10_000:
            raise ValidationError("basis points must be within 0..10000", code="money.rate")
        share, rest = self.allocate([basis_points, 10_000 - basis_points])
        return share, rest

    def __str__(self) -> str:
        sign = "-" if self.fen < 0 else ""
        whole, part = divmod(abs(self.fen), 100)
        return f"{sign}¥{whole}.{part:02d}"
