"""``massage announcements send|list|stats`` end to end on a SQLite file, through click's CliRunner
(decision 0044)."""

from __future__ import annotations

from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor
from test_cli_therapists import as_json, env, ok, register_therapist, run, set_up_catalogue, token

__all__ = ["env", "token"]  # fixtures

SYSTEM = Actor.system()
PASSWORD = "桃花潭水深千尺不及汪伦送我情"


def test_send_list_stats_and_who_has_not_read(env: dict[str, str], token: str) -> None:
    _, service = set_up_catalogue(env, token)
    therapist = register_therapist(env, service, "zhao.min@example.com", 12)
    platform = Platform.from_url(env["MASSAGE_DB"], keyring=KeyRing.load(env["MASSAGE_KEY_FILE"]))
    try:  # approval grants the therapist role: applicants are not yet "therapists"
        vet = platform.therapists
        vet.start_review(SYSTEM, therapist)
        vet.accept_documents(SYSTEM, therapist)
        vet.run_background_check(SYSTEM, therapist)
        vet.record_skill_test(SYSTEM, therapist, score=90, pass_mark=70)
    finally:
        platform.close()
    sent = as_json(run(env, "--format", "json", "announcements", "send", "--title", "培训通知", "--text",
                       "周六上午十点线上培训。", "--audience", "therapists", "--kind", "training", "--city", "shanghai",
                       token=token))
    assert isinstance(sent, list)
    [row] = sent
    assert (row["kind"], row["audience"], row["city"], row["targeted"]) == ("training", "therapists", "shanghai", 1)
    beijing = as_json(run(env, "--format", "json", "announcements", "send", "--title", "T", "--text", "x",
                          "--audience", "therapists", "--city", "beijing", token=token))
    assert isinstance(beijing, list) and beijing[0]["targeted"] == 0
    listed = ok(run(env, "announcements", "list", token=token))
    assert row["id"] in listed and "培训通知" in listed
    stats = as_json(run(env, "--format", "json", "announcements", "stats", row["id"], token=token))
    assert isinstance(stats, list)
    assert {k: stats[0][k] for k in ("targeted", "delivered", "read", "unread")} == {
        "targeted": 1, "delivered": 0, "read": 0, "unread": 1}
    unread = as_json(run(env, "--format", "json", "announcements", "stats", row["id"], "--not-read", token=token))
    assert unread == [{"account": therapist}]
    platform = Platform.from_url(env["MASSAGE_DB"], keyring=KeyRing.load(env["MASSAGE_KEY_FILE"]))
    try:
        me = platform.accounts.login_with_password("zhao.min@example.com", PASSWORD).actor
        platform.announcements.mark_read(me, row["id"])
    finally:
        platform.close()
    stats = as_json(run(env, "--format", "json", "announcements", "stats", row["id"], token=token))
    assert isinstance(stats, list) and (stats[0]["read"], stats[0]["unread"]) == (1, 0)
    assert as_json(run(env, "--format", "json", "announcements", "stats", row["id"], "--not-read",
                       token=token)) == []


def test_errors_are_one_line(env: dict[str, str], token: str) -> None:
    bad = run(env, "announcements", "send", "--title", "T", "--text", "x", "--audience", "customers", "--city",
              "shanghai", token=token)
    assert bad.exit_code == 1 and "announcement.audience" in bad.output
    assert len(bad.output.strip().splitlines()) == 1
    nobody = run(env, "announcements", "list")
    assert nobody.exit_code != 0 and len(nobody.output.strip().splitlines()) == 1
    missing = run(env, "announcements", "stats", "ann_0000000000000000000000000Z", token=token)
    assert missing.exit_code == 1 and "not_found" in missing.output
