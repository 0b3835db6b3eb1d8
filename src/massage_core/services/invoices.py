"""The invoices context (``platform.invoices``): customers ask for invoices of their paid orders; finance
issues and voids them through the ``InvoiceIssuer`` port (decision 0030).

- A customer (``orders.place``) requests an invoice for their own order once it is paid and not fully
  refunded, lists their invoices and reads one.  Somebody else's order or invoice looks missing (NotFound,
  audited as a denial).
- Finance admins and superadmins (``invoices.manage``; the system too) list the queue by state, issue a
  requested invoice (the issuer gives the number and date; the amount is what the customer paid net of
  refunds at that moment) and void a request or an issued invoice with a reason.  Issuing and voiding are
  audited.  They see the title and the credit code in full (they need them to issue) and the email masked.
- A refund after issue does not change the invoice: its view says ``needs_reissue`` while its amount is
  more than the order's net paid, and finance voids it; the customer then requests a new one.
"""

from __future__ import annotations

from collections.abc import Sequence

import datetime as dt

from attrs import frozen

from massage_core.domain.access import Actor, Permission
from massage_core.domain.errors import ValidationError
from massage_core.domain.ids import AccountId
from massage_core.domain.invoices import (
    Invoice,
    InvoiceAction,
    InvoiceState,
    InvoiceTitle,
    TitleKind,
    invoice_id,
)
from massage_core.domain.masking import mask_email
from massage_core.domain.money import Money
from massage_core.domain.order_states import order_id
from massage_core.domain.orders import Order
from massage_core.domain.time import Instant
from massage_core.ports.invoices import InvoiceIssuer
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.base import Dependencies, not_found, page_bounds
from massage_core.services.base import Service as BaseService


@frozen
class InvoiceView:
    """An invoice as its reader may see it (``email`` masked for the back office).

    ``net_paid`` is what the customer has paid for the order net of refunds now; ``needs_reissue`` is true
    for an issued invoice whose amount is more than that (a refund came after it was issued).
    """

    id: str
    order_id: str
    customer_id: str
    state: InvoiceState
    title_kind: TitleKind
    title_name: str
    credit_code: str | None
    email: str
    requested_at: Instant
    amount: Money | None
    number: str | None
    issued_on: dt.date | None
    issued_at: Instant | None
    voided_at: Instant | None
    void_reason: str | None
    net_paid: Money
    needs_reissue: bool

    @classmethod
    def of(cls, invoice: Invoice, order: Order, *, masked: bool) -> InvoiceView:
        code = invoice.title.credit_code
        net = order.retained
        return cls(
            id=invoice.id, order_id=invoice.order_id, customer_id=invoice.customer_id, state=invoice.state,
            title_kind=invoice.title.kind, title_name=invoice.title.name,
            credit_code=str(code) if code is not None else None,
            email=mask_email(invoice.email) if masked else invoice.email, requested_at=invoice.requested_at,
            amount=invoice.amount, number=invoice.number, issued_on=invoice.issued_on, issued_at=invoice.issued_at,
            voided_at=invoice.voided_at, void_reason=invoice.void_reason, net_paid=net,
            needs_reissue=invoice.state is InvoiceState.ISSUED and invoice.amount is not None and net < invoice.amount,
        )



def _state(raw: str) -> InvoiceState:
    try:
        return InvoiceState(raw)
    except ValueError:
        raise ValidationError(f"unknown invoice state {str(raw)[:20]!r}: requested, issued or voided",
                              code="invoice.state", field="state") from None


def _net_paid(order: Order) -> Money:
    """What the customer paid net of refunds; ValidationError when nothing (``invoice.unpaid`` /
    ``invoice.refunded``)."""
    if order.paid.fen <= 0:
        raise ValidationError("the order is not paid yet: an invoice is for a paid order", code="invoice.unpaid")
    if order.retained.fen <= 0:
        raise ValidationError("the order was refunded in full: there is nothing to invoice",
                              code="invoice.refunded")
    return order.retained


