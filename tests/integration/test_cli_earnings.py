"""``massage earnings`` end to end on a SQLite file, through click's CliRunner (decision 0032)."""

from __future__ import annotations

import pendulum

from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.bootstrap import Platform
from massage_core.domain.access import Role
from massage_core.domain.ids import AccountId
from massage_core.domain.money import Money
from massage_core.domain.postings import Charges, captured, completed
from test_cli_therapists import as_json, env, ok, run, token

__all__ = ["env", "token"]  # fixtures


def therapist_with_a_completion(env: dict[str, str]) -> str:
    """A therapist account with one completed order (¥258.00 at 30%) posted an hour ago."""
    platform = Platform.from_url(env["MASSAGE_DB"], keyring=KeyRing.load(env["MASSAGE_KEY_FILE"]))
    try:
        person = platform.accounts.register_with_password("li.na@example.com", "桃花潭水深千尺不及汪伦送我情")
        at = pendulum.now("UTC").subtract(hours=1)
        with platform.deps.uow() as uow:
            account = uow.accounts.get(AccountId(person.account_id))
            uow.accounts.save(account.set_roles(frozenset({Role.CUSTOMER, Role.THERAPIST}), frozenset(), at))
            zero = Money(0)
            uow.ledger.post(captured("ord_x", Money(25_800), at))
            uow.ledger.post(completed("ord_x", AccountId(person.account_id), Charges(Money(25_800), zero, zero, zero),
                                      3_000, at))
            uow.commit()
        return person.account_id
    finally:
        platform.close()


def test_show_bonus_penalty_and_orders(env: dict[str, str], token: str) -> None:
    therapist = therapist_with_a_completion(env)
    shown = ok(run(env, "earnings", "show", therapist, token=token))
    assert "pending    ¥180.60" in shown and "available  ¥0.00" in shown and "INCOME" in shown
    bonus = as_json(run(env, "--format", "json", "earnings", "bonus", therapist, "--amount", "50",
                        "--reason", "five-star week", token=token))
    assert isinstance(bonus, list) and bonus[0]["amount"] == "¥50.00" and bonus[0]["reference"].startswith("adj_")
    for _ in range(2):  # a retry with the same request id deducts once
        ok(run(env, "earnings", "penalty", therapist, "--amount", "20.5", "--reason", "late", "--request-id", "r-1",
               token=token))
    data = as_json(run(env, "--format", "json", "earnings", "show", therapist, "--period", "month", token=token))
    assert isinstance(data, dict)
    assert (data["pending"], data["available"], data["on_hold"]) == ("¥180.60", "¥29.50", "¥0.00")
    [month] = data["totals"]
    assert (month["income"], month["commission"], month["bonuses"], month["penalties"]) == (
        "¥180.60", "¥77.40", "¥50.00", "¥20.50")
    listed = as_json(run(env, "--format", "json", "earnings", "orders", therapist, token=token))
    assert listed == [{"order": "ord_x", "completed_at": listed[0]["completed_at"],  # type: ignore[index]
                       "total": "¥258.00", "rate_bp": 3_000, "commission": "¥77.40", "income": "¥180.60",
                       "tip": "¥0.00", "settled": False}]


def test_earnings_errors_are_one_line_and_non_zero(env: dict[str, str], token: str) -> None:
    therapist = therapist_with_a_completion(env)
    for args, code in ((("bonus", therapist, "--amount", "0", "--reason", "x"), "earnings.amount"),
                       (("penalty", therapist, "--amount", "500", "--reason", "x"), "earnings.exceeds_available"),
                       (("bonus", therapist, "--amount", "abc", "--reason", "x"), "money.format"),
                       (("bonus", therapist, "--amount", "1", "--reason", " "), "earnings.reason"),
                       (("show", "nope"), "invalid_id")):
        bad = run(env, "earnings", *args, token=token)
        assert bad.exit_code == 1 and code in bad.output and len(bad.output.strip().splitlines()) == 1, bad.output
    assert "auth.required" in run(env, "earnings", "show", therapist).output
