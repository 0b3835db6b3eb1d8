"""In-memory invoices with the contract of the SQL ones, and the deterministic sandbox e-invoice service.

``SandboxInvoiceIssuer`` numbers invoices ``YYYYMMDD`` + an 8-digit sequence that restarts every day (the
day in China, from the clock), so numbers are readable and unique within one sandbox.  It is idempotent by
our invoice id and keeps what it issued and voided (``issued``, ``voided``) for tests.  Like the payment
sandbox it keeps its books in memory: a sandbox in another process starts its sequences again, and it
accepts voiding a well-formed number it did not issue itself (one issued by another process's sandbox).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import attrs

from massage_core.adapters.memory.store import Tables
from massage_core.domain.errors import Conflict, NotFound, ValidationError
from massage_core.domain.ids import AccountId
from massage_core.domain.invoices import Invoice, InvoiceId, InvoiceState, invoice_number
from massage_core.domain.order_states import OrderId
from massage_core.domain.time import local
from massage_core.ports.clock import Clock
from massage_core.ports.invoices import PAGE, InvoiceIssuer, InvoiceRepository, IssuedInvoice

EXISTS = "invoice.exists"


def _page(found: Sequence[Invoice], offset: int, limit: int) -> list[Invoice]:
    start = max(offset, 0)
    return list(found[start:start + max(limit, 0)])


class MemoryInvoiceRepository(InvoiceRepository):
    """Invoices in a dict keyed by id (the store's lock serialises units, so ``add`` checks and inserts
    atomically)."""

    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def add(self, invoice: Invoice) -> Invoice:
        """Store with version 1; Conflict ``invoice.duplicate`` / ``invoice.exists``."""
        if invoice.id in self._t.invoices:
            raise Conflict(f"invoice {invoice.id} already exists", code="invoice.duplicate")
        if invoice.is_live and any(i.is_live for i in self.for_order(invoice.order_id)):
            raise Conflict(f"order {invoice.order_id} already has an invoice", code=EXISTS)
        stored = attrs.evolve(invoice, version=1)
        self._t.invoices[invoice.id] = stored
        return stored

    def get(self, ident: InvoiceId) -> Invoice:
        """The invoice or NotFound."""
        try:
            return self._t.invoices[ident]
        except KeyError:
            raise NotFound("invoice", ident) from None

    def save(self, invoice: Invoice) -> Invoice:
        """Replace when the version matches (and the order keeps at most one live invoice)."""
        current = self.get(invoice.id)
        if current.version != invoice.version:
            raise Conflict("the invoice was changed by somebody else; reload it", code="conflict.stale")
        if invoice.is_live and any(i.is_live and i.id != invoice.id for i in self.for_order(invoice.order_id)):
            raise Conflict(f"order {invoice.order_id} already has an invoice", code=EXISTS)
        stored = attrs.evolve(invoice, version=invoice.version + 1)
        self._t.invoices[invoice.id] = stored
        return stored

    def for_order(self, order_id: OrderId) -> Sequence[Invoice]:
        """Oldest request first."""
        return sorted((i for i in self._t.invoices.values() if i.order_id == order_id),
                      key=lambda i: (i.requested_at, i.id))

    def list_for_customer(self, customer_id: AccountId, *, offset: int = 0, limit: int = PAGE) -> Sequence[Invoice]:
        """Newest request first."""
        found = sorted((i for i in self._t.invoices.values() if i.customer_id == customer_id),
                       key=lambda i: (i.requested_at, i.id), reverse=True)
        return _page(found, offset, limit)

    def list_by_state(self, state: InvoiceState, *, offset: int = 0, limit: int = PAGE) -> Sequence[Invoice]:
        """Oldest request first."""
        found = sorted((i for i in self._t.invoices.values() if i.state is state),
                       key=lambda i: (i.requested_at, i.id))
        return _page(found, offset, limit)


class SandboxInvoiceIssuer(InvoiceIssuer):
    """A deterministic e-invoice service: see the module docstring."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._sequences: dict[str, int] = {}
        self.issued: dict[str, IssuedInvoice] = {}
        """Our invoice id -> what was issued for it."""
        self.voided: dict[str, str] = {}
        """Invoice number -> the reason it was voided."""

    def issue(self, invoice: Invoice) -> IssuedInvoice:
        """The next number of today (China), or the number already issued for ``invoice.id``."""
        if invoice.amount is None or invoice.amount.fen <= 0:
            raise ValidationError("an invoice is issued for an amount", code="invoice.amount", field="amount")
        with self._lock:
            known = self.issued.get(invoice.id)
            if known is not None:
                return known
            day = local(self._clock.now()).date()
            key = day.strftime("%Y%m%d")
            self._sequences[key] = self._sequences.get(key, 0) + 1
            issued = IssuedInvoice(f"{key}{self._sequences[key]:08d}", day)
            self.issued[invoice.id] = issued
            return issued

    def void(self, number: str, reason: str) -> None:
        """Record the number as voided (idempotent)."""
        valid = invoice_number(number)
        with self._lock:
            self.voided.setdefault(valid, reason)