class InvoicesService(BaseService):
    """Invoice requests and the finance queue; see the module docstring."""

    def __init__(self, deps: Dependencies, issuer: InvoiceIssuer) -> None:
        """Use ``deps`` like every service and ``issuer`` for the tax system."""
        super().__init__(deps)
        self.issuer = issuer

    # -- customers ------------------------------------------------------------------------------------------

    def _customer(self, actor: Actor, action: str) -> AccountId:
        self._require(actor, Permission.ORDERS_PLACE, action, actor.label)
        if actor.account_id is None:
            raise ValidationError("the system has no account of its own", code="actor.no_account")
        return actor.account_id

    def request(self, actor: Actor, order: str, *, title: str, email: str,
                credit_code: str | None = None) -> InvoiceView:
        """Ask for an electronic ordinary invoice (电子普通发票) of the actor's own paid ``order``, made out to
        ``title`` -- a person's name, or with ``credit_code`` a company's name and its unified social
        credit code -- and delivered to ``email``.

        Raises PermissionDenied without ``orders.place``; ValidationError ``actor.no_account`` (the system),
        ``invalid_id``, ``invoice.title``, ``invoice.credit_code*``, ``email.invalid``, ``invoice.unpaid``,
        ``invoice.refunded`` (fully refunded); NotFound for an unknown order or somebody else's; Conflict
        ``invoice.exists`` when the order already has a live (not voided) invoice.
        """
        me = self._customer(actor, "invoices.request")
        oid = order_id(order)
        made_out = InvoiceTitle.of(title, credit_code)
        fresh = Invoice.request(self._deps.ids.new_id("invoice"), oid, me, made_out, email, self._now())
        with self._guard(actor, "invoices.request", oid), self._uow() as uow:
            found = self._own_order(uow, actor, oid)
            _net_paid(found)
            saved = uow.invoices.add(fresh)
            uow.commit()
            return InvoiceView.of(saved, found, masked=False)

    def list_mine(self, actor: Actor, *, offset: int = 0, limit: int = 20) -> Sequence[InvoiceView]:
        """The actor's own invoices, newest request first.  PermissionDenied without ``orders.place``;
        ValidationError ``actor.no_account``, ``page.*``."""
        offset, limit = page_bounds(offset, limit)
        me = self._customer(actor, "invoices.list_mine")
        with self._uow() as uow:
            found = uow.invoices.list_for_customer(me, offset=offset, limit=limit)
            return [InvoiceView.of(i, uow.orders.get(i.order_id), masked=False) for i in found]

    def get(self, actor: Actor, invoice: str) -> InvoiceView:
        """One invoice: its customer sees it in full; ``invoices.manage`` sees any with the email masked.

        Raises PermissionDenied for anybody else; NotFound for an unknown invoice or (for a customer)
        somebody else's; ValidationError ``invalid_id``.
        """
        ident = invoice_id(invoice)
        manager = actor.may(Permission.INVOICES_MANAGE)
        if not manager:
            self._require(actor, Permission.ORDERS_PLACE, "invoices.get", ident)
        with self._guard(actor, "invoices.get", ident), self._uow() as uow:
            found = uow.invoices.get(ident)
            if not manager and not actor.owns(found.customer_id):
                raise not_found("invoice", ident)
            return InvoiceView.of(found, uow.orders.get(found.order_id), masked=manager)

    # -- finance ----------------------------------------------------------------------------------------------

    def list(self, actor: Actor, *, state: str = "requested", offset: int = 0,
             limit: int = 50) -> Sequence[InvoiceView]:
        """Invoices in ``state`` (default ``requested``: the queue to issue), oldest request first, email
        masked.  PermissionDenied without ``invoices.manage``; ValidationError ``invoice.state``, ``page.*``."""
        wanted = _state(state)
        offset, limit = page_bounds(offset, limit)
        self._require(actor, Permission.INVOICES_MANAGE, "invoices.list", wanted.value)
        with self._uow() as uow:
            found = uow.invoices.list_by_state(wanted, offset=offset, limit=limit)
            return [InvoiceView.of(i, uow.orders.get(i.order_id), masked=True) for i in found]

    def issue(self, actor: Actor, invoice: str) -> InvoiceView:
        """Issue a requested invoice through the issuer, for what the customer paid net of refunds now. Audited.

        Raises PermissionDenied without ``invoices.manage``; NotFound; InvalidTransition unless requested;
        ValidationError ``invoice.refunded`` (refunded in full since the request: void it instead),
        ``invalid_id``; Conflict ``conflict.stale``; the issuer's errors (nothing is stored then).
        """
        ident = invoice_id(invoice)
        self._require(actor, Permission.INVOICES_MANAGE, "invoices.issue", ident)
        now = self._now()
        with self._uow() as uow:
            current = uow.invoices.get(ident)
            order = uow.orders.get(current.order_id)
            net = _net_paid(order)
            current.next_state(InvoiceAction.ISSUE)  # refuse an illegal transition before the tax system
            answer = self.issuer.issue(current.for_amount(net))
            saved = uow.invoices.save(current.issue(answer.number, answer.issued_on, net, net, now))
            self._audit_ok(uow, actor, "invoices.issue", ident, now, order=saved.order_id,
                           number=saved.number or "", amount=str(net))
            uow.commit()
            return InvoiceView.of(saved, order, masked=True)

    def void(self, actor: Actor, invoice: str, reason: str) -> InvoiceView:
        """Void an invoice with ``reason``: a request is declined; an issued one is voided at the issuer too.
        The order may then get a new invoice.  Audited.

        Raises PermissionDenied without ``invoices.manage``; NotFound; InvalidTransition when already voided;
        ValidationError ``invoice.reason``, ``invalid_id``; Conflict ``conflict.stale``; the issuer's errors.
        """
        ident = invoice_id(invoice)
        self._require(actor, Permission.INVOICES_MANAGE, "invoices.void", ident)
        now = self._now()
        with self._uow() as uow:
            current = uow.invoices.get(ident)
            voided = current.void(reason, now)
            if current.number is not None:
                self.issuer.void(current.number, voided.void_reason or "")
            saved = uow.invoices.save(voided)
            self._audit_ok(uow, actor, "invoices.void", ident, now, order=saved.order_id,
                           number=saved.number or "", reason=saved.void_reason or "")
            uow.commit()
            return InvoiceView.of(saved, uow.orders.get(saved.order_id), masked=True)

    # -- helpers ----------------------------------------------------------------------------------------------

    @staticmethod
    def _own_order(uow: UnitOfWork, actor: Actor, oid: str) -> Order:
        found = uow.orders.get(order_id(oid))  # a missing order: NotFound, not a denial
        if not actor.owns(found.customer_id):
            raise not_found("order", oid)
        return found

