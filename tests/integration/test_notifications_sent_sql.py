"""What gets sent, on SQLite and PostgreSQL (issue 7, decision 0043): an order's life on ``Platform.from_url`` writes
exactly the expected outbox rows -- one per recipient and channel, none twice for a replayed callback -- and a unit
of work whose commit fails writes none."""

from __future__ import annotations

import pendulum
import pytest

from massage_core.adapters.memory.payments import SandboxPaymentGateway
from massage_core.adapters.sql.uow import SqlUnitOfWork
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor, Role
from massage_core.domain.ids import AccountId
from massage_core.domain.notifications import Channel, Urgency
from massage_core.domain.order_states import OrderState
from massage_core.domain.outbox import OutboxMessage
from search_support import shop, therapist
from storage_support import make_account

SYSTEM = Actor.system()
LAT, LNG = 31.2304, 121.4737
START = pendulum.datetime(2026, 1, 6, 10, tz="Asia/Shanghai")
WEEK = {day: [("08:00", "20:00")] for day in range(1, 8)}
ORDERS = {Channel.INBOX, Channel.PUSH, Channel.SMS}


def people(platform: Platform) -> tuple[str, Actor, Actor]:
    """(service, a customer, a public therapist with an online week)."""
    catalogue = shop(platform.deps.uow)
    therapist_id = therapist(platform.deps.uow, LAT, LNG, services=(catalogue.tuina,))
    platform.schedules.set_weekly_hours(SYSTEM, therapist_id, WEEK)
    platform.schedules.set_online(SYSTEM, therapist_id, True)
    account = make_account()
    with platform.deps.uow() as uow:
        uow.accounts.add(account)
        uow.commit()
    return (catalogue.tuina, Actor(account.id, roles=frozenset({Role.CUSTOMER})),
            Actor(therapist_id, roles=frozenset({Role.THERAPIST})))


def paid_order(platform: Platform, service: str, customer: Actor, serving: Actor, hour: int) -> str:
    assert serving.account_id is not None
    booked = platform.orders.book(customer, therapist=serving.account_id, service=service,
                                  start=START.add(hours=hour), lat=LAT, lng=LNG, address="南京东路100号5楼502室")
    gateway = platform.deps.payment_gateway
    assert isinstance(gateway, SandboxPaymentGateway)
    headers, body = gateway.simulate_payment(booked.id)
    for _ in range(3):  # the provider delivers the notice three times
        platform.orders.payment_callback(headers, body)
    return booked.id


def outbox(platform: Platform) -> list[OutboxMessage]:
    found: list[OutboxMessage] = []
    with platform.deps.uow() as uow:
        while page := uow.outbox.list(offset=len(found), limit=50):
            found.extend(page)
    return found


def by_key(platform: Platform) -> dict[str, set[tuple[str, Channel]]]:
    found: dict[str, set[tuple[str, Channel]]] = {}
    messages = outbox(platform)
    assert len({m.dedupe_key for m in messages}) == len(messages)
    for m in messages:
        found.setdefault(m.dedupe_key.split("|")[0], set()).add((m.recipient, m.channel))
    return found


def test_an_orders_life_writes_one_row_per_recipient_and_channel(platform: Platform) -> None:
    service, customer, serving = people(platform)
    order = paid_order(platform, service, customer, serving, 0)
    for step in (platform.orders.accept, platform.orders.depart, platform.orders.arrive, platform.orders.start,
                 platform.orders.finish):
        step(serving, order)
    platform.orders.complete(customer, order)
    me, them = customer.account_id, serving.account_id
    assert by_key(platform) == {
        f"order:{order}:offer:1": {(them, c) for c in ORDERS},
        **{f"order:{order}:{step}": {(me, c) for c in ORDERS} for step in ("accept", "depart", "arrive", "finish")},
    }
    messages = outbox(platform)
    arrived = [m for m in messages if m.dedupe_key.startswith(f"order:{order}:arrive|")]
    assert {(m.urgency, m.body) for m in arrived} == {(Urgency.URGENT, f"{_masked(platform, serving)} 已到达，请开门。"
                                                                       f"订单 {order}。")}
    assert all("南京东路100号" not in m.body for m in messages)


def _masked(platform: Platform, serving: Actor) -> str:
    assert serving.account_id is not None
    with platform.deps.uow() as uow:
        name = uow.therapists.get(AccountId(serving.account_id)).real_name
    return name[0] + "*" * max(len(name) - 1, 1)


def test_a_failed_commit_writes_no_row(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    service, customer, serving = people(platform)
    order = paid_order(platform, service, customer, serving, 2)
    before = outbox(platform)

    def refused(self: SqlUnitOfWork) -> None:
        raise RuntimeError("the database refused the commit")

    monkeypatch.setattr(SqlUnitOfWork, "_commit", refused)
    with pytest.raises(RuntimeError):
        platform.orders.accept(serving, order)
    monkeypatch.undo()
    assert outbox(platform) == before
    assert platform.orders.get(SYSTEM, order).state is OrderState.AWAITING_ACCEPTANCE
    platform.orders.accept(serving, order)
    assert by_key(platform)[f"order:{order}:accept"] == {(customer.account_id, c) for c in ORDERS}
