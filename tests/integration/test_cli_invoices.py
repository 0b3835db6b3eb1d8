"""``massage invoices`` end to end on a SQLite file, through click's CliRunner (decision 0030).

The orders and the invoice requests are made through the library on the same file.  The sandbox issuer keeps
its books in memory, so the test hands every platform one shared issuer (a real one keeps them remotely).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.adapters.crypto.passwords import Argon2idPasswordHasher
from massage_core.adapters.memory.clock import SystemClock
from massage_core.adapters.memory.invoices import SandboxInvoiceIssuer
from massage_core.adapters.memory.payments import SandboxPaymentGateway
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor, Role
from massage_core.domain.ids import AccountId
from test_cli_orders import SENIOR, env, failed, gateway, ok, orders, run, token

__all__ = ["env", "gateway", "orders", "token"]  # fixtures

CODE = "91350500676532779B"


@pytest.fixture()
def issuer(monkeypatch: pytest.MonkeyPatch, gateway: SandboxPaymentGateway) -> SandboxInvoiceIssuer:
    shared = SandboxInvoiceIssuer(SystemClock())
    original = Platform.from_url

    def with_issuer(url: str, **options: Any) -> Platform:
        return original(url, **{"invoice_issuer": shared, **options})

    monkeypatch.setattr(Platform, "from_url", with_issuer)
    return shared


@pytest.fixture()
def requests(env: dict[str, str], orders: dict[str, str], issuer: SandboxInvoiceIssuer) -> dict[str, str]:
    """A company invoice requested for the ``paid`` order and a personal one for the ``disputed`` order."""
    platform = Platform.from_url(env["MASSAGE_DB"], keyring=KeyRing.load(env["MASSAGE_KEY_FILE"]),
                                 hasher=Argon2idPasswordHasher.for_tests())
    system = Actor.system()
    customer_id = AccountId(platform.orders.get(system, orders["paid"]).customer_id)
    customer = Actor(customer_id, roles=frozenset({Role.CUSTOMER}))
    made = {
        "company": platform.invoices.request(customer, orders["paid"], title="厦门某某科技有限公司",
                                             email="ap@example.com", credit_code=CODE).id,
        "personal": platform.invoices.request(customer, orders["disputed"], title="张三",
                                              email="zhang@example.com").id,
    }
    platform.close()
    return made


def test_list_issue_and_void(env: dict[str, str], token: str, requests: dict[str, str],
                             issuer: SandboxInvoiceIssuer) -> None:
    queue = json.loads(ok(run(env, "--format", "json", "invoices", "list", token=token)))
    assert [r["id"] for r in queue] == [requests["company"], requests["personal"]]
    assert queue[0]["credit_code"] == CODE and queue[0]["title_name"] == "厦门某某科技有限公司"
    assert queue[0]["email"] == "a***@example.com" and queue[0]["state"] == "requested"

    [issued] = json.loads(ok(run(env, "--format", "json", "invoices", "issue", requests["company"], token=token)))
    assert issued["state"] == "issued" and issued["amount"] == str(SENIOR)
    assert issued["number"] == issuer.issued[requests["company"]].number and len(issued["number"]) == 16
    table = ok(run(env, "invoices", "list", "--state", "issued", token=token))
    assert requests["company"] in table and issued["number"] in table

    voided = ok(run(env, "invoices", "void", requests["company"], "--reason", "wrong title", token=token))
    assert f"{requests['company']} voided (wrong title)" in voided
    assert issuer.voided == {issued["number"]: "wrong title"}
    rows = json.loads(ok(run(env, "--format", "json", "invoices", "list", "--state", "voided", token=token)))
    assert [(r["id"], r["void_reason"]) for r in rows] == [(requests["company"], "wrong title")]
    csv = ok(run(env, "--format", "csv", "invoices", "list", token=token)).splitlines()
    assert csv[0].startswith("id,order_id,state") and len(csv) == 2 and requests["personal"] in csv[1]


def test_errors_are_one_line(env: dict[str, str], token: str, requests: dict[str, str]) -> None:
    failed(run(env, "invoices", "list"), "auth.required")
    failed(run(env, "invoices", "issue", "inv_nope", token=token), "invalid_id")
    ok(run(env, "invoices", "void", requests["personal"], "--reason", "declined", token=token))
    failed(run(env, "invoices", "issue", requests["personal"], token=token), "invalid_transition")
    failed(run(env, "invoices", "void", requests["personal"], "--reason", "again", token=token),
           "invalid_transition")
    bad = run(env, "invoices", "list", "--state", "paid", token=token)
    assert bad.exit_code == 2 and "paid" in bad.output
