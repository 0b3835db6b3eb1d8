"""``massage penalties`` and ``massage therapists rank`` end to end on a SQLite file, through click's CliRunner
(decision 0039)."""

from __future__ import annotations

from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor
from massage_core.domain.money import Money
from test_cli_therapists import as_json, env, ok, register_therapist, run, set_up_catalogue, token

__all__ = ["env", "token"]  # fixtures

SYSTEM = Actor.system()
PASSWORD = "桃花潭水深千尺不及汪伦送我情"


def approved_therapist_and_support(env: dict[str, str], service: str) -> tuple[str, str, Platform]:
    """A public therapist in Shanghai offering ``service`` with ¥100 available, and a support admin's token.
    The caller closes the returned platform."""
    therapist = register_therapist(env, service, "zhao.min@example.com", 12)
    platform = Platform.from_url(env["MASSAGE_DB"], keyring=KeyRing.load(env["MASSAGE_KEY_FILE"]))
    vet = platform.therapists
    vet.start_review(SYSTEM, therapist)
    vet.accept_documents(SYSTEM, therapist)
    vet.run_background_check(SYSTEM, therapist)
    vet.record_skill_test(SYSTEM, therapist, score=90, pass_mark=70)
    platform.earnings.grant_bonus(SYSTEM, therapist, Money(10_000), "welcome")
    support = platform.accounts.register_with_password("support@example.com", PASSWORD)
    platform.users.set_roles(SYSTEM, support.account_id, ["admin"], ["support"])
    login = platform.accounts.login_with_password("support@example.com", PASSWORD)
    return therapist, login.token, platform


def test_impose_appeal_decide_list_and_rank(env: dict[str, str], token: str) -> None:
    _, service = set_up_catalogue(env, token)
    therapist, support, platform = approved_therapist_and_support(env, service)
    try:
        made = as_json(run(env, "--format", "json", "penalties", "impose", therapist, "--kind", "deduction",
                           "--amount", "20", "--reason", "late twice", token=token))
        assert isinstance(made, list)
        [row] = made
        assert (row["kind"], row["amount"], row["state"], row["reason"]) == ("deduction", "¥20.00", "in_force",
                                                                            "late twice")
        warned = as_json(run(env, "--format", "json", "penalties", "impose", therapist, "--kind", "warning",
                             "--reason", "towels", "--request-id", "t-1", token=support))
        again = as_json(run(env, "--format", "json", "penalties", "impose", therapist, "--kind", "warning",
                            "--reason", "towels", "--request-id", "t-1", token=support))
        assert isinstance(warned, list) and again == warned  # the retry imposed nothing more
        shown = ok(run(env, "therapists", "rank", "--city", "shanghai", "--service", service, token=token))
        assert therapist in shown and "1 ranked in shanghai" in shown
        ranked = as_json(run(env, "--format", "json", "therapists", "rank", "--city", "Shanghai", "--service",
                             service, token=support))
        assert isinstance(ranked, list) and ranked[0]["therapist"] == therapist and ranked[0]["sanctions"] == 2
        me = platform.accounts.login_with_password("zhao.min@example.com", PASSWORD).actor
        platform.sanctions.appeal(me, row["id"], "The lift was broken, see the building notice.")
        same = run(env, "penalties", "appeal-decide", row["id"], "--uphold", "--reason", "fine", token=token)
        assert same.exit_code == 1 and "appeal.same_admin" in same.output
        assert len(same.output.strip().splitlines()) == 1
        decided = as_json(run(env, "--format", "json", "penalties", "appeal-decide", row["id"], "--uphold",
                              "--reason", "notice checked", token=support))
        assert isinstance(decided, list) and decided[0]["state"] == "reversed" and decided[0]["decision"] == (
            "notice checked")
        assert platform.earnings.summary(SYSTEM, therapist).available == Money(10_000)
        queue = as_json(run(env, "--format", "json", "penalties", "list", "--appeal", "upheld", token=token))
        assert isinstance(queue, list) and [r["id"] for r in queue] == [row["id"]]
        mine = as_json(run(env, "--format", "json", "penalties", "list", "--therapist", therapist, token=token))
        assert isinstance(mine, list) and len(mine) == 2
        detail = ok(run(env, "penalties", "show", row["id"], token=token))
        assert "notice checked" in detail and "upheld" in detail
    finally:
        platform.close()


def test_penalty_errors_are_one_line_and_non_zero(env: dict[str, str], token: str) -> None:
    _, service = set_up_catalogue(env, token)
    therapist, _support, platform = approved_therapist_and_support(env, service)
    platform.close()
    for args, code in ((("impose", therapist, "--kind", "deduction", "--amount", "500", "--reason", "x"),
                        "sanction.exceeds_available"),
                       (("impose", therapist, "--kind", "suspension", "--until", "2030-01-01", "--reason", "x"),
                        "time.naive"),
                       (("impose", therapist, "--kind", "warning", "--reason", " "), "sanction.reason"),
                       (("appeal-decide", "snc_nope", "--reject", "--reason", "x"), "invalid_id")):
        bad = run(env, "penalties", *args, token=token)
        assert bad.exit_code == 1 and code in bad.output and len(bad.output.strip().splitlines()) == 1, bad.output
    bad = run(env, "therapists", "rank", "--city", "atlantis", "--service", service, token=token)
    assert bad.exit_code == 1 and "quality.city" in bad.output
    assert "auth.required" in run(env, "penalties", "list").output
