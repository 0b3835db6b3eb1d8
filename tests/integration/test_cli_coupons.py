"""``massage coupons`` end to end on a SQLite file, through click's CliRunner."""

from __future__ import annotations

import csv
import io

from test_cli_therapists import as_json, env, ok, run, set_up_catalogue, token

__all__ = ["env", "token"]  # fixtures


def test_coupon_commands(env: dict[str, str], token: str) -> None:
    _, service = set_up_catalogue(env, token)
    spring = as_json(run(env, "--format", "json", "coupons", "add", "--name", "Spring", "--code", "spring20",
                         "--amount", "20", "--min-spend", "100", "--from", "2026-03-01", "--until", "2099-01-01",
                         "--per-customer", "1", "--service", service, token=token))
    percent = as_json(run(env, "--format", "json", "coupons", "add", "--name", "Welcome", "--percent", "12.5",
                          "--max-discount", "30", "--until", "2099-01-01T08:00", "--single-use", token=token))
    assert isinstance(spring, list) and isinstance(percent, list)
    assert spring[0]["code"] == "SPRING20" and spring[0]["discount"] == "¥20.00"
    assert spring[0]["valid_from"].startswith("2026-02-28T16:00:00")  # midnight in Shanghai
    assert service in spring[0]["services"] and spring[0]["per_customer_limit"] == 1
    assert percent[0]["discount"] == "12.5% (max ¥30.00)" and percent[0]["single_use"] is True
    rows = list(csv.DictReader(io.StringIO(ok(run(env, "--format", "csv", "coupons", "list", token=token)))))
    assert {r["id"] for r in rows} == {spring[0]["id"], percent[0]["id"]}
    assert "deactivated (Spring)" in ok(run(env, "coupons", "deactivate", spring[0]["id"], token=token))
    active = as_json(run(env, "--format", "json", "coupons", "list", "--active", token=token))
    assert isinstance(active, list) and [r["id"] for r in active] == [percent[0]["id"]]


def test_coupon_errors_are_one_line_and_non_zero(env: dict[str, str], token: str) -> None:
    cases = [
        (["coupons", "add", "--name", "Both", "--amount", "5", "--percent", "5", "--until", "2099-01-01"],
         "coupon.invalid"),
        (["coupons", "add", "--name", "Bad", "--percent", "1.234", "--until", "2099-01-01"], "coupon.invalid"),
        (["coupons", "add", "--name", "Bad", "--amount", "5", "--until", "someday"], "time.format"),
        (["coupons", "deactivate", "cpn_123"], "invalid_id"),
    ]
    for args, code in cases:
        bad = run(env, *args, token=token)
        assert bad.exit_code == 1 and code in bad.output and len(bad.output.strip().splitlines()) == 1, bad.output
    ok(run(env, "coupons", "add", "--name", "Once", "--code", "ONCE", "--amount", "5", "--until", "2099-01-01",
           token=token))
    again = run(env, "coupons", "add", "--name", "Twice", "--code", "once", "--amount", "5", "--until", "2099-01-01",
                token=token)
    assert again.exit_code == 1 and "coupon.duplicate" in again.output
    assert "auth.required" in run(env, "coupons", "list").output
