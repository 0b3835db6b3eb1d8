"""Invoice ports: the tax system that issues invoices (``InvoiceIssuer``) and the invoice repository.

``InvoiceIssuer`` stands for the e-invoice service (a tax-control platform or a provider's API).  Our
invoice id is the idempotency key: issuing the same invoice again returns the same number and date, so a
use case that failed after the call may simply run again.

``InvoiceRepository`` (``uow.invoices``) stores invoices whole, with an optimistic ``version``.  An order
has at most one *live* (not voided) invoice: ``add`` refuses a second one with ``Conflict``
(``invoice.exists``), atomically with respect to concurrent requests (memory: the store's lock; SQL: a
unique ``live_order_id`` column, NULL once voided).
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Sequence

from attrs import frozen

from massage_core.domain.ids import AccountId
from massage_core.domain.invoices import Invoice, InvoiceId, InvoiceState
from massage_core.domain.order_states import OrderId

PAGE = 50
"""The default page size of the lists."""


@frozen
class IssuedInvoice:
    """What the tax system answered: the invoice number (8..20 digits) and the issue date (in China)."""

    number: str
    issued_on: dt.date


class InvoiceIssuer(abc.ABC):
    """The e-invoice service; see the module docstring."""

    @abc.abstractmethod
    def issue(self, invoice: Invoice) -> IssuedInvoice:
        """Issue ``invoice`` (its title, email and ``amount``, which must be set) and return its number and date.

        Idempotent by ``invoice.id``: a second call returns the first answer.  Raises ValidationError
        (``invoice.amount``) without an amount; ``MassageError`` (``invoice.unavailable``) when the service
        cannot be reached (nothing is known to have been issued; retry).
        """

    @abc.abstractmethod
    def void(self, number: str, reason: str) -> None:
        """Void (红冲/作废) the issued invoice ``number``.  Idempotent: voiding a voided invoice changes
        nothing.  Raises ValidationError (``invoice.number``) for a malformed number; ``MassageError``
        (``invoice.unavailable``) when the service cannot be reached."""


class InvoiceRepository(abc.ABC):
    """Invoices by id, by order, by customer and by state; see the module docstring."""

    @abc.abstractmethod
    def add(self, invoice: Invoice) -> Invoice:
        """Store a new invoice; return it with version 1.

        Raises Conflict ``invoice.exists`` when its order already has a live invoice, Conflict
        ``invoice.duplicate`` for a taken id, and (SQL) Conflict ``conflict.reference`` for an unknown
        order or customer.  A refused add changes nothing.
        """

    @abc.abstractmethod
    def get(self, ident: InvoiceId) -> Invoice:
        """Return the invoice; raise ``NotFound`` when there is none."""

    @abc.abstractmethod
    def save(self, invoice: Invoice) -> Invoice:
        """Store the changes of a loaded invoice; return it with version + 1.

        Raises Conflict ``conflict.stale`` when the stored version is not ``invoice.version``, NotFound when
        it does not exist.  A refused save changes nothing.
        """

    @abc.abstractmethod
    def for_order(self, order_id: OrderId) -> Sequence[Invoice]:
        """Every invoice of the order (voided ones too), oldest request first; empty for an unknown order."""

    @abc.abstractmethod
    def list_for_customer(self, customer_id: AccountId, *, offset: int = 0, limit: int = PAGE) -> Sequence[Invoice]:
        """The customer's invoices, newest request first (``requested_at`` then id, descending)."""

    @abc.abstractmethod
    def list_by_state(self, state: InvoiceState, *, offset: int = 0, limit: int = PAGE) -> Sequence[Invoice]:
        """Invoices in ``state``, oldest request first (a work queue: ``requested_at`` then id)."""
