"""Reading and verifying the tamper-evident operation log."""

from __future__ import annotations

from collections.abc import Sequence

from massage_core.domain.access import Actor, Permission
from massage_core.domain.audit import AuditEntry, ChainReport, verify_chain
from massage_core.domain.errors import ValidationError
from massage_core.services.base import Service

VERIFY_PAGE = 1000


class AuditService(Service):
    """For auditors and superadmins: list entries and check the hash chain."""

    def entries(self, actor: Actor, *, after_sequence: int = 0, limit: int = 100) -> Sequence[AuditEntry]:
        """Entries after ``after_sequence`` in chain order. Raises PermissionDenied without ``audit.read``."""
        if not isinstance(after_sequence, int) or isinstance(after_sequence, bool) or after_sequence < 0:
            raise ValidationError("after_sequence must be >= 0", code="page.offset", field="after_sequence")
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 1000:
            raise ValidationError("limit must be 1..1000", code="page.limit", field="limit")
        self._require(actor, Permission.AUDIT_READ, "audit.entries", "audit_log")
        with self._uow() as uow:
            return uow.audit.entries(after_sequence=after_sequence, limit=limit)

    def verify(self, actor: Actor) -> ChainReport:
        """Walk the whole chain; the report names the first broken entry, if any.

        Detects edited, deleted, reordered and inserted entries, and a cut-off
        tail (against the separately kept head).  Raises PermissionDenied without ``audit.read``.
        """
        self._require(actor, Permission.AUDIT_READ, "audit.verify", "audit_log")
        with self._uow() as uow:
            head = uow.audit.head()
            entries: list[AuditEntry] = []
            after = 0
            while True:
                page = uow.audit.entries(after_sequence=after, limit=VERIFY_PAGE)
                entries.extend(page)
                if len(page) < VERIFY_PAGE:
                    break
                after = page[-1].sequence
        return verify_chain(entries, head)
