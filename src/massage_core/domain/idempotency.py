"""Client request ids: a retried admin deduction or bonus is recognised instead of posted twice (decisions 0032,
0039).

A caller may name an attempt with a ``request_id`` (1..64 of ``A-Z a-z 0-9 _ -``).  The object's id is then
derived from the acting account and the request id -- SHA-256 of ``scope``, ``actor`` and ``request`` cut to
128 bits and written as a ULID-shaped body -- so the same request twice lands on the same id, hence on the
same ledger business key, while two admins (or two scopes) using the same request id never meet.  The same
id with different content is refused with Conflict ``request.reused``.
"""

from __future__ import annotations

import hashlib
import re

from massage_core.domain.errors import Conflict, ValidationError
from massage_core.domain.ids import PREFIXES, check_id

REUSED = "request.reused"
"""The Conflict code of a request id used again for a different request."""

_REQUEST = re.compile(r"[A-Za-z0-9_-]{1,64}")
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def request_id(raw: object) -> str:
    """Validate a client's request id; ValidationError ``request.id``."""
    if not isinstance(raw, str) or not _REQUEST.fullmatch(raw):
        raise ValidationError("request_id must be 1..64 letters, digits, '_' or '-'", code="request.id",
                              field="request_id")
    return raw


def derived_id(kind: str, actor: str, request: str) -> str:
    """The id of ``kind`` (an ``ids.PREFIXES`` key) that the request ``request`` of ``actor`` (an actor label)
    creates: the same arguments always give the same well-formed id."""
    digest = hashlib.sha256("\x1f".join((kind, actor, request_id(request))).encode()).digest()
    number = int.from_bytes(digest[:16], "big")
    body = "".join(_CROCKFORD[(number >> shift) & 31] for shift in range(125, -1, -5))
    return check_id(kind, f"{PREFIXES[kind]}_{body}")


def reused(request: str) -> Conflict:
    """The refusal of ``request`` sent again with a different content."""
    return Conflict(f"request {request} was already used for a different request", code=REUSED)
