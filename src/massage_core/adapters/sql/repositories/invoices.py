"""Invoices: the ``invoices`` row (optimistic ``version``; title name and email encrypted per field).

"One live invoice per order" is the unique ``live_order_id`` column (the order id while live, NULL once
voided): ``add`` checks first to answer ``invoice.exists`` plainly, and the constraint settles a race between
two concurrent requests (the loser's insert fails and is translated to the same Conflict).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.engine import Connection

from massage_core.adapters.sql.fields import INVOICE_EMAIL, INVOICE_TITLE_NAME, FieldCodec
from massage_core.adapters.sql.repositories._guard import guarded
from massage_core.adapters.sql.tables_invoices import invoices
from massage_core.domain.errors import Conflict, NotFound
from massage_core.domain.ids import AccountId
from massage_core.domain.invoices import CreditCode, Invoice, InvoiceId, InvoiceState, InvoiceTitle, TitleKind
from massage_core.domain.money import Money
from massage_core.domain.order_states import OrderId
from massage_core.ports.invoices import PAGE, InvoiceRepository

EXISTS = "invoice.exists"

_i = invoices
_BY_ID = select(_i).where(_i.c.id == bindparam("p_id"))
_LIVE = select(_i.c.id).where(_i.c.live_order_id == bindparam("p_order"))


class SqlInvoiceRepository(InvoiceRepository):
    """The ``invoices`` table; see the module docstring."""

    def __init__(self, connection: Connection, codec: FieldCodec) -> None:
        """Work inside ``connection``'s transaction; seal personal data with ``codec``."""
        self._conn = connection
        self._codec = codec

    def _values(self, invoice: Invoice, version: int) -> dict[str, Any]:
        key = (invoice.id,)
        return {
            "order_id": invoice.order_id, "live_order_id": invoice.order_id if invoice.is_live else None,
            "customer_id": invoice.customer_id, "title_kind": invoice.title.kind.value,
            "title_name_enc": self._codec.seal(INVOICE_TITLE_NAME, key, invoice.title.name),
            "credit_code": str(invoice.title.credit_code) if invoice.title.credit_code is not None else None,
            "email_enc": self._codec.seal(INVOICE_EMAIL, key, invoice.email),
            "state": invoice.state.value, "requested_at": invoice.requested_at,
            "currency": invoice.amount.currency if invoice.amount is not None else None,
            "amount_fen": invoice.amount.fen if invoice.amount is not None else None,
            "number": invoice.number, "issued_on": invoice.issued_on, "issued_at": invoice.issued_at,
            "voided_at": invoice.voided_at, "void_reason": invoice.void_reason, "version": version,
        }

    def _to_invoice(self, row: Row[Any]) -> Invoice:
        key = (row.id,)
        name = self._codec.open(INVOICE_TITLE_NAME, key, row.title_name_enc)
        code = CreditCode(row.credit_code) if row.credit_code is not None else None
        return Invoice(
            id=InvoiceId(row.id), order_id=OrderId(row.order_id), customer_id=AccountId(row.customer_id),
            title=InvoiceTitle(TitleKind(row.title_kind), name, code),
            email=self._codec.open(INVOICE_EMAIL, key, row.email_enc), requested_at=row.requested_at,
            state=InvoiceState(row.state),
            amount=Money(row.amount_fen, row.currency) if row.amount_fen is not None else None,
            number=row.number, issued_on=row.issued_on, issued_at=row.issued_at, voided_at=row.voided_at,
            void_reason=row.void_reason, version=row.version,
        )

    def add(self, invoice: Invoice) -> Invoice:
        """Insert with version 1; Conflict ``invoice.duplicate`` / ``invoice.exists`` (see the module docstring)."""
        with guarded(self._conn, duplicate=EXISTS):
            if self._conn.execute(_BY_ID, {"p_id": invoice.id}).first() is not None:
                raise Conflict(f"invoice {invoice.id} already exists", code="invoice.duplicate")
            if invoice.is_live and self._conn.execute(_LIVE, {"p_order": invoice.order_id}).first() is not None:
                raise Conflict(f"order {invoice.order_id} already has an invoice", code=EXISTS)
            self._conn.execute(insert(_i).values(id=invoice.id, **self._values(invoice, 1)))
        return attrs.evolve(invoice, version=1)

    def get(self, ident: InvoiceId) -> Invoice:
        """The invoice or NotFound."""
        row = self._conn.execute(_BY_ID, {"p_id": ident}).first()
        if row is None:
            raise NotFound("invoice", ident)
        return self._to_invoice(row)

    def save(self, invoice: Invoice) -> Invoice:
        """Update where the stored version is ``invoice.version``."""
        new_version = invoice.version + 1
        with guarded(self._conn, duplicate=EXISTS):
            result = self._conn.execute(
                update(_i).where(_i.c.id == invoice.id, _i.c.version == invoice.version)
                .values(self._values(invoice, new_version))
            )
            if result.rowcount == 0:
                if self._conn.execute(_BY_ID, {"p_id": invoice.id}).first() is None:
                    raise NotFound("invoice", invoice.id)
                raise Conflict("the invoice was changed by somebody else; reload it", code="conflict.stale")
        return attrs.evolve(invoice, version=new_version)

    def for_order(self, order_id: OrderId) -> Sequence[Invoice]:
        """Oldest request first."""
        query = select(_i).where(_i.c.order_id == order_id).order_by(_i.c.requested_at, _i.c.id)
        return [self._to_invoice(row) for row in self._conn.execute(query)]

    def list_for_customer(self, customer_id: AccountId, *, offset: int = 0, limit: int = PAGE) -> Sequence[Invoice]:
        """Newest request first."""
        query = (select(_i).where(_i.c.customer_id == customer_id)
                 .order_by(_i.c.requested_at.desc(), _i.c.id.desc()).offset(max(offset, 0)).limit(max(limit, 0)))
        return [self._to_invoice(row) for row in self._conn.execute(query)]

    def list_by_state(self, state: InvoiceState, *, offset: int = 0, limit: int = PAGE) -> Sequence[Invoice]:
        """Oldest request first."""
        query = (select(_i).where(_i.c.state == state.value)
                 .order_by(_i.c.requested_at, _i.c.id).offset(max(offset, 0)).limit(max(limit, 0)))
        return [self._to_invoice(row) for row in self._conn.execute(query)]
