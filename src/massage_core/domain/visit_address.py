"""Where a visit takes place: the customer's point (what dispatch and the travel fee use) and the address line
the therapist needs at the door.  Both are personal data: stored encrypted, shown in full only to the order's
customer and, once the order is theirs, its therapist; everybody else sees ``masked``."""

from __future__ import annotations

from attrs import field, frozen

from massage_core.domain.errors import ValidationError
from massage_core.domain.pricing import GeoPoint

MAX_LINE = 200


def _line(value: object) -> str:
    text = value.strip() if isinstance(value, str) else None
    if text is None or len(text) > MAX_LINE or any(ch in text for ch in "\r\n\x00"):
        raise ValidationError(f"the address must be one line of at most {MAX_LINE} characters",
                              code="order.address", field="address")
    return text


@frozen
class VisitAddress:
    """The visit's point (WGS-84) and address line (may be empty when only the point is known)."""

    point: GeoPoint
    line: str = field(default="", converter=_line)

    @classmethod
    def at(cls, lat: float, lng: float, line: str = "") -> VisitAddress:
        """Validate and build (ValidationError ``pricing.point``, ``order.address``)."""
        return cls(GeoPoint(lat, lng), line)

    @property
    def masked(self) -> str:
        """The first few characters of the line and a mask (a district, not a door)."""
        if not self.line:
            return ""
        keep = min(6, max(1, len(self.line) // 3))
        return self.line[:keep] + "***"

    def masked_view(self) -> VisitAddress:
        """The address as somebody who does not need the door sees it: the masked line, the point rounded to
        0.01 degrees (about a kilometre)."""
        return VisitAddress(GeoPoint(round(self.point.lat, 2), round(self.point.lng, 2)), self.masked)
