"""``massage outbox run|list|counts|retry`` end to end on a SQLite file, through click's CliRunner (0041)."""

from __future__ import annotations

from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.bootstrap import Platform
from massage_core.domain.notifications import Category
from massage_core.domain.outbox import RetryPolicy
from massage_core.services.notify import Note, enqueue
from test_cli_therapists import as_json, env, ok, run, token

__all__ = ["env", "token"]  # fixtures

PASSWORD = "桃花潭水深千尺不及汪伦送我情"


def test_run_list_retry_and_counts(env: dict[str, str], token: str) -> None:
    platform = Platform.from_url(env["MASSAGE_DB"], keyring=KeyRing.load(env["MASSAGE_KEY_FILE"]))
    try:
        who = platform.accounts.register_with_password("li.na@example.com", PASSWORD).account_id
        with platform.deps.uow() as uow:
            enqueue(uow, platform.deps, Note("vetting.approved", "vetting:v1:approved", (who,), {}, Category.ACCOUNT),
                    platform.deps.clock.now())
            uow.commit()
        report = as_json(run(env, "--format", "json", "outbox", "run"))  # cron: no token needed
        assert report == [{"sent": 1, "retried": 1, "dead": 0}]  # the inbox; e-mail has no notifier here
        pending = as_json(run(env, "--format", "json", "outbox", "list", "--state", "pending", token=token))
        assert isinstance(pending, list) and len(pending) == 1
        [row] = pending
        assert (row["channel"], row["recipient"], row["attempts"]) == ("email", who, 1)
        assert row["last_error"] == "no notifier is configured for the email channel" and "body" not in row
        with platform.deps.uow() as uow:  # the attempts ran out
            uow.outbox.save(uow.outbox.get(row["id"]).failed("down", platform.deps.clock.now(),
                                                            RetryPolicy(max_attempts=1)))
            uow.commit()
        assert as_json(run(env, "--format", "json", "outbox", "counts", token=token)) == [
            {"pending": 0, "sent": 1, "dead": 1}]
        table = ok(run(env, "outbox", "list", "--state", "dead", token=token))
        with platform.deps.uow() as uow:
            body = uow.outbox.get(row["id"]).body
        assert row["id"] in table and row["subject"] in table and body[:6] not in table
        retried = as_json(run(env, "--format", "json", "outbox", "retry", row["id"], token=token))
        assert isinstance(retried, list) and retried[0]["state"] == "pending" and retried[0]["attempts"] == 0
        again = run(env, "outbox", "retry", row["id"], token=token)
        assert again.exit_code == 1 and "outbox.state" in again.output
        denied = run(env, "outbox", "list")
        assert denied.exit_code == 1 and "auth.required" in denied.output
        customer = platform.accounts.login_with_password("li.na@example.com", PASSWORD).token
        refused = run(env, "outbox", "counts", token=customer)
        assert refused.exit_code == 1 and "permission_denied" in refused.output
    finally:
        platform.close()
