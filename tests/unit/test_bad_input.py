"""Malformed input on every public entry: a ValidationError with a stable code, and nothing changed."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from massage_core.domain.errors import ValidationError

if TYPE_CHECKING:
    from conftest import Kit, Person

PASSWORD = "Blue-Harbour-Lantern-42"
VALID_ID = "acc_00000000000000000000000001"

Case = Callable[..., object]  # (kit, people) -> anything; defaults bind loop values

BAD_PHONES: list[Any] = ["", "   ", "abc", "123", "1380013800", "138001380001", "12345678901", "+1 555",
                         "+86 123 4567 8901", "x" * 50, "13800138000" + "0" * 30, None, 13800138000]
BAD_EMAILS: list[Any] = ["", "no-at-sign", "a@", "@example.com", "a@b", "a b@example.com", "a@@example.com",
                         "x" * 250 + "@example.com", None, 42]
BAD_IDS: list[Any] = ["acc_123", "ses_00000000000000000000000001", "acc_0000000000000000000000000l",
                      "acc_00000000000000000000000001\n", " acc_00000000000000000000000001", "ACC_00000000000000000000000001",
                      "acc-00000000000000000000000001", "", 42, None, b"acc_00000000000000000000000001"]
BAD_TOKENS: list[Any] = ["", "short", "A" * 42, "A" * 44, "A" * 42 + "+", "A" * 43 + "\n", 42, None]
BAD_CODES: list[Any] = ["", "12345", "1234567", "abcdef", "12 345", "12345a", "١٢٣٤٥٦", "123456\n", None, 123456]
NEW_PASSWORDS: list[tuple[Any, str]] = [
    ("short", "password.too_short"), ("1234567", "password.too_short"), ("x" * 129, "password.too_long"),
    ("password1", "password.common"), ("12345678", "password.common"), ("Password1", "password.common"),
    ("qwertyuiop", "password.common"), (None, "password.invalid"), (12345678, "password.invalid"),
]


def cases() -> list[Any]:
    out: list[Any] = []

    def add(name: str, code: str, call: Case) -> None:
        out.append(pytest.param(call, code, id=name))

    def actor(people: dict[str, Person], kind: str) -> Any:
        return people[kind].actor

    # -- anonymous entry points --
    for i, phone in enumerate(BAD_PHONES):
        add(f"request_login_code-phone{i}", "phone.invalid",
            lambda k, p, phone=phone: k.platform.accounts.request_login_code(phone))
        add(f"login_with_code-phone{i}", "phone.invalid",
            lambda k, p, phone=phone: k.platform.accounts.login_with_code(phone, "123456"))
    for i, code in enumerate(BAD_CODES):
        add(f"login_with_code-code{i}", "otp.malformed",
            lambda k, p, code=code: k.platform.accounts.login_with_code("13800138000", code))
    add("login_with_code-ip", "login.ip",
        lambda k, p: k.platform.accounts.login_with_code("13800138000", "123456", ip="1" * 65))
    add("login_with_code-device", "login.device",
        lambda k, p: k.platform.accounts.login_with_code("13800138000", "123456", device="d" * 257))
    add("login_with_code-ip-type", "login.ip",
        lambda k, p: k.platform.accounts.login_with_code("13800138000", "123456", ip=None))
    for i, email in enumerate(BAD_EMAILS):
        add(f"register-email{i}", "email.invalid",
            lambda k, p, email=email: k.platform.accounts.register_with_password(email, PASSWORD))
        add(f"login_with_password-email{i}", "email.invalid",
            lambda k, p, email=email: k.platform.accounts.login_with_password(email, PASSWORD))
    for i, (password, code) in enumerate(NEW_PASSWORDS):
        add(f"register-password{i}-{code}", code,
            lambda k, p, pw=password: k.platform.accounts.register_with_password("new@example.com", pw))
    add("register-password-is-email", "password.is_identifier",
        lambda k, p: k.platform.accounts.register_with_password("LongLocalPart@example.com", "longlocalpart"))
    add("register-display-name", "profile.too_long",
        lambda k, p: k.platform.accounts.register_with_password("new@example.com", PASSWORD, display_name="n" * 51))
    add("register-device", "login.device",
        lambda k, p: k.platform.accounts.register_with_password("new@example.com", PASSWORD, device="d" * 257))
    for i, password in enumerate(["", "x" * 129, None, 12345678]):
        add(f"login_with_password-password{i}", "password.invalid",
            lambda k, p, pw=password: k.platform.accounts.login_with_password("a@example.com", pw))
    add("login_with_password-ip", "login.ip",
        lambda k, p: k.platform.accounts.login_with_password("a@example.com", PASSWORD, ip="1" * 65))
    for i, prov in enumerate(["facebook", "", "WeChat ", None, 1]):
        add(f"login_with_identity-provider{i}", "identity.provider",
            lambda k, p, prov=prov: k.platform.accounts.login_with_identity(prov, k.issue("wechat", "s-1")))
    add("login_with_identity-ip", "login.ip",
        lambda k, p: k.platform.accounts.login_with_identity("wechat", k.issue("wechat", "s-1"), ip="1" * 65))
    for i, token in enumerate(BAD_TOKENS):
        add(f"authenticate-token{i}", "token.malformed",
            lambda k, p, token=token: k.platform.accounts.authenticate(token))
        add(f"logout-token{i}", "token.malformed", lambda k, p, token=token: k.platform.accounts.logout(token))

    # -- one's own account --
    for i, raw in enumerate(BAD_IDS):
        add(f"personal_details-id{i}", "invalid_id",
            lambda k, p, raw=raw: k.platform.accounts.personal_details(actor(p, "customer"), raw))
        add(f"update_profile-id{i}", "invalid_id",
            lambda k, p, raw=raw: k.platform.accounts.update_profile(actor(p, "customer"), raw, display_name="x"))
    for name, kwargs, code in [
        ("id_number-short", {"id_number": "1101011990"}, "id_number.invalid"),
        ("id_number-letters", {"id_number": "11010119900307851A"}, "id_number.invalid"),
        ("id_number-date", {"id_number": "110101199013078515"}, "id_number.birth_date"),
        ("id_number-check", {"id_number": "110101199003078514"}, "id_number.check_digit"),
        ("id_number-type", {"id_number": 110101199003078515}, "id_number.invalid"),
        ("display_name", {"display_name": "n" * 51}, "profile.too_long"),
        ("address", {"address": "a" * 201}, "profile.too_long"),
        ("real_name-type", {"real_name": 42}, "profile.invalid"),
    ]:
        add(f"update_profile-{name}", code,
            lambda k, p, kw=kwargs: k.platform.accounts.update_profile(actor(p, "customer"),
                                                                        p["customer"].account_id, **kw))
    for i, phone in enumerate(BAD_PHONES[:6]):
        add(f"request_link_code-phone{i}", "phone.invalid",
            lambda k, p, phone=phone: k.platform.accounts.request_link_code(actor(p, "customer"), phone))
        add(f"link_phone-phone{i}", "phone.invalid",
            lambda k, p, phone=phone: k.platform.accounts.link_phone(actor(p, "customer"), phone, "123456"))
    for i, code in enumerate(BAD_CODES[:6]):
        add(f"link_phone-code{i}", "otp.malformed",
            lambda k, p, code=code: k.platform.accounts.link_phone(actor(p, "customer"), "13800138000", code))
    for i, email in enumerate(BAD_EMAILS[:6]):
        add(f"link_password-email{i}", "email.invalid",
            lambda k, p, email=email: k.platform.accounts.link_password(actor(p, "customer"), email, PASSWORD))
    for i, (password, code) in enumerate(NEW_PASSWORDS):
        add(f"link_password-password{i}-{code}", code,
            lambda k, p, pw=password: k.platform.accounts.link_password(actor(p, "customer"), "n@example.com", pw))
        add(f"change_password-new{i}-{code}", code,
            lambda k, p, pw=password: k.platform.accounts.change_password(actor(p, "superadmin"), PASSWORD, pw))
    add("change_password-same-as-email", "password.is_identifier",
        lambda k, p: k.platform.accounts.change_password(actor(p, "superadmin"), PASSWORD,
                                                         p["superadmin"].email or ""))
    for i, password in enumerate(["", None, "x" * 129]):
        add(f"change_password-current{i}", "password.invalid",
            lambda k, p, pw=password: k.platform.accounts.change_password(actor(p, "superadmin"), pw, PASSWORD))
    for i, prov in enumerate(["facebook", "", None]):
        add(f"link_identity-provider{i}", "identity.provider",
            lambda k, p, prov=prov: k.platform.accounts.link_identity(actor(p, "customer"), prov,
                                                                       k.issue("wechat", "s-1")))
    for i, method in enumerate(["facebook", "", "PHONE", None]):
        add(f"unlink-method{i}", "account.method",
            lambda k, p, m=method: k.platform.accounts.unlink(actor(p, "customer"), m))
    for i, limit in enumerate([0, -1, 501, "10", None, True, 1.5]):
        add(f"my_login_records-limit{i}", "page.limit",
            lambda k, p, n=limit: k.platform.accounts.my_login_records(actor(p, "customer"), limit=n))

    # -- back office --
    add("search-none", "search.criteria", lambda k, p: k.platform.users.search(actor(p, "support")))
    add("search-both", "search.criteria",
        lambda k, p: k.platform.users.search(actor(p, "support"), phone="13800138000", email="a@example.com"))
    for i, phone in enumerate(BAD_PHONES[:-2]):  # None means "not this criterion"
        add(f"search-phone{i}", "phone.invalid",
            lambda k, p, phone=phone: k.platform.users.search(actor(p, "support"), phone=phone))
    for i, email in enumerate(BAD_EMAILS[:-2]):
        add(f"search-email{i}", "email.invalid",
            lambda k, p, email=email: k.platform.users.search(actor(p, "support"), email=email))
    for i, offset in enumerate([-1, "0", None, True, 1.0]):
        add(f"list-offset{i}", "page.offset",
            lambda k, p, n=offset: k.platform.users.list(actor(p, "support"), offset=n))
    for i, limit in enumerate([0, -5, 501, "50", None, True]):
        add(f"list-limit{i}", "page.limit", lambda k, p, n=limit: k.platform.users.list(actor(p, "support"), limit=n))
    for i, status in enumerate(["deleted", "", "ACTIVE"]):
        add(f"list-status{i}", "account.status",
            lambda k, p, s=status: k.platform.users.list(actor(p, "support"), status=s))
    for i, raw in enumerate(BAD_IDS):
        add(f"show-id{i}", "invalid_id", lambda k, p, raw=raw: k.platform.users.show(actor(p, "support"), raw))
        add(f"login_records-id{i}", "invalid_id",
            lambda k, p, raw=raw: k.platform.users.login_records(actor(p, "support"), raw))
        add(f"suspend-id{i}", "invalid_id",
            lambda k, p, raw=raw: k.platform.users.suspend(actor(p, "support"), raw, "abuse"))
        add(f"reactivate-id{i}", "invalid_id",
            lambda k, p, raw=raw: k.platform.users.reactivate(actor(p, "support"), raw))
        add(f"set_roles-id{i}", "invalid_id",
            lambda k, p, raw=raw: k.platform.users.set_roles(actor(p, "superadmin"), raw, ["customer"]))
    record_limits: list[Any] = [0, 501, "5", True]
    for i, limit in enumerate(record_limits):
        add(f"login_records-limit{i}", "page.limit",
            lambda k, p, n=limit: k.platform.users.login_records(actor(p, "support"), p["customer"].account_id,
                                                                 limit=n))
    for i, reason in enumerate([None, 42, "", "   ", "r" * 501]):
        add(f"suspend-reason{i}", "account.reason",
            lambda k, p, r=reason: k.platform.users.suspend(actor(p, "support"), p["customer"].account_id, r))
    for i, (roles, admin_roles) in enumerate([(["king"], []), ([], []), (["admin"], []),
                                              (["customer"], ["support"]), (["admin"], ["janitor"])]):
        add(f"set_roles-roles{i}", "account.roles",
            lambda k, p, r=roles, a=admin_roles: k.platform.users.set_roles(actor(p, "superadmin"),
                                                                             p["customer"].account_id, r, a))
    for i, email in enumerate(BAD_EMAILS[:6]):
        add(f"create_superadmin-email{i}", "email.invalid",
            lambda k, p, email=email: k.platform.users.create_superadmin(actor(p, "superadmin"), email, PASSWORD))
    for i, (password, code) in enumerate(NEW_PASSWORDS):
        add(f"create_superadmin-password{i}-{code}", code,
            lambda k, p, pw=password: k.platform.users.create_superadmin(actor(p, "superadmin"), "r@example.com", pw))
    add("create_superadmin-display_name", "profile.too_long",
        lambda k, p: k.platform.users.create_superadmin(actor(p, "superadmin"), "r@example.com", PASSWORD,
                                                        display_name="n" * 51))

    # -- audit and keys --
    for i, after in enumerate([-1, "0", None, True]):
        add(f"audit.entries-after{i}", "page.offset",
            lambda k, p, n=after: k.platform.audit.entries(actor(p, "auditor"), after_sequence=n))
    for i, limit in enumerate([0, 1001, "10", None, True]):
        add(f"audit.entries-limit{i}", "page.limit",
            lambda k, p, n=limit: k.platform.audit.entries(actor(p, "auditor"), limit=n))
    for i, size in enumerate([0, -1, 10_001, "500", None, True]):
        add(f"keys.reencrypt-batch{i}", "keys.batch_size",
            lambda k, p, n=size: k.platform.keys.reencrypt(actor(p, "superadmin"), batch_size=n))
    return out


@pytest.mark.parametrize(("call", "code"), cases())
def test_bad_input_is_refused_and_changes_nothing(kit: Kit, people: dict[str, Person], call: Case,
                                                  code: str) -> None:
    kit.platform.accounts.request_login_code("13800138000")  # so a code exists that bad input must not spend
    before = kit.snapshot()
    with pytest.raises(ValidationError) as err:
        call(kit, people)
    assert err.value.code == code, str(err.value)
    assert kit.snapshot() == before


def test_the_snapshot_sees_every_kind_of_change(kit: Kit, people: dict[str, Person]) -> None:
    """Guard against a snapshot that would compare equal whatever happened."""
    customer, support = people["customer"], people["support"]
    changes: list[Callable[[], object]] = [
        lambda: kit.platform.accounts.request_login_code("13800138000"),  # one_time_codes, sms outbox
        lambda: kit.platform.accounts.login_with_code("13800138000", kit.wrong_code("13800138000")),  # codes, records
        lambda: kit.platform.accounts.update_profile(customer.actor, customer.account_id, display_name="x"),
        lambda: kit.platform.accounts.logout(customer.token),  # sessions
        lambda: kit.platform.users.search(support.actor, phone="13800138000"),  # audit
    ]
    for change in changes:
        before = kit.snapshot()
        try:
            change()
        except Exception:  # noqa: BLE001 - a refused login still writes its record
            pass
        assert kit.snapshot() != before
