"""``massage customers show`` end to end on a SQLite file, through click's CliRunner (decision 0022)."""

from __future__ import annotations

from test_cli_therapists import as_json, env, ok, run, token

from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.bootstrap import Platform

__all__ = ["env", "token"]  # fixtures

NOTE = "Herniated disc; no pressure on the lower back"


def declare_profile(env: dict[str, str], **values: object) -> str:
    """A customer who declared a profile (through the library, as an app would); returns the account id."""
    platform = Platform.from_url(env["MASSAGE_DB"], keyring=KeyRing.load(env["MASSAGE_KEY_FILE"]))
    try:
        person = platform.accounts.register_with_password("patient@example.com", "桃花潭水深千尺不及汪伦送我情")
        platform.customers.set_profile(person.actor, **values)  # type: ignore[arg-type]
        return person.account_id
    finally:
        platform.close()


def test_customers_show_prints_the_masked_profile_only(env: dict[str, str], token: str) -> None:
    customer = declare_profile(env, gender="female", birth_year="1961-08-14", conditions=["osteoporosis"],
                               health_note=NOTE, preferred_therapist_gender="female")
    table = ok(run(env, "customers", "show", customer, token=token))
    lines = dict(line.split(None, 1) for line in table.strip().splitlines())
    assert lines["customer_id"] == customer and lines["declared_conditions"] == "yes"
    assert lines["gender"] == "female" and lines["preferred_therapist_gender"] == "female"
    assert lines["age_band"] in {"55-64", "65+"}  # depends on today's date
    shown = as_json(run(env, "--format", "json", "customers", "show", customer, token=token))
    assert isinstance(shown, list) and shown[0]["declared_conditions"] is True
    for output in (table, str(shown)):
        for secret in ("osteoporosis", "1961", NOTE):
            assert secret not in output
    audit = ok(run(env, "--format", "json", "audit", "list", token=token))
    assert "customers.profile_of" in audit


def test_customers_show_errors_are_one_line_and_non_zero(env: dict[str, str], token: str) -> None:
    customer = declare_profile(env)
    missing = run(env, "customers", "show", "acc_0000000000000000000000ZZZZ", token=token)
    assert missing.exit_code == 1 and "not_found" in missing.output and len(missing.output.strip().splitlines()) == 1
    bad = run(env, "customers", "show", "nonsense", token=token)
    assert bad.exit_code == 1 and "invalid_id" in bad.output
    assert "auth.required" in run(env, "customers", "show", customer).output
    empty = ok(run(env, "customers", "show", customer, token=token))
    assert dict(line.split(None, 1) for line in empty.strip().splitlines() if len(line.split()) == 2) == {
        "customer_id": customer, "declared_conditions": "no", "updated_at": empty.split()[-1]}
