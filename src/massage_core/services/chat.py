"""The order chat (``platform.chat``): T7, decision 0045.

* The order's customer (``orders.place``) and its assigned therapist (``orders.serve``) ``send`` messages from
  the acceptance until ``Policies.chat_after_completion_hours`` after completion (``domain.chat`` has the
  window); a cancelled, no-show, refunded or expired order's chat is closed at once.  Every text goes through
  the domain ``Screener`` (``Policies.review_words`` or its default list): phone numbers, WeChat / QQ ids,
  emails, links and sensitive words are masked before the message is stored -- the original is never stored.
  At most ``Policies.chat_per_minute`` messages per sender and order in any 60 seconds.  The other party is
  notified (``chat.message``, category orders, through the outbox in the same unit of work) of the first
  message they have not read yet -- one nudge per burst, never the text.
* The parties read their chat at any time (``messages``: paged back from the newest, newest last), see their
  ``unread`` count and ``mark_read``.  Mediators (``complaints.mediate``: support admins, superadmins) read an
  order's chat only while a complaint about the order is live (not resolved or withdrawn); every such read is
  audited.
* ``call_number``: the virtual number a party dials to reach the other (same window as the chat), bound
  lazily on the first request through the ``VirtualNumbers`` port for as long as the chat may stay open, and
  bound again if it expired meanwhile.  ``release_ended`` (a ``jobs.run_due`` rule) releases the bindings of
  orders whose chat closed, and expired ones.

Somebody else's order looks exactly like a missing one.  The system actor has no account to chat with.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import attrs
from attrs import frozen

from massage_core.domain.access import Actor, Permission
from massage_core.domain.chat import (
    ChatMessage,
    ChatParty,
    NumberBinding,
    binding_expiry,
    chat_text,
    check_open,
    is_open,
)
from massage_core.domain.complaints import LIVE_STATES
from massage_core.domain.errors import Conflict, PermissionDenied, Throttled, ValidationError
from massage_core.domain.ids import AccountId
from massage_core.domain.notifications import Category
from massage_core.domain.order_states import OrderId, order_id
from massage_core.domain.orders import Order
from massage_core.domain.screening import Screener
from massage_core.domain.time import Instant
from massage_core.ports.chat import BINDING_EXISTS, PAGE
from massage_core.ports.unit_of_work import UnitOfWork
from massage_core.ports.virtual_numbers import VirtualNumbers
from massage_core.services.base import Dependencies, Service, not_found, page_bounds
from massage_core.services.notify import Note, enqueue

RATE_WINDOW = dt.timedelta(seconds=60)


@frozen
class CallNumber:
    """The number a party dials to reach the other party of ``order_id``, valid until ``expires_at``."""

    order_id: OrderId
    number: str
    expires_at: Instant


class ChatService(Service):
    """Order chat and virtual numbers; see the module docstring."""

    def __init__(self, deps: Dependencies, numbers: VirtualNumbers) -> None:
        super().__init__(deps)
        self._numbers = numbers

    # -- who is asking ----------------------------------------------------------------------------------

    def _me(self, actor: Actor, action: str, target: str, *, mediators: bool = False) -> AccountId:
        """Refuse (audited) an actor who can be no party (nor, for reads, a mediator); ValidationError
        ``actor.no_account`` for the system."""
        allowed = (Permission.ORDERS_PLACE, Permission.ORDERS_SERVE) + (
            (Permission.COMPLAINTS_MEDIATE,) if mediators else ())
        if not any(actor.may(p) for p in allowed):
            self._audit_denied(actor, action, target, PermissionDenied.code)
            raise PermissionDenied(f"not allowed to {action}", code="permission_denied")
        if actor.account_id is None:
            raise ValidationError("the system has no account of its own", code="actor.no_account")
        return actor.account_id

    @staticmethod
    def _party(actor: Actor, order: Order) -> ChatParty | None:
        if order.therapist_id is not None and actor.owns(order.therapist_id) and actor.may(Permission.ORDERS_SERVE):
            return ChatParty.THERAPIST
        if actor.owns(order.customer_id) and actor.may(Permission.ORDERS_PLACE):
            return ChatParty.CUSTOMER
        return None

    def _parties_order(self, uow: UnitOfWork, actor: Actor, oid: OrderId) -> tuple[Order, ChatParty]:
        order = uow.orders.get(oid)
        party = self._party(actor, order)
        if party is None:
            raise not_found("order", oid)
        return order, party

    def _screener(self) -> Screener:
        words = self._deps.policies.review_words
        return Screener.default() if words is None else Screener.with_words(words)

    # -- the parties --------------------------------------------------------------------------------------

    def send(self, actor: Actor, order: str, text: str) -> ChatMessage:
        """Send ``text`` to the other party of ``order`` while its chat is open; return the stored message,
        whose text is masked (phones, WeChat / QQ ids, emails, links, sensitive words) and whose ``findings``
        name what was masked.

        Raises ValidationError ``invalid_id`` / ``chat.text`` (1..500 characters) / ``actor.no_account``,
        PermissionDenied (neither a customer nor a therapist), NotFound (missing or somebody else's order),
        Conflict ``chat.not_open`` / ``chat.closed``, Throttled ``chat.rate_limited`` (``chat_per_minute``
        reached; retry within 60 seconds)."""
        oid = order_id(order)
        body = chat_text(text)
        me = self._me(actor, "chat.send", oid)
        screening = self._screener().screen(body)
        kinds = tuple(dict.fromkeys(f.kind.value for f in screening.findings))
        now = self._now()
        policies = self._deps.policies
        with self._guard(actor, "chat.send", oid), self._uow() as uow:
            current, party = self._parties_order(uow, actor, oid)
            check_open(current, now, policies.chat_after_completion_hours)
            if uow.chat.sent_since(oid, me, now - RATE_WINDOW) >= policies.chat_per_minute:
                raise Throttled(f"at most {policies.chat_per_minute} messages a minute in one chat",
                                code="chat.rate_limited", retry_after_seconds=int(RATE_WINDOW.total_seconds()))
            saved = uow.chat.add(ChatMessage(oid, 0, me, party, screening.masked(), kinds, now))
            uow.chat.mark_read(oid, me, saved.seq, now)
            self._nudge(uow, current, party, saved, now)
            uow.commit()
        return saved

    def _nudge(self, uow: UnitOfWork, order: Order, party: ChatParty, saved: ChatMessage, now: Instant) -> None:
        """Tell the other party there is something to read -- only for the first message they have not read
        yet, so a burst of messages is one notification (``chat.message``, category orders, keyed
        ``chat:<order>:<seq>``); never the text itself."""
        other = order.therapist_id if party is ChatParty.CUSTOMER else order.customer_id
        if other is None or uow.chat.unread(order.id, other) != 1:
            return
        enqueue(uow, self._deps, Note("chat.message", f"chat:{order.id}:{saved.seq}", (other,), {"order": order.id},
                                      Category.ORDERS), now)

    def messages(self, actor: Actor, order: str, *, offset: int = 0, limit: int = PAGE) -> Sequence[ChatMessage]:
        """A page of the order's chat counted back from the newest (``offset`` newest skipped, then up to
        ``limit``), oldest first -- newest last.  The parties read at any time; mediators only while a complaint
        about the order is live, and each such read is audited (``chat.messages``).

        Raises ValidationError ``invalid_id`` / ``page.*`` / ``actor.no_account``, PermissionDenied (no
        party's role, not a mediator), NotFound (missing order, somebody else's, or -- for a mediator -- no
        live complaint)."""
        oid = order_id(order)
        offset, limit = page_bounds(offset, limit)
        self._me(actor, "chat.messages", oid, mediators=True)
        now = self._now()
        with self._guard(actor, "chat.messages", oid), self._uow() as uow:
            current = uow.orders.get(oid)
            if self._party(actor, current) is None:
                live = [c for c in uow.complaints.for_order(oid) if c.state in LIVE_STATES]
                if not live or not actor.may(Permission.COMPLAINTS_MEDIATE):
                    raise not_found("order", oid)
                found = list(uow.chat.latest(oid, offset=offset, limit=limit))
                self._audit_ok(uow, actor, "chat.messages", oid, now, complaint=live[0].id,
                               count=str(len(found)))
                uow.commit()
                return found
            return list(uow.chat.latest(oid, offset=offset, limit=limit))

    def mark_read(self, actor: Actor, order: str) -> int:
        """Mark every message of the order's chat read for the acting party; return the new unread count (0).

        Raises ValidationError ``invalid_id`` / ``actor.no_account``, PermissionDenied, NotFound (missing or
        somebody else's order)."""
        oid = order_id(order)
        me = self._me(actor, "chat.mark_read", oid)
        now = self._now()
        with self._guard(actor, "chat.mark_read", oid), self._uow() as uow:
            self._parties_order(uow, actor, oid)
            uow.chat.mark_read(oid, me, uow.chat.last_seq(oid), now)
            left = uow.chat.unread(oid, me)
            uow.commit()
        return left

    def unread(self, actor: Actor, order: str) -> int:
        """How many of the other party's messages in the order's chat the acting party has not read.

        Raises ValidationError ``invalid_id`` / ``actor.no_account``, PermissionDenied, NotFound (missing or
        somebody else's order)."""
        oid = order_id(order)
        me = self._me(actor, "chat.unread", oid)
        with self._guard(actor, "chat.unread", oid), self._uow() as uow:
            self._parties_order(uow, actor, oid)
            return uow.chat.unread(oid, me)

    def call_number(self, actor: Actor, order: str) -> CallNumber:
        """The virtual number the acting party dials to reach the other one, while the chat is open: bound on
        the first request (and again once expired) until the chat may close at the latest.

        Raises ValidationError ``invalid_id`` / ``actor.no_account``, PermissionDenied, NotFound (missing or
        somebody else's order), Conflict ``chat.not_open`` / ``chat.closed`` / ``chat.no_phone`` (a party has
        no phone number) / ``numbers.exhausted`` (the provider has no free number)."""
        oid = order_id(order)
        self._me(actor, "chat.call_number", oid)
        now = self._now()
        policies = self._deps.policies
        with self._guard(actor, "chat.call_number", oid), self._uow() as uow:
            current, _ = self._parties_order(uow, actor, oid)
            check_open(current, now, policies.chat_after_completion_hours)
            binding = uow.chat.binding(oid)
            if binding is None or not binding.live_at(now):
                binding = self._bind(uow, current, binding, now)
        return CallNumber(oid, binding.number, binding.expires_at)

    def _bind(self, uow: UnitOfWork, order: Order, old: NumberBinding | None, now: Instant) -> NumberBinding:
        """Bind a number for the order's parties and store it (commits); a concurrent binder's row wins."""
        assert order.therapist_id is not None  # an open chat has a therapist
        phones = []
        for party in (order.customer_id, order.therapist_id):
            phone = uow.accounts.get(party).phone
            if phone is None:
                raise Conflict(f"a party of order {order.id} has no phone number", code="chat.no_phone")
            phones.append(phone)
        policies = self._deps.policies
        expires = binding_expiry(order, now, policies.chat_after_completion_hours, policies.auto_complete_hours)
        if old is not None and old.released_at is None:
            self._numbers.release(old.reference)
        got = self._numbers.bind(order.id, phones[0], phones[1], expires)
        fresh = NumberBinding(order.id, got.number, got.reference, order.customer_id, order.therapist_id, now,
                              got.expires_at)
        try:
            stored = uow.chat.add_binding(fresh) if old is None else uow.chat.save_binding(fresh)
            uow.commit()
        except Conflict as clash:
            if clash.code != BINDING_EXISTS:
                raise
            uow.rollback()
            stored_row = uow.chat.binding(order.id)
            if stored_row is None:
                raise
            stored = stored_row
        return stored

    # -- the timer ------------------------------------------------------------------------------------------

    def release_ended(self, actor: Actor, *, limit: int = 200) -> int:
        """Release the virtual numbers of orders whose chat closed, and of expired bindings; return how many.
        Safe to rerun.  Raises PermissionDenied without ``jobs.run`` (the system, superadmins)."""
        self._require(actor, Permission.JOBS_RUN, "chat.release_ended", "chat")
        now = self._now()
        hours = self._deps.policies.chat_after_completion_hours
        with self._uow() as uow:
            candidates = list(uow.chat.unreleased(now, after_hours=hours, limit=limit))
        released = 0
        for binding in candidates:
            with self._uow() as uow:
                current = uow.chat.binding(binding.order_id)
                if current is None or current.released_at is not None:
                    continue
                if current.live_at(now) and is_open(uow.orders.get(current.order_id), now, hours):
                    continue
                self._numbers.release(current.reference)
                uow.chat.save_binding(attrs.evolve(current, released_at=now))
                uow.commit()
                released += 1
        return released
