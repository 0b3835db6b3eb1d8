"""``massage reviews pending|approve|reject|mask`` end to end on a SQLite file, through click's CliRunner
(decision 0037)."""

from __future__ import annotations

import datetime as dt

from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.adapters.memory.clock import FixedClock
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor, Role
from order_support import happy_path
from storage_support import T0, make_account
from test_cli_therapists import as_json, env, ok, run, token

__all__ = ["env", "token"]  # fixtures

PHONE_TEXT = "lovely, call me on 138 0013 8000"


def two_pending_reviews(env: dict[str, str]) -> tuple[str, str]:
    """Two completed orders of one customer, each reviewed with a text the screener flags."""
    platform = Platform.from_url(env["MASSAGE_DB"], keyring=KeyRing.load(env["MASSAGE_KEY_FILE"]),
                                 clock=FixedClock(T0 + dt.timedelta(days=3)))
    try:
        customer, therapist = make_account(), make_account(roles=frozenset({Role.THERAPIST}))
        with platform.deps.uow() as uow:
            uow.accounts.add(customer)
            uow.accounts.add(therapist)
            orders = [happy_path(customer.id, therapist.id)[8] for _ in range(2)]
            for order in orders:
                uow.orders.add(order)
            uow.commit()
        actor = Actor(customer.id, roles=frozenset({Role.CUSTOMER}))
        made = [platform.reviews.submit(actor, order.id, attitude=5, skill=5, pressure=4, text=text).id
                for order, text in zip(orders, (PHONE_TEXT, "email me: lily@example.com"), strict=True)]
        return made[0], made[1]
    finally:
        platform.close()


def test_pending_mask_approve_reject(env: dict[str, str], token: str) -> None:
    first, second = two_pending_reviews(env)
    queue = as_json(run(env, "--format", "json", "reviews", "pending", token=token))
    assert isinstance(queue, list)
    assert [(r["id"], r["waiting"], r["findings"], r["scores"]) for r in queue] == [
        (first, "review", "phone", "5/5/4"), (second, "review", "email", "5/5/4")]
    masked = as_json(run(env, "--format", "json", "reviews", "mask", first, token=token))
    assert masked == [{"id": first, "part": "review", "state": "approved", "reason": "",
                       "text": "lovely, call me on *************"}]
    spans = as_json(run(env, "--format", "json", "reviews", "mask", second, "--span", "0:5", "--span", "10:14",
                        token=token))
    assert isinstance(spans, list) and spans[0]["text"] == "***** me: ****@example.com"
    assert "rejected" in ok(run(env, "reviews", "reject", second, "--reason", "contact details", token=token))
    assert as_json(run(env, "--format", "json", "reviews", "pending", token=token)) == []


def test_errors_exit_with_a_stable_code(env: dict[str, str], token: str) -> None:
    first, _ = two_pending_reviews(env)
    approved = ok(run(env, "reviews", "approve", first, token=token))
    assert "approved" in approved
    again = run(env, "reviews", "approve", first, token=token)
    assert again.exit_code == 1 and "error [invalid_transition]" in again.output
    no_reply = run(env, "reviews", "approve", first, "--reply", token=token)
    assert no_reply.exit_code == 1 and "review.no_reply" in no_reply.output
    missing = run(env, "reviews", "approve", "rev_" + "0" * 26, token=token)
    assert missing.exit_code == 1 and "not_found" in missing.output
    bad_span = run(env, "reviews", "mask", first, "--span", "3", token=token)
    assert bad_span.exit_code == 2 and "START:END" in bad_span.output
    no_reason = run(env, "reviews", "reject", first, token=token)
    assert no_reason.exit_code == 2
    assert "auth.required" in run(env, "reviews", "pending").output
