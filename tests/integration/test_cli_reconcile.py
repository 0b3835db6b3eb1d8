"""``massage ledger reconcile --date D`` end to end on a SQLite file (decision 0034).  Each CLI run has its own
sandbox gateway, whose statement is empty: a capture in the ledger that day is an extra entry."""

from __future__ import annotations

from test_cli_ledger import post_some
from test_cli_therapists import as_json, env, ok, run, token

__all__ = ["env", "token"]  # fixtures


def test_a_quiet_day_reconciles(env: dict[str, str], token: str) -> None:
    post_some(env["MASSAGE_DB"])
    shown = ok(run(env, "ledger", "reconcile", "--date", "2026-03-02", token=token))
    assert "ok" in shown and "2026-03-02" in shown
    assert as_json(run(env, "--format", "json", "ledger", "reconcile", "--date", "2026-03-02", token=token)) == [
        {"status": "ok", "date": "2026-03-02", "statement_lines": 0, "ledger_entries": 0, "matched": 0}]


def test_each_mismatch_is_printed_and_the_exit_code_is_1(env: dict[str, str], token: str) -> None:
    post_some(env["MASSAGE_DB"])
    bad = run(env, "ledger", "reconcile", "--date", "2026-03-01", token=token)
    assert bad.exit_code == 1
    assert "extra" in bad.output and "order:x:captured" in bad.output and "¥258.00" in bad.output
    assert "1 mismatch(es) between 0 statement line(s) and 1 ledger entries" in bad.output


def test_a_malformed_date_or_no_token_is_refused(env: dict[str, str], token: str) -> None:
    assert run(env, "ledger", "reconcile", "--date", "1 March", token=token).exit_code != 0
    assert "auth.required" in run(env, "ledger", "reconcile", "--date", "2026-03-01").output
