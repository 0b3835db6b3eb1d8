"""The CLI end to end on a SQLite file, through click's CliRunner and the installed command."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from massage_cli.main import cli

PASSWORD = "correct horse battery staple"


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    return {"MASSAGE_DB": f"sqlite:///{tmp_path / 'cli.db'}", "MASSAGE_KEY_FILE": str(tmp_path / "keys.json"),
            "MASSAGE_TOKEN": "", "MASSAGE_KEYS": ""}


def run(env: dict[str, str], *args: str, token: str | None = None, input: str | None = None) -> Result:
    extra = ["--token", token] if token else []
    return CliRunner().invoke(cli, [*extra, *args], env=env, input=input, catch_exceptions=False)


@pytest.fixture()
def admin_token(env: dict[str, str]) -> str:
    assert run(env, "db", "upgrade").exit_code == 0
    assert run(env, "keys", "generate").exit_code == 0
    created = run(env, "admin", "create-superadmin", "--email", "boss@example.com", "--password", PASSWORD)
    assert created.exit_code == 0, created.output
    login = run(env, "admin", "login", "--email", "boss@example.com", "--password", PASSWORD)
    assert login.exit_code == 0, login.output
    return login.output.strip()


def test_users_suspend_reactivate_and_masked_listing(env: dict[str, str], admin_token: str) -> None:
    from massage_core.adapters.crypto.keyring import KeyRing
    from massage_core.bootstrap import Platform

    platform = Platform.from_url(env["MASSAGE_DB"], keyring=KeyRing.load(env["MASSAGE_KEY_FILE"]))
    customer = platform.accounts.register_with_password("li.na@example.com", "桃花潭水深千尺不及汪伦送我情")
    platform.close()

    found = run(env, "--format", "json", "users", "list", "--email", "LI.NA@example.com", token=admin_token)
    assert found.exit_code == 0, found.output
    rows = json.loads(found.output)
    assert [r["id"] for r in rows] == [customer.account_id] and rows[0]["email"] == "l***@example.com"

    suspended = run(env, "users", "suspend", customer.account_id, "--reason", "fraud", token=admin_token)
    assert suspended.exit_code == 0 and "suspended" in suspended.output
    shown = run(env, "users", "show", customer.account_id, token=admin_token)
    assert "suspended" in shown.output and "li.na@example.com" not in shown.output
    assert run(env, "users", "reactivate", customer.account_id, token=admin_token).exit_code == 0
    listed = run(env, "--format", "csv", "users", "list", token=admin_token)
    assert listed.output.splitlines()[0].startswith("id,status")
    assert len(listed.output.splitlines()) == 3


def test_errors_are_one_line_and_non_zero(env: dict[str, str], admin_token: str) -> None:
    bad = run(env, "users", "show", "acc_123", token=admin_token)
    assert bad.exit_code == 1
    assert bad.output.strip().startswith("error [invalid_id]")
    assert len(bad.output.strip().splitlines()) == 1
    no_token = run(env, "users", "list")
    assert no_token.exit_code == 1 and "auth.required" in no_token.output
    forged = run(env, "users", "list", token="x" * 43)
    assert forged.exit_code == 1 and "auth.session_invalid" in forged.output
    again = run(env, "admin", "create-superadmin", "--email", "two@example.com", "--password", PASSWORD)
    assert again.exit_code == 1 and "admin.exists" in again.output


def test_audit_verify_names_the_edited_entry(env: dict[str, str], admin_token: str) -> None:
    ok = run(env, "audit", "verify", token=admin_token)
    assert ok.exit_code == 0 and "intact" in ok.output
    db_file = env["MASSAGE_DB"].removeprefix("sqlite:///")
    with sqlite3.connect(db_file) as conn:
        conn.execute("UPDATE audit_log SET target = 'someone-else' WHERE sequence = 1")
    broken = run(env, "audit", "verify", token=admin_token)
    assert broken.exit_code == 1
    assert "audit.broken" in broken.output and "#1" in broken.output


def test_keys_rotate_reencrypts_everything(env: dict[str, str], admin_token: str) -> None:
    before = json.loads(Path(env["MASSAGE_KEY_FILE"]).read_text())["primary"]
    rotated = run(env, "keys", "rotate", token=admin_token)
    assert rotated.exit_code == 0, rotated.output
    after = json.loads(Path(env["MASSAGE_KEY_FILE"]).read_text())["primary"]
    assert after != before and f"under {after}" in rotated.output
    db_file = env["MASSAGE_DB"].removeprefix("sqlite:///")
    with sqlite3.connect(db_file) as conn:
        email_token = conn.execute("SELECT email_enc FROM accounts").fetchone()[0]
    assert email_token.startswith(f"v1:{after}:")
    assert run(env, "users", "list", token=admin_token).exit_code == 0


def test_demo_on_a_missing_database_then_again(env: dict[str, str]) -> None:
    first = run(env, "demo")
    assert first.exit_code == 0, first.output
    assert "migrated" in first.output and "chain intact" in first.output
    second = run(env, "demo")
    assert second.exit_code == 0, second.output
    assert "a superadmin exists already" in second.output
    assert "Wang Wei logged in with email and password" in second.output
    assert "Chen Jing is" in second.output and " m away, ¥" in second.output
    for text in ("[quote] Li Na asks for a quote for Chen Jing", "service ¥258.00", "is pending_payment",
                 "-> awaiting_acceptance; a replayed callback changes nothing (unchanged",
                 "-> in_service -> finished -> completed", "cancels 2 hours before: the policy refunds ¥129.00, "
                 "pays Chen Jing ¥103.20 and keeps ¥25.80 -> refunded", "refunded ¥159.00, net ¥853.00",
                 "[dispatch] Li Na books 'any therapist'", "(-¥20.00): the best match", "she pays ¥238.00",
                 "(the door stays hidden) and grabs it first -> accepted",
                 "Chen Jing's pending earnings now ¥180.60", "entries, no problems",
                 "her visit and her cancellation compensation among them): Chen Jing has ¥283.80 available",
                 "the payout gateway pays ¥283.80 (paid"):
        assert text in first.output and text in second.output, text


def test_installed_command_runs(env: dict[str, str]) -> None:
    exe = Path(sys.executable).with_name("massage")
    result = subprocess.run([str(exe), "--help"], capture_output=True, text=True, env={**os.environ, **env},
                            timeout=120)
    assert result.returncode == 0 and "users" in result.stdout


@pytest.mark.parametrize("url", ["mysql://x@y/z", "not a url"])
def test_bad_database_url_is_one_clear_line(env: dict[str, str], url: str) -> None:
    result = run({**env, "MASSAGE_DB": url}, "db", "upgrade")
    assert result.exit_code == 1
    assert result.output.strip().startswith("error [db.url]")


def test_unmigrated_database_asks_for_an_upgrade(env: dict[str, str]) -> None:
    assert run(env, "keys", "generate").exit_code == 0
    result = run(env, "admin", "create-superadmin", "--email", "a@example.com", "--password", PASSWORD)
    assert result.exit_code == 1
    assert result.output.strip().startswith("error [db.schema]") and "massage db upgrade" in result.output
