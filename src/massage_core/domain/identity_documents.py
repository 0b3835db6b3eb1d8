"""Chinese resident identity card numbers (GB 11643-1999)."""

from __future__ import annotations

import datetime as dt

from attrs import frozen

from massage_core.domain.errors import ValidationError

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


@frozen
class ResidentIdNumber:
    """An 18-character resident ID number with a valid birth date and check digit."""

    value: str

    @classmethod
    def parse(cls, raw: object) -> ResidentIdNumber:
        """Normalise (strip, upper-case x) and validate; raise ValidationError otherwise."""
        if not isinstance(raw, str):
            raise ValidationError("ID number must be a string", code="id_number.invalid", field="id_number")
        value = raw.strip().upper()
        if len(value) != 18 or not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
            raise ValidationError("ID number must be 17 digits and a check character", code="id_number.invalid",
                                  field="id_number")
        try:
            dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
        except ValueError:
            raise ValidationError("ID number has an impossible birth date", code="id_number.birth_date",
                                  field="id_number") from None
        if int(value[6:10]) < 1900:
            raise ValidationError("ID number has an impossible birth date", code="id_number.birth_date",
                                  field="id_number")
        if check_digit(value[:17]) != value[17]:
            raise ValidationError("ID number check digit is wrong", code="id_number.check_digit", field="id_number")
        return cls(value)

    @property
    def birth_date(self) -> dt.date:
        return dt.date(int(self.value[6:10]), int(self.value[10:12]), int(self.value[12:14]))

    def __str__(self) -> str:
        return self.value
