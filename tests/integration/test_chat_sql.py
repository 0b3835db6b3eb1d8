"""Order chat on SQLite and PostgreSQL (decision 0045): the round trip, the text encrypted at rest, bound to its
row and re-encrypted by key rotation, concurrent sends numbered without a gap or a clash, one binding when both
parties ask for the call number at the same moment, and ended orders' numbers released first."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import text

from massage_core.adapters.crypto.field_cipher import AesGcmFieldCipher
from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.memory.ids import UlidGenerator
from massage_core.adapters.memory.virtual_numbers import SandboxVirtualNumbers
from massage_core.adapters.sql.fields import CHAT_TEXT
from massage_core.adapters.sql.key_rotation import SqlFieldReencryptor
from massage_core.adapters.sql.uow import SqlUnitOfWork
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor, Role
from massage_core.domain.errors import IntegrityError
from massage_core.domain.cancellation import CancellationPolicy
from massage_core.domain.ids import AccountId
from massage_core.domain.order_states import OrderId, Who
from order_support import happy_path
from search_support import shop, therapist as public_therapist
from storage_support import make_account

CANARY = "Canary-chat-5d1e bring the lavender oil"
SYSTEM = Actor.system()
T = TypeVar("T")


def accepted(platform: Platform) -> tuple[str, Actor, Actor]:
    """An accepted order stored through the repository, with its customer and its therapist (both with
    phones)."""
    catalogue = shop(platform.deps.uow)
    therapist_id = AccountId(public_therapist(platform.deps.uow, 31.23, 121.47, services=(catalogue.tuina,)))
    customer = make_account()
    with platform.deps.uow() as uow:
        uow.accounts.add(customer)
        uow.commit()
    customer_actor = Actor(customer.id, roles=frozenset({Role.CUSTOMER}))
    therapist_actor = Actor(therapist_id, roles=frozenset({Role.THERAPIST}))
    return another(platform, customer_actor, therapist_actor), customer_actor, therapist_actor


def another(platform: Platform, customer: Actor, therapist: Actor) -> str:
    """One more accepted order of the same two parties."""
    assert customer.account_id is not None and therapist.account_id is not None
    order = happy_path(customer.account_id, therapist.account_id)[2]
    with platform.deps.uow() as uow:
        uow.orders.add(order)
        uow.commit()
    return order.id


def at_once(count: int, work: Callable[[], T]) -> list[T]:
    start = threading.Barrier(count)
    results: list[T] = []
    lock = threading.Lock()

    def run() -> None:
        start.wait()
        got = work()
        with lock:
            results.append(got)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_round_trip(platform: Platform, clock: FixedClock) -> None:
    order, customer, therapist = accepted(platform)
    chat = platform.chat
    sent = chat.send(customer, order, "my wechat: lily_8899, or 138 0013 8000")
    assert (sent.seq, sent.findings) == (1, ("contact_id", "phone"))
    assert "lily_8899" not in sent.text and "0013" not in sent.text
    chat.send(therapist, order, "see you soon")
    chat.send(therapist, order, CANARY)
    assert (chat.unread(customer, order), chat.unread(therapist, order)) == (2, 0)
    assert [m.seq for m in chat.messages(customer, order, limit=2)] == [2, 3]
    [first] = chat.messages(therapist, order, offset=2)
    assert first == sent
    assert chat.mark_read(customer, order) == 0
    assert chat.unread(customer, order) == 0
    number = chat.call_number(customer, order)
    assert chat.call_number(therapist, order) == number
    assert platform.chat.release_ended(SYSTEM) == 0  # live, the chat still open
    clock.set(number.expires_at)
    assert platform.chat.release_ended(SYSTEM) == 1
    with platform.deps.uow() as uow:
        binding = uow.chat.binding(order)
    assert binding is not None and binding.released_at == clock.now() and binding.number == number.number


def test_message_texts_are_encrypted_at_rest_and_bound_to_their_row(platform: Platform) -> None:
    order, customer, therapist = accepted(platform)
    platform.chat.send(customer, order, CANARY)
    platform.chat.send(therapist, order, "on my way")
    with platform.engine.connect() as connection:
        tokens = connection.execute(text("SELECT text_enc FROM chat_messages ORDER BY seq")).scalars().all()
    assert len(tokens) == 2 and all(CANARY not in t and "on my way" not in t for t in tokens)
    if str(platform.engine.url).startswith("sqlite"):
        path = Path(platform.engine.url.database or "")
        stored = b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))
        assert stored and CANARY.encode() not in stored and b"lavender" not in stored
    with platform.engine.begin() as connection:  # a token copied to another message no longer opens
        connection.execute(text("UPDATE chat_messages SET text_enc = :t WHERE seq = 2"), {"t": tokens[0]})
    with pytest.raises(IntegrityError) as err:
        platform.chat.messages(customer, order)
    assert err.value.code == "crypto.decrypt"


def test_concurrent_sends_get_distinct_consecutive_numbers(platform: Platform) -> None:
    order, customer, therapist = accepted(platform)
    senders = [customer, therapist] * 3
    lock = threading.Lock()

    def send() -> int:
        with lock:
            actor = senders.pop()
        return platform.chat.send(actor, order, "ping").seq

    assert sorted(at_once(6, send)) == [1, 2, 3, 4, 5, 6]
    assert [m.seq for m in platform.chat.messages(customer, order)] == [1, 2, 3, 4, 5, 6]


def test_both_parties_asking_at_once_make_one_binding(platform: Platform) -> None:
    order, customer, therapist = accepted(platform)
    actors = [customer, therapist] * 3
    lock = threading.Lock()

    def ask() -> str:
        with lock:
            actor = actors.pop()
        return platform.chat.call_number(actor, order).number

    numbers = at_once(6, ask)
    assert len(set(numbers)) == 1
    with platform.engine.connect() as connection:
        rows = connection.execute(text("SELECT number FROM number_bindings")).scalars().all()
    assert rows == numbers[:1]
    sandbox = platform.virtual_numbers
    assert isinstance(sandbox, SandboxVirtualNumbers)
    assert [b.allocation.number for b in sandbox.live().values()] == numbers[:1]


def test_a_cancelled_orders_number_is_released_before_live_ones(platform: Platform, clock: FixedClock) -> None:
    live, customer, therapist = accepted(platform)
    ended = another(platform, customer, therapist)
    platform.chat.call_number(customer, live)
    platform.chat.call_number(customer, ended)
    assert customer.account_id is not None
    with platform.deps.uow() as uow:
        order = uow.orders.get(OrderId(ended))
        uow.orders.save(order.cancel(Who.customer(customer.account_id), clock.now(), CancellationPolicy()))
        uow.commit()
    assert platform.chat.release_ended(SYSTEM, limit=1) == 1
    with platform.deps.uow() as uow:
        assert [uow.chat.binding(OrderId(o)).released_at is not None  # type: ignore[union-attr]
                for o in (live, ended)] == [False, True]


def test_key_rotation_reencrypts_chat_texts(platform: Platform) -> None:
    order, customer, therapist = accepted(platform)
    platform.chat.send(customer, order, CANARY)
    platform.chat.send(therapist, order, "on my way")
    old = platform.deps.cipher
    assert isinstance(old, AesGcmFieldCipher)
    new = AesGcmFieldCipher(old.ring.rotated())
    rotation = SqlFieldReencryptor(platform.engine, new, (CHAT_TEXT,))
    assert rotation.pending() == 2
    assert rotation.reencrypt_batch(10) == 2 and rotation.pending() == 0
    with SqlUnitOfWork(platform.engine, new, UlidGenerator()) as uow:
        assert [m.text for m in uow.chat.latest(OrderId(order))] == [CANARY, "on my way"]
