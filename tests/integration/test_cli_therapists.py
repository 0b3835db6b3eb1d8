"""``massage catalog`` and ``massage therapists`` end to end on a SQLite file, through click's CliRunner."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from massage_cli.main import cli
from massage_core.domain.identity_documents import check_digit

PASSWORD = "correct horse battery staple"


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    return {"MASSAGE_DB": f"sqlite:///{tmp_path / 'cli.db'}", "MASSAGE_KEY_FILE": str(tmp_path / "keys.json"),
            "MASSAGE_TOKEN": "", "MASSAGE_KEYS": "", "MASSAGE_MEDIA_DIR": str(tmp_path / "media")}


def run(env: dict[str, str], *args: str, token: str | None = None) -> Result:
    extra = ["--token", token] if token else []
    return CliRunner().invoke(cli, [*extra, *args], env=env, catch_exceptions=False)


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def as_json(result: Result) -> object:
    return json.loads(ok(result))


@pytest.fixture()
def token(env: dict[str, str]) -> str:
    ok(run(env, "db", "upgrade"))
    ok(run(env, "keys", "generate"))
    ok(run(env, "admin", "create-superadmin", "--email", "boss@example.com", "--password", PASSWORD))
    return ok(run(env, "admin", "login", "--email", "boss@example.com", "--password", PASSWORD)).strip()


def set_up_catalogue(env: dict[str, str], token: str) -> tuple[str, str]:
    for code, rank in (("junior", "10"), ("senior", "20")):
        ok(run(env, "catalog", "add", "level", code, "--name", code.title(), "--rank", rank, token=token))
    category = as_json(run(env, "--format", "json", "catalog", "add", "category", "足疗", token=token))
    assert isinstance(category, list)
    service = as_json(run(env, "--format", "json", "catalog", "add", "service", "--category", category[0]["id"],
                          "--name", "Foot reflexology", "--duration", "60", "--price", "junior=128",
                          "--price", "senior=168.50", "--contraindication", "pregnancy", token=token))
    assert isinstance(service, list)
    return category[0]["id"], service[0]["id"]


def register_therapist(env: dict[str, str], service: str, email: str, sequence: int) -> str:
    from massage_core.adapters.crypto.keyring import KeyRing
    from massage_core.bootstrap import Platform

    platform = Platform.from_url(env["MASSAGE_DB"], keyring=KeyRing.load(env["MASSAGE_KEY_FILE"]))
    try:
        person = platform.accounts.register_with_password(email, "桃花潭水深千尺不及汪伦送我情")
        body = f"11010119880808{sequence:03d}"
        platform.therapists.register(
            person.actor, person.account_id, real_name="赵敏", id_number=body + check_digit(body), gender="female",
            years_experience=4, area=(31.2304, 121.4737, 10), services=[service],
            certificates=[{"issuer": "上海市人社局", "number": f"SH-{sequence:04d}", "expires_on": "2029-12-31"}])
        platform.therapists.submit(person.actor, person.account_id)
        return person.account_id
    finally:
        platform.close()


def test_catalogue_commands(env: dict[str, str], token: str) -> None:
    category, service = set_up_catalogue(env, token)
    listed = as_json(run(env, "--format", "json", "catalog", "list"))  # no token: what customers see
    assert listed == [{"id": service, "category_id": category, "name": "Foot reflexology", "duration_minutes": 60,
                       "prices": "junior=¥128.00,senior=¥168.50", "contraindications": "pregnancy",
                       "active": True}]
    package = as_json(run(env, "--format", "json", "catalog", "add", "package", "--service", service, "--name",
                          "Ten visits", "--sessions", "10", "--price", "1200", "--validity-days", "365", token=token))
    assert isinstance(package, list) and package[0]["price"] == "¥1200.00"
    ok(run(env, "catalog", "update", service, "--price", "junior=138", "--duration", "75", token=token))
    rows = list(csv.DictReader(io.StringIO(ok(run(env, "--format", "csv", "catalog", "list")))))
    assert rows[0]["duration_minutes"] == "75" and rows[0]["prices"] == "junior=¥138.00"
    assert "deactivated" in ok(run(env, "catalog", "deactivate", service, token=token))
    assert "(none)" in ok(run(env, "catalog", "list"))
    assert service in ok(run(env, "catalog", "list", "--all", token=token))
    assert "senior" in ok(run(env, "catalog", "list", "levels"))
    refused = run(env, "catalog", "list", "--all")
    assert refused.exit_code == 1 and "permission_denied" in refused.output
    bad = run(env, "catalog", "add", "service", "--category", category, "--name", "X", "--duration", "60",
              "--price", "junior=12.345", token=token)
    assert bad.exit_code == 1 and bad.output.strip().startswith("error [money.format]")
    assert len(bad.output.strip().splitlines()) == 1


def test_vetting_from_submission_to_the_public_directory(env: dict[str, str], token: str) -> None:
    _, service = set_up_catalogue(env, token)
    therapist = register_therapist(env, service, "zhao.min@example.com", 12)
    flagged = register_therapist(env, service, "flagged@example.com", 995)
    submitted = as_json(run(env, "--format", "json", "therapists", "list", "--state", "submitted", token=token))
    assert isinstance(submitted, list) and {r["id"] for r in submitted} == {therapist, flagged}
    assert all(r["real_name"] == "赵*" for r in submitted)

    for who in (therapist, flagged):
        ok(run(env, "therapists", "review", who, "--step", "start", token=token))
        ok(run(env, "therapists", "review", who, "--step", "documents", token=token))
    assert "skill_test" in ok(run(env, "therapists", "review", therapist, "--step", "background", token=token))
    rejected = ok(run(env, "therapists", "review", flagged, "--step", "background", token=token))
    assert "rejected" in rejected and "background check flagged" in rejected

    illegal = run(env, "therapists", "approve", flagged, "--score", "90", token=token)
    assert illegal.exit_code == 1
    assert illegal.output.strip() == ("error [invalid_transition]: cannot pass_skill_test in state rejected; "
                                      "allowed: submit")
    assert "approved" in ok(run(env, "therapists", "approve", therapist, "--score", "88", "--pass-mark", "70",
                                token=token))
    assert "senior" in ok(run(env, "therapists", "set-level", therapist, "senior", token=token))

    public = as_json(run(env, "--format", "json", "therapists", "list", "--public"))
    assert isinstance(public, list) and [p["id"] for p in public] == [therapist]
    assert public[0]["name"] == "赵*" and public[0]["level"] == "senior" and "id_number" not in public[0]

    shown = ok(run(env, "therapists", "show", therapist, token=token))
    assert "pass_skill_test" in shown and "1101**********" in shown and "110101198808" not in shown

    ok(run(env, "therapists", "suspend", therapist, "--reason", "complaint under review", token=token))
    assert "(none)" in ok(run(env, "therapists", "list", "--public"))
    assert "public" in ok(run(env, "therapists", "reinstate", therapist, token=token))
    assert "[]" == ok(run(env, "--format", "json", "therapists", "suspend-expired-badges", token=token)).strip()

    other = register_therapist(env, service, "third@example.com", 13)
    ok(run(env, "therapists", "review", other, "--step", "start", token=token))
    out = ok(run(env, "therapists", "reject", other, "--reason", "blurred ID photo", "--reason", "no photo",
                 token=token))
    assert "rejected (blurred ID photo; no photo)" in out
    entries = as_json(run(env, "--format", "json", "audit", "list", token=token))
    assert isinstance(entries, list)
    actions = [e["action"] for e in entries]
    assert "therapists.record_skill_test" in actions and "therapists.reject" in actions


def test_media_moderation(env: dict[str, str], token: str, tmp_path: Path) -> None:
    from massage_core.adapters.crypto.keyring import KeyRing
    from massage_core.adapters.files.media_store import FilesystemMediaStore
    from massage_core.bootstrap import Platform

    _, service = set_up_catalogue(env, token)
    therapist = register_therapist(env, service, "photo@example.com", 21)
    jpeg, png = b"\xff\xd8\xff\xe0" + b"\x01" * 40, b"\x89PNG\r\n\x1a\n" + b"\x02" * 40
    platform = Platform.from_url(env["MASSAGE_DB"], keyring=KeyRing.load(env["MASSAGE_KEY_FILE"]),
                                 media_store=FilesystemMediaStore(env["MASSAGE_MEDIA_DIR"]))
    try:
        actor = platform.accounts.login_with_password("photo@example.com", "桃花潭水深千尺不及汪伦送我情").actor
        photo = platform.media.upload(actor, therapist, "photo", "image/jpeg", jpeg)
        other = platform.media.upload(actor, therapist, "photo", "image/png", png)
    finally:
        platform.close()
    pending = as_json(run(env, "--format", "json", "media", "pending", token=token))
    assert isinstance(pending, list) and [m["id"] for m in pending] == [photo.id, other.id]
    out = tmp_path / "look.jpg"
    ok(run(env, "media", "save", photo.id, str(out), token=token))
    assert out.read_bytes() == jpeg
    assert "approved" in ok(run(env, "media", "approve", photo.id, token=token))
    assert "rejected: not a portrait" in ok(run(env, "media", "reject", other.id, "--reason", "not a portrait",
                                                token=token))
    assert "(none)" in ok(run(env, "media", "pending", token=token))
    again = run(env, "media", "approve", photo.id, token=token)
    assert again.exit_code == 1 and "invalid_transition" in again.output


def test_search_finds_the_approved_therapist_with_the_distance(env: dict[str, str], token: str) -> None:
    _, service = set_up_catalogue(env, token)
    therapist = register_therapist(env, service, "search.me@example.com", 21)
    for step in ("start", "documents", "background"):
        ok(run(env, "therapists", "review", therapist, "--step", step, token=token))
    ok(run(env, "therapists", "approve", therapist, "--score", "90", token=token))
    ok(run(env, "therapists", "set-level", therapist, "senior", token=token))
    near = ("therapists", "search", "--lat", "31.2394", "--lng", "121.4737", "--radius-km", "3")
    found = as_json(run(env, "--format", "json", *near, "--service", service, "--max-price", "200",
                        "--sort", "price"))
    assert isinstance(found, list) and [r["id"] for r in found] == [therapist]
    assert 995 <= found[0]["distance_m"] <= 1005 and found[0]["price"] == "¥168.50" and found[0]["name"] == "赵*"
    rows = list(csv.DictReader(io.StringIO(ok(run(env, "--format", "csv", *near)))))
    assert [r["id"] for r in rows] == [therapist] and rows[0]["rating"] == "" and rows[0]["reviews"] == "0"
    table = ok(run(env, *near, "--gender", "female"))
    assert therapist in table and "1 found within 3 km; showing 1..1 by distance" in table
    assert "(none)" in ok(run(env, *near, "--service", service, "--max-price", "150"))
    assert "(none)" in ok(run(env, "therapists", "search", "--lat", "31.30", "--lng", "121.4737", "--radius-km", "3"))
    bad = run(env, *near, "--sort", "price")
    assert bad.exit_code == 1 and bad.output.strip().startswith("error [search.needs_service]")
