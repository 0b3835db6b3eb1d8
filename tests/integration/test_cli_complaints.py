"""``massage complaints`` and ``massage feedback`` end to end on a SQLite file, through click's CliRunner
(decision 0038).  The complaints and feedback are made through the library on the same file; the CLI's platform
shares the sandbox gateway the orders were paid through."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pendulum
import pytest

from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.adapters.crypto.passwords import Argon2idPasswordHasher
from massage_core.adapters.memory.payments import SandboxPaymentGateway
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor, Role
from massage_core.domain.ids import account_id
from massage_core.domain.money import Money
from search_support import shop, therapist
from storage_support import make_account
from test_cli_orders import LAT, LNG, SENIOR, WEEK, env, failed, gateway, ok, run, token

__all__ = ["env", "gateway", "token"]  # fixtures


@pytest.fixture()
def filed(env: dict[str, str], token: str, gateway: SandboxPaymentGateway) -> Iterator[dict[str, str]]:
    """Two completed orders with a complaint each (``answered`` by the therapist, ``silent``), and a piece of
    feedback from the customer."""
    platform = Platform.from_url(env["MASSAGE_DB"], keyring=KeyRing.load(env["MASSAGE_KEY_FILE"]),
                                 hasher=Argon2idPasswordHasher.for_tests())
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
    for name, hour in (("answered", 9), ("silent", 12)):
        order = platform.orders.book(customer, therapist=tid, service=service, start=day.at(hour), lat=LAT,
                                     lng=LNG).id
        platform.orders.payment_callback(*gateway.simulate_payment(order))
        for step in (platform.orders.accept, platform.orders.depart, platform.orders.arrive, platform.orders.start,
                     platform.orders.finish):
            step(serving, order)
        platform.orders.complete(customer, order)
        made[f"{name}_order"] = order
        made[name] = platform.complaints.file(customer, order, "service_quality", f"{name}: too short").id
    platform.complaints.respond(serving, made["answered"], "the customer asked to stop")
    made["feedback"] = platform.feedback.submit(customer, "suggestion", "more evening slots").id
    made["therapist"] = tid
    platform.close()
    yield made


def test_list_show_and_resolve_with_a_refund(env: dict[str, str], token: str, filed: dict[str, str],
                                             gateway: SandboxPaymentGateway) -> None:
    rows = json.loads(ok(run(env, "--format", "json", "complaints", "list", token=token)))
    assert [(r["id"], r["state"], r["answered"]) for r in rows] == [
        (filed["answered"], "therapist_responded", True), (filed["silent"], "open", False)]
    opened = json.loads(ok(run(env, "--format", "json", "complaints", "list", "--state", "open", token=token)))
    assert [r["id"] for r in opened] == [filed["silent"]]
    shown = json.loads(ok(run(env, "--format", "json", "complaints", "show", filed["answered"], token=token)))
    assert (shown["description"], shown["answer"]) == ("answered: too short", "the customer asked to stop")
    assert [s["action"] for s in shown["timeline"]] == ["file", "respond"]
    table = ok(run(env, "complaints", "show", filed["silent"], token=token))
    assert "silent: too short" in table and "service_quality" in table

    done = ok(run(env, "complaints", "resolve", filed["answered"], "--outcome", "partial_refund", "--amount", "50",
                  "--note", "partly upheld", token=token))
    assert f"{filed['answered']} resolved: partial_refund {Money.yuan(50)}" in done
    assert gateway.query(filed["answered_order"]).refunded == Money.yuan(50)
    after = json.loads(ok(run(env, "--format", "json", "complaints", "show", filed["answered"], token=token)))
    assert (after["state"], after["outcome"], after["amount"]) == ("resolved", "partial_refund", str(Money.yuan(50)))
    assert [s["action"] for s in after["timeline"]] == ["file", "respond", "take", "resolve"]
    failed(run(env, "complaints", "resolve", filed["answered"], "--outcome", "warning", "--note", "again",
               token=token), "invalid_transition")
    failed(run(env, "complaints", "resolve", filed["silent"], "--outcome", "warning", "--note", "early",
               token=token), "invalid_transition")
    ok(run(env, "complaints", "take", filed["silent"], "--note", "calling", token=token))
    failed(run(env, "complaints", "resolve", filed["silent"], "--outcome", "partial_refund", "--amount",
               str(SENIOR.fen), "--note", "too much", token=token), "complaint.amount")
    assert "resolved: warning" in ok(run(env, "complaints", "resolve", filed["silent"], "--outcome", "warning",
                                         "--note", "be careful", token=token))
    csv = ok(run(env, "--format", "csv", "complaints", "list", "--state", "resolved", token=token)).splitlines()
    assert csv[0].startswith("id,order_id,state") and len(csv) == 3


def test_complaints_need_a_mediator(env: dict[str, str], filed: dict[str, str]) -> None:
    failed(run(env, "complaints", "list"), "auth.required")
    failed(run(env, "feedback", "list"), "auth.required")


def test_feedback_list_and_reply(env: dict[str, str], token: str, filed: dict[str, str]) -> None:
    rows = json.loads(ok(run(env, "--format", "json", "feedback", "list", "--state", "open", token=token)))
    assert [(r["id"], r["kind"], r["text"]) for r in rows] == [(filed["feedback"], "suggestion",
                                                                 "more evening slots")]
    replied = json.loads(ok(run(env, "--format", "json", "feedback", "reply", filed["feedback"], "--text",
                                "Added from next week", token=token)))
    assert replied[0]["state"] == "answered" and replied[0]["last_reply"] == "Added from next week"
    assert json.loads(ok(run(env, "--format", "json", "feedback", "list", "--state", "open", token=token))) == []
    failed(run(env, "feedback", "reply", filed["feedback"], "--text", " ", token=token), "feedback.reply")
    platform = Platform.from_url(env["MASSAGE_DB"], keyring=KeyRing.load(env["MASSAGE_KEY_FILE"]))
    try:
        [item] = platform.feedback.list(Actor.system()).items
        assert [r.text for r in item.replies] == ["Added from next week"]
    finally:
        platform.close()
