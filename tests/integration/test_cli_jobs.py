"""``massage jobs run-due`` end to end on a SQLite file, through click's CliRunner: it runs as the system (no
token), prints the counts per rule and exits 0; a second run finds nothing."""

from __future__ import annotations

import pendulum

from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.adapters.crypto.passwords import Argon2idPasswordHasher
from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.memory.payments import SandboxPaymentGateway
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor, Role
from massage_core.domain.order_states import OrderState
from search_support import shop, therapist
from storage_support import T0, make_account
from test_cli_therapists import as_json, env, ok, run

__all__ = ["env"]  # fixtures

SYSTEM = Actor.system()


def book_unpaid(env: dict[str, str]) -> str:
    """An order booked through the library on the CLI's database on 5 January 2026, never paid."""
    clock = FixedClock(T0)
    platform = Platform.from_url(env["MASSAGE_DB"], keyring=KeyRing.load(env["MASSAGE_KEY_FILE"]), clock=clock,
                                 hasher=Argon2idPasswordHasher.for_tests(),
                                 payment_gateway=SandboxPaymentGateway(clock))
    try:
        catalogue = shop(platform.deps.uow)
        therapist_id = therapist(platform.deps.uow, 31.2304, 121.4737, services=(catalogue.tuina,))
        platform.schedules.set_weekly_hours(SYSTEM, therapist_id, {d: [("08:00", "20:00")] for d in range(1, 8)})
        platform.schedules.set_online(SYSTEM, therapist_id, True)
        account = make_account()
        with platform.deps.uow() as uow:
            uow.accounts.add(account)
            uow.commit()
        customer = Actor(account.id, roles=frozenset({Role.CUSTOMER}))
        return platform.orders.book(customer, therapist=therapist_id, service=catalogue.tuina,
                                    start=pendulum.datetime(2026, 1, 6, 10, tz="Asia/Shanghai"), lat=31.2304,
                                    lng=121.4737).id
    finally:
        platform.close()


def test_run_due_expires_what_is_due_and_prints_the_counts(env: dict[str, str]) -> None:
    ok(run(env, "db", "upgrade"))
    ok(run(env, "keys", "generate"))
    order = book_unpaid(env)
    rows = as_json(run(env, "--format", "json", "jobs", "run-due"))
    assert isinstance(rows, list)
    assert {r["rule"]: (r["fired"], r["skipped"]) for r in rows} == {
        "expire_payment": (1, 0), "acceptance_timeout": (0, 0), "auto_complete": (0, 0), "expired_badges": (0, 0),
        "reminders": (0, 0), "settle": (0, 0), "complaint_deadlines": (0, 0), "lift_suspensions": (0, 0),
        "ratings": (0, 0), "chat_numbers": (0, 0)}
    table = ok(run(env, "jobs", "run-due", "--limit", "10"))
    assert "expire_payment" in table and "reminders" in table
    platform = Platform.from_url(env["MASSAGE_DB"], keyring=KeyRing.load(env["MASSAGE_KEY_FILE"]))
    try:
        assert platform.orders.get(SYSTEM, order).state is OrderState.PAYMENT_EXPIRED
    finally:
        platform.close()
    bad = run(env, "jobs", "run-due", "--limit", "0")
    assert bad.exit_code == 1 and "jobs.limit" in bad.output
