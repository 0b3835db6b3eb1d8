"""The coupons context: administrators manage coupons; customers see what a coupon would take off.

Admins holding ``catalog.manage`` (superadmins, and the system) create, list and deactivate coupons;
creation and deactivation are audited.  Any account holder may ``check`` a coupon (by its code or id)
against a service and a discountable subtotal: the same rules the quote applies (``Coupon.check``, with
the account's own live usage), nothing changed.  Redemption belongs to the booking, which calls
``uow.coupons.redeem`` in its own unit of work (decision 0020).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from attrs import frozen

from massage_core.domain.access import Actor, Permission
from massage_core.domain.coupons import Coupon, CouponId, coupon_id
from massage_core.domain.errors import NotFound, ValidationError
from massage_core.domain.ids import AccountId, service_id
from massage_core.domain.money import Money
from massage_core.domain.time import Instant
from massage_core.ports.coupons import PAGE
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.services.base import Service as BaseService


@frozen
class CouponCheck:
    """What a coupon would take off for this customer: ``discount`` of the discountable ``subtotal``."""

    coupon_id: CouponId
    code: str | None
    name: str
    subtotal: Money
    discount: Money
    valid_until: Instant


def _as_money(value: Money | int, name: str) -> Money:
    if isinstance(value, Money):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Money(value)
    raise ValidationError(f"{name} must be Money or integer fen", code="coupon.invalid", field=name)


def _flag(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"{name} must be true or false", code="coupon.invalid", field=name)
    return value


def find_coupon(uow: UnitOfWork, code_or_id: str) -> Coupon:
    """By id when it looks like one (``cpn_...``), else by code; NotFound either way."""
    if isinstance(code_or_id, str) and code_or_id.startswith("cpn_"):
        return uow.coupons.get(coupon_id(code_or_id))
    found = uow.coupons.find_by_code(code_or_id)
    if found is None:
        raise NotFound("coupon", str(code_or_id)[:40])
    return found


class CouponsService(BaseService):
    """Coupon management and the customer's check; see the module docstring."""

    def _manage(self, actor: Actor, action: str, target: str) -> None:
        self._require(actor, Permission.CATALOG_MANAGE, action, target)

    def create(self, actor: Actor, name: str, *, valid_from: dt.datetime, valid_until: dt.datetime,
               amount_off: Money | int | None = None, percent_off_bp: int | None = None,
               max_discount: Money | int | None = None, min_spend: Money | int = 0,
               per_customer_limit: int | None = None, total_limit: int | None = None, single_use: bool = False,
               services: Iterable[str] = (), code: str | None = None) -> Coupon:
        """Create an active coupon: exactly one of ``amount_off`` (fen) or ``percent_off_bp``. Audited.

        ``code`` is an optional human code (case-insensitive, stored upper-cased).  Returns the stored
        coupon.  Raises ValidationError (``coupon.invalid``, ``coupon.code``, ``time.naive``,
        ``invalid_id``), NotFound for an unknown service, Conflict (``coupon.duplicate`` for a taken code),
        PermissionDenied without ``catalog.manage``.
        """
        fresh = Coupon(id=CouponId(self._deps.ids.new_id("coupon")), name=name, valid_from=valid_from,
                       valid_until=valid_until, amount_off=amount_off, percent_off_bp=percent_off_bp,
                       max_discount=max_discount, min_spend=min_spend, per_customer_limit=per_customer_limit,
                       total_limit=total_limit, single_use=single_use,
                       service_ids=[service_id(s) for s in services], code=code)
        self._manage(actor, "coupons.create", fresh.code or fresh.id)
        now = self._now()
        with self._uow() as uow:
            for service in sorted(fresh.service_ids):
                uow.catalog_services.get(service)
            saved = uow.coupons.add(fresh)
            self._audit_ok(uow, actor, "coupons.create", saved.id, now, code=saved.code or "",
                           kind=saved.kind.value, valid_until=saved.valid_until.to_iso8601_string())
            uow.commit()
            return saved

    def list(self, actor: Actor, *, active_only: bool = False, offset: int = 0,
             limit: int = PAGE) -> Sequence[Coupon]:
        """Coupons newest first (by ``valid_from``), a page at a time; only active ones when ``active_only``.

        Raises PermissionDenied without ``catalog.manage``, ValidationError (``coupon.invalid``) for a
        non-boolean ``active_only``.
        """
        only_active = _flag(active_only, "active_only")
        self._manage(actor, "coupons.list", "coupons")
        with self._uow() as uow:
            return list(uow.coupons.list(active_only=only_active, offset=offset, limit=limit))

    def deactivate(self, actor: Actor, coupon: str) -> Coupon:
        """Withdraw a coupon from offer (idempotent); orders already booked keep their discount. Audited.

        Raises ValidationError (``invalid_id``), NotFound, Conflict (``conflict.stale``), PermissionDenied.
        """
        target = coupon_id(coupon)
        self._manage(actor, "coupons.deactivate", target)
        now = self._now()
        with self._uow() as uow:
            current = uow.coupons.get(target)
            saved = uow.coupons.save(current.deactivate()) if current.active else current
            self._audit_ok(uow, actor, "coupons.deactivate", target, now)
            uow.commit()
            return saved

    def check(self, actor: Actor, code_or_id: str, service: str, subtotal: Money | int) -> CouponCheck:
        """What the coupon (a code in any case, or a ``cpn_`` id) would take off ``subtotal`` -- the
        discountable subtotal of a quote (service + night + holiday; decision 0015) -- on ``service`` for
        the acting account now.  Changes nothing.

        Raises PermissionDenied (anonymous), ValidationError ``actor.no_account`` (the system),
        NotFound for an unknown coupon or service, and the ``coupon.*`` refusals of ``Coupon.check``
        (ValidationError; Conflict ``coupon.exhausted`` / ``coupon.limit_reached``).
        """
        me = self._account(actor, "coupons.check")
        wanted = service_id(service)
        amount = _as_money(subtotal, "subtotal")
        now = self._now()
        with self._uow() as uow:
            uow.catalog_services.get(wanted)
            found = find_coupon(uow, code_or_id)
            found.check(service=wanted, subtotal=amount, usage=uow.coupons.usage(found.id, me), now=now)
            return CouponCheck(found.id, found.code, found.name, amount, found.discount(amount), found.valid_until)

    def _account(self, actor: Actor, action: str) -> AccountId:
        self._require(actor, Permission.OWN_ACCOUNT_READ, action, actor.label)
        if actor.account_id is None:
            raise ValidationError("the system has no account of its own", code="actor.no_account")
        return actor.account_id
