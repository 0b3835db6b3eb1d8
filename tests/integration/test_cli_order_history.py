"""``massage orders list --customer ACC --therapist ACC``: one person's order history end to end on a SQLite file
(the fixtures of ``test_cli_orders``: three orders of one customer with one therapist, and an overdue order of
another pair)."""

from __future__ import annotations

import json

from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.adapters.crypto.passwords import Argon2idPasswordHasher
from massage_core.bootstrap import Platform
from test_cli_orders import env, failed, gateway, ok, orders, overdue, run, token

__all__ = ["env", "gateway", "orders", "overdue", "token"]  # the fixtures this module uses


def rows(env: dict[str, str], token: str, *args: str) -> list[dict[str, str]]:
    found: list[dict[str, str]] = json.loads(ok(run(env, "--format", "json", "orders", "list", *args, token=token)))
    return found


def test_one_persons_history(env: dict[str, str], token: str, orders: dict[str, str], overdue: str) -> None:
    everything = {r["id"]: r for r in rows(env, token)}
    assert set(everything) == {*orders.values(), overdue}
    customer, therapist = everything[orders["paid"]]["customer_id"], everything[orders["paid"]]["therapist_id"]
    other_customer, other_therapist = everything[overdue]["customer_id"], everything[overdue]["therapist_id"]
    mine = rows(env, token, "--customer", customer)
    assert [r["id"] for r in mine] == [r["id"] for r in rows(env, token) if r["customer_id"] == customer]
    assert {r["id"] for r in mine} == set(orders.values())
    assert [r["id"] for r in rows(env, token, "--therapist", other_therapist)] == [overdue]
    assert [r["id"] for r in rows(env, token, "--customer", other_customer, "--therapist", therapist)] == []
    assert [r["id"] for r in rows(env, token, "--customer", customer, "--therapist", therapist, "--state",
                                  "pending_payment")] == [orders["unpaid"]]
    assert len(rows(env, token, "--customer", customer, "--limit", "2")) == 2
    platform = Platform.from_url(env["MASSAGE_DB"], keyring=KeyRing.load(env["MASSAGE_KEY_FILE"]),
                                 hasher=Argon2idPasswordHasher.for_tests())
    with platform.deps.uow() as uow:
        audited = [(e.action, e.target) for e in uow.audit.entries() if e.action == "orders.history"]
    platform.close()
    assert audited == [("orders.history", customer), ("orders.history", other_therapist),
                       ("orders.history", other_customer), ("orders.history", therapist),
                       ("orders.history", customer), ("orders.history", therapist), ("orders.history", customer)]


def test_bad_ids_are_one_line_errors(env: dict[str, str], token: str, orders: dict[str, str]) -> None:
    failed(run(env, "orders", "list", "--customer", "acc_nope", token=token), "invalid_id")
    failed(run(env, "orders", "list", "--therapist", orders["paid"], token=token), "invalid_id")
