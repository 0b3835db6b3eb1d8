"""``massage orders`` end to end on a SQLite file, through click's CliRunner.

Orders are made through the library on the same file.  The sandbox gateway keeps its ledger in memory, so the
test hands the CLI's platform the gateway the orders were paid through (a real gateway keeps it remotely).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pendulum
import pytest
from click.testing import CliRunner, Result

from massage_cli.main import cli
from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.adapters.crypto.passwords import Argon2idPasswordHasher
from massage_core.adapters.memory.clock import SystemClock
from massage_core.adapters.memory.payments import SandboxPaymentGateway
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor, Role
from massage_core.domain.ids import account_id
from massage_core.domain.money import Money
from massage_core.domain.payments import PaymentMethod, PaymentRequest
from order_support import accepted, placed
from search_support import PRICES, shop, therapist
from storage_support import make_account

PASSWORD = "correct horse battery staple"
LAT, LNG = 31.2304, 121.4737
WEEK = {day: [("08:00", "20:00")] for day in range(1, 8)}
SENIOR = Money(PRICES["senior"])


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    return {"MASSAGE_DB": f"sqlite:///{tmp_path / 'cli.db'}", "MASSAGE_KEY_FILE": str(tmp_path / "keys.json"),
            "MASSAGE_TOKEN": "", "MASSAGE_KEYS": "", "MASSAGE_MEDIA_DIR": str(tmp_path / "media")}


@pytest.fixture()
def gateway(monkeypatch: pytest.MonkeyPatch) -> SandboxPaymentGateway:
    shared = SandboxPaymentGateway(SystemClock())
    original = Platform.from_url

    def with_gateway(url: str, **options: Any) -> Platform:
        return original(url, **{"payment_gateway": shared, **options})

    monkeypatch.setattr(Platform, "from_url", with_gateway)
    return shared


def run(env: dict[str, str], *args: str, token: str | None = None) -> Result:
    extra = ["--token", token] if token else []
    return CliRunner().invoke(cli, [*extra, *args], env=env, catch_exceptions=False)


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def failed(result: Result, code: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.output.strip().startswith(f"error [{code}]"), result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.fixture()
def token(env: dict[str, str], gateway: SandboxPaymentGateway) -> str:
    ok(run(env, "db", "upgrade"))
    ok(run(env, "keys", "generate"))
    ok(run(env, "admin", "create-superadmin", "--email", "boss@example.com", "--password", PASSWORD))
    return ok(run(env, "admin", "login", "--email", "boss@example.com", "--password", PASSWORD)).strip()


@pytest.fixture()
def orders(env: dict[str, str], token: str) -> Iterator[dict[str, str]]:
    """Three orders: ``paid`` (awaiting acceptance), ``unpaid``, ``disputed`` (served, completed, contested)."""
    platform = Platform.from_url(env["MASSAGE_DB"], keyring=KeyRing.load(env["MASSAGE_KEY_FILE"]),
                                 hasher=Argon2idPasswordHasher.for_tests())
    gateway = platform.deps.payment_gateway
    assert isinstance(gateway, SandboxPaymentGateway)
    system = Actor.system()
    service = shop(platform.deps.uow).tuina
    tid = therapist(platform.deps.uow, LAT, LNG, services=(service,))
    platform.schedules.set_weekly_hours(system, tid, WEEK)
    platform.schedules.set_online(system, tid, True)
    account = make_account()
    with platform.deps.uow() as uow:
        uow.accounts.add(account)
        uow.commit()
    customer = Actor(account.id, roles=frozenset({Role.CUSTOMER}))
    serving = Actor(account_id(tid), roles=frozenset({Role.THERAPIST}))
    day = pendulum.now("Asia/Shanghai").add(days=2)
    made: dict[str, str] = {}
    for name, hour in (("disputed", 9), ("paid", 12), ("unpaid", 15)):
        view = platform.orders.book(customer, therapist=tid, service=service, start=day.at(hour), lat=LAT, lng=LNG)
        if name != "unpaid":
            platform.orders.payment_callback(*gateway.simulate_payment(view.id))
        made[name] = view.id
    for step in (platform.orders.accept, platform.orders.depart, platform.orders.arrive, platform.orders.start,
                 platform.orders.finish):
        step(serving, made["disputed"])
    platform.orders.complete(customer, made["disputed"])
    platform.orders.dispute(customer, made["disputed"], "the therapist came late")
    platform.close()
    yield made


def test_list_and_show_with_timeline(env: dict[str, str], token: str, orders: dict[str, str]) -> None:
    rows = json.loads(ok(run(env, "--format", "json", "orders", "list", token=token)))
    assert {r["id"] for r in rows} == set(orders.values())
    assert {r["id"]: r["state"] for r in rows}[orders["paid"]] == "awaiting_acceptance"
    assert all(r["total"] == str(SENIOR) for r in rows)
    pending = json.loads(ok(run(env, "--format", "json", "orders", "list", "--state", "pending_payment",
                                token=token)))
    assert [r["id"] for r in pending] == [orders["unpaid"]]
    page = ok(run(env, "--format", "csv", "orders", "list", "--limit", "1", token=token)).splitlines()
    assert page[0].startswith("id,state,customer_status") and len(page) == 2

    shown = json.loads(ok(run(env, "--format", "json", "orders", "show", orders["disputed"], token=token)))
    assert shown["state"] == "disputed" and shown["paid"] == str(SENIOR)
    assert [s["action"] for s in shown["timeline"]] == ["place", "pay", "accept", "depart", "arrive", "start",
                                                        "finish", "complete", "dispute"]
    assert shown["timeline"][-1]["note"] == "the therapist came late"
    table = ok(run(env, "orders", "show", orders["paid"], token=token))
    assert "awaiting_acceptance" in table and "AT" in table and "pending_payment" in table


def test_admin_cancel_and_refund(env: dict[str, str], token: str, orders: dict[str, str],
                                 gateway: SandboxPaymentGateway) -> None:
    cancelled = ok(run(env, "orders", "cancel", orders["paid"], "--reason", "therapist unavailable", token=token))
    assert f"{orders['paid']} cancelled -> refunded; refunded {SENIOR} of {SENIOR} paid" in cancelled
    assert gateway.query(orders["paid"]).refunded == SENIOR
    assert "cancelled" in ok(run(env, "orders", "cancel", orders["unpaid"], "--reason", "test", token=token))

    refunded = ok(run(env, "orders", "refund", orders["disputed"], "--amount", "100", token=token))
    assert f"refunded ¥100.00 of {SENIOR} paid" in refunded
    assert gateway.query(orders["disputed"]).refunded == Money.yuan(100)
    shown = json.loads(ok(run(env, "--format", "json", "orders", "show", orders["disputed"], token=token)))
    assert shown["refunded"] == "¥100.00" and shown["timeline"][-1]["action"] == "refund"


def test_errors_are_one_line(env: dict[str, str], token: str, orders: dict[str, str]) -> None:
    failed(run(env, "orders", "list"), "auth.required")
    failed(run(env, "orders", "show", "ord_nope", token=token), "invalid_id")
    failed(run(env, "orders", "refund", orders["disputed"], "--amount", "12.345", token=token), "money.format")
    failed(run(env, "orders", "refund", orders["disputed"], "--amount", "9999", token=token),
           "order.refund_amount")
    before = json.loads(ok(run(env, "--format", "json", "orders", "show", orders["paid"], token=token)))
    result = run(env, "orders", "refund", orders["paid"], token=token)
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    after = json.loads(ok(run(env, "--format", "json", "orders", "show", orders["paid"], token=token)))
    assert after == before


# -- no-shows, dismissed disputes and payment records (decision 23) ---------------------------------------------


@pytest.fixture()
def overdue(env: dict[str, str], token: str, gateway: SandboxPaymentGateway) -> str:
    """An accepted, paid order whose visit started days ago and whose therapist never came (stored directly:
    the booking checks refuse past times)."""
    platform = Platform.from_url(env["MASSAGE_DB"], keyring=KeyRing.load(env["MASSAGE_KEY_FILE"]),
                                 hasher=Argon2idPasswordHasher.for_tests())
    customer, serving = make_account(), make_account(roles=frozenset({Role.THERAPIST}))
    order = accepted(placed(customer.id, serving.id), serving.id)
    with platform.deps.uow() as uow:
        uow.accounts.add(customer)
        uow.accounts.add(serving)
        uow.orders.add(order)
        uow.commit()
    platform.close()
    gateway.create_payment(PaymentRequest(order.id, order.total, PaymentMethod.WECHAT, "massage"))
    gateway.simulate_payment(order.id)
    return order.id


def test_an_admin_declares_the_therapist_absent(env: dict[str, str], token: str, overdue: str,
                                                gateway: SandboxPaymentGateway) -> None:
    total = gateway.query(overdue).amount
    line = ok(run(env, "orders", "no-show", overdue, token=token))
    assert f"{overdue} no-show -> refunded; refunded {total} of {total} paid (therapist_no_show; penalty for" in line
    assert gateway.query(overdue).refunded == total
    shown = json.loads(ok(run(env, "--format", "json", "orders", "show", overdue, token=token)))
    assert [s["action"] for s in shown["timeline"]][-2:] == ["mark_no_show", "refund"]
    failed(run(env, "orders", "no-show", overdue, token=token), "invalid_transition")


def test_dismiss_a_dispute_and_show_payment_records(env: dict[str, str], token: str, orders: dict[str, str],
                                                    gateway: SandboxPaymentGateway) -> None:
    failed(run(env, "orders", "dismiss", orders["paid"], "--note", "served", token=token), "invalid_transition")
    failed(run(env, "orders", "dismiss", orders["disputed"], "--note", " ", token=token), "order.note")
    dismissed = ok(run(env, "orders", "dismiss", orders["disputed"], "--note", "served in full", token=token))
    assert f"{orders['disputed']} dispute dismissed -> completed" in dismissed

    records = json.loads(ok(run(env, "--format", "json", "orders", "payments", orders["paid"], token=token)))
    transaction = gateway.query(orders["paid"]).provider_transaction_id
    assert (records["paid"], records["method"], records["gateway_status"]) == (str(SENIOR), "wechat", "paid")
    assert [(e["kind"], e["amount"], e["reference"], e["status"]) for e in records["entries"]] == [
        ("payment", str(SENIOR), transaction, "paid")]
    ok(run(env, "orders", "cancel", orders["paid"], "--reason", "therapist unavailable", token=token))
    table = ok(run(env, "orders", "payments", orders["paid"], token=token))
    assert "KIND" in table and f"{orders['paid']}-r" in table and "refunded" in table
    unpaid = json.loads(ok(run(env, "--format", "json", "orders", "payments", orders["unpaid"], token=token)))
    assert (unpaid["entries"], unpaid["gateway_status"]) == ([], "pending")
    failed(run(env, "orders", "payments", "ord_nope", token=token), "invalid_id")


def test_the_sos_queue(env: dict[str, str], token: str, gateway: SandboxPaymentGateway) -> None:
    platform = Platform.from_url(env["MASSAGE_DB"], keyring=KeyRing.load(env["MASSAGE_KEY_FILE"]),
                                 hasher=Argon2idPasswordHasher.for_tests())
    customer, serving = make_account(), make_account(roles=frozenset({Role.THERAPIST}))
    order = accepted(placed(customer.id, serving.id), serving.id)
    with platform.deps.uow() as uow:
        uow.accounts.add(customer)
        uow.accounts.add(serving)
        uow.orders.add(order)
        uow.commit()
    actor = Actor(serving.id, roles=frozenset({Role.THERAPIST}))
    platform.orders.depart(actor, order.id)
    platform.orders.sos(actor, order.id, "车坏了，被困在高架上")
    platform.close()
    rows = json.loads(ok(run(env, "--format", "json", "orders", "sos", "--open", token=token)))
    assert [(r["order_id"], r["open"], r["note"]) for r in rows] == [(order.id, "yes", "车坏了，被困在高架上")]
    assert "NOTE" in ok(run(env, "orders", "sos", token=token))
    failed(run(env, "orders", "sos", "--hours", "0", token=token), "orders.hours")
