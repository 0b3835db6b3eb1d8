"""Issue 5, acceptance 3 on SQLite and PostgreSQL: a WeChat Pay callback delivered 10 times at once changes the
ledger exactly once.

``Platform.from_url`` runs on the real WeChat Pay adapter against the local stub (``tests/unit/wechatpay_stub``).
Ten threads deliver the same genuine notification behind a barrier -- through one platform, and through ten
platforms with their own engine and adapter (ten web workers: no shared replay memory, so only the database
can keep the payment single).  Afterwards: one ``payment captured`` entry under ``order:<id>:captured``, one
entry more in the ledger, clearing and prepayments at the order's total, the order paid once, and
``ledger verify`` clean.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pendulum
import pytest

from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.adapters.crypto.passwords import Argon2idPasswordHasher
from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.wechatpay import WeChatPayGateway
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor, Role
from massage_core.domain.errors import Conflict, MassageError
from massage_core.domain.ledger import Book, LedgerAccount
from massage_core.domain.order_states import OrderAction, OrderState
from search_support import PRICES, shop, therapist
from storage_support import Backend, make_account

UNIT = str(Path(__file__).resolve().parents[1] / "unit")
if UNIT not in sys.path:  # the WeChat Pay stub and its keys live with the unit tests
    sys.path.append(UNIT)

from wechatpay_kit import START, config, make_stub  # noqa: E402
from wechatpay_stub import WeChatPayStub  # noqa: E402

SYSTEM = Actor.system()
LAT, LNG = 31.2304, 121.4737
VISIT = pendulum.datetime(2026, 1, 6, 10, tz="Asia/Shanghai")
WEEK = {day: [("08:00", "20:00")] for day in range(1, 8)}
PRICE = PRICES["senior"]
DELIVERIES = 10
CLEARING, PREPAID = LedgerAccount.of(Book.GATEWAY_CLEARING), LedgerAccount.of(Book.CUSTOMER_PREPAYMENTS)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def stub(clock: FixedClock) -> Iterator[WeChatPayStub]:
    with make_stub(clock).serving() as running:
        yield running


def on_wechat(backend: Backend, clock: FixedClock, stub: WeChatPayStub, keyring: KeyRing) -> Platform:
    assert backend.url is not None
    return Platform.from_url(backend.url, keyring=keyring, clock=clock, hasher=Argon2idPasswordHasher.for_tests(),
                             payment_gateway=WeChatPayGateway(config(stub.url), clock))


def deliver(platform: Platform, headers: dict[str, str], body: bytes) -> tuple[int, str]:
    """One delivery, retried as WeChat retries when the database was busy (SQLite's writer lock)."""
    while True:
        try:
            view = platform.orders.payment_callback(dict(headers), bytes(body))
            return view.version, view.state.value
        except Conflict as busy:
            if busy.code not in ("conflict.busy", "conflict.stale"):
                raise


@pytest.mark.parametrize("workers", ["one platform", "a platform per delivery"])
def test_ten_concurrent_deliveries_post_one_capture(sql_backend: Backend, clock: FixedClock, stub: WeChatPayStub,
                                                    workers: str) -> None:
    keyring = KeyRing.generate()
    platform = on_wechat(sql_backend, clock, stub, keyring)
    platforms = [platform] * DELIVERIES if workers == "one platform" else [
        on_wechat(sql_backend, clock, stub, keyring) for _ in range(DELIVERIES)]
    try:
        catalogue = shop(platform.deps.uow)
        serving = therapist(platform.deps.uow, LAT, LNG, services=(catalogue.tuina,))
        platform.schedules.set_weekly_hours(SYSTEM, serving, WEEK)
        platform.schedules.set_online(SYSTEM, serving, True)
        account = make_account()
        with platform.deps.uow() as uow:
            uow.accounts.add(account)
            uow.commit()
        customer = Actor(account.id, roles=frozenset({Role.CUSTOMER}))
        order = platform.orders.book(customer, therapist=serving, service=catalogue.tuina, start=VISIT, lat=LAT,
                                     lng=LNG)
        with platform.deps.uow() as uow:
            entries_before = uow.ledger.entry_count()
        headers, body = stub.pay(order.id)
        barrier = threading.Barrier(DELIVERIES)
        results: list[tuple[int, str] | BaseException] = []

        def run(worker: Platform) -> None:
            try:
                barrier.wait()
                results.append(deliver(worker, headers, body))
            except (MassageError, AssertionError) as error:
                results.append(error)

        threads = [threading.Thread(target=run, args=(worker,)) for worker in platforms]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert len(set(results)) == 1 and not isinstance(results[0], BaseException), results
        assert results[0][1] == "awaiting_acceptance"
        with platform.deps.uow() as uow:
            captured = [e.key for e in uow.ledger.entries(CLEARING, limit=500) if e.memo == "payment captured"]
            assert captured == [f"order:{order.id}:captured"]
            assert uow.ledger.entry_count() == entries_before + 1
            assert (uow.ledger.balance(CLEARING).fen, uow.ledger.balance(PREPAID).fen) == (PRICE, PRICE)
        final = platform.orders.get(customer, order.id)
        assert (final.state, final.paid.fen) == (OrderState.AWAITING_ACCEPTANCE, PRICE)
        assert [s.action for s in final.timeline].count(OrderAction.PAY) == 1
        assert platform.orders.payment_callback(headers, body).version == final.version  # a later replay
        assert platform.ledger.verify(SYSTEM).ok
    finally:
        for made in {id(p): p for p in (platform, *platforms)}.values():
            made.close()
