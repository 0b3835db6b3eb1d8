"""The four ways to log in, and the rules of SMS one-time codes."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from massage_core.adapters.memory.sms import SandboxCodeSender
from massage_core.domain.access import Role
from massage_core.domain.accounts import Provider
from massage_core.domain.authentication import CodePurpose, LoginOutcome, ThrottlePolicy
from massage_core.domain.contact import PhoneNumber
from massage_core.domain.errors import AuthenticationFailed, Conflict, MassageError, Throttled
from massage_core.services.base import Policies

if TYPE_CHECKING:
    from conftest import Kit, MakeKit

PASSWORD = "Blue-Harbour-Lantern-42"


# -- phone + SMS code ---------------------------------------------------------------------------


def test_request_login_code_sends_a_six_digit_code_valid_five_minutes(kit: Kit) -> None:
    now = kit.clock.now()
    request = kit.platform.accounts.request_login_code("13800138000")
    assert request.expires_at == now + timedelta(minutes=5)
    assert request.resend_after_seconds == 60
    [message] = kit.sms.sent
    assert message.phone == PhoneNumber("+8613800138000")
    assert message.purpose == "login"
    assert len(message.code) == 6 and message.code.isdigit()


def test_first_phone_login_registers_a_customer(kit: Kit) -> None:
    assert kit.tables.accounts == {}
    result = kit.login_by_phone("13800138000", ip="203.0.113.5", device="iPhone")
    assert result.new_account is True
    assert result.actor.account_id == result.account_id
    assert result.actor.roles == frozenset({Role.CUSTOMER})
    assert list(kit.tables.accounts) == [result.account_id]
    me = kit.platform.accounts.me(result.actor)
    assert me.phone == "138****8000"
    assert me.login_methods == ("phone",)
    assert me.roles == ("customer",)


def test_second_phone_login_finds_the_same_account(kit: Kit) -> None:
    first = kit.login_by_phone("13800138000")
    kit.clock.advance(timedelta(seconds=61))
    second = kit.login_by_phone("+86 138 0013 8000")  # another spelling of the same number
    assert second.new_account is False
    assert second.account_id == first.account_id
    assert second.token != first.token
    assert len(kit.tables.accounts) == 1


def test_wrong_code_does_not_register_anybody(kit: Kit) -> None:
    phone = kit.next_phone()
    kit.platform.accounts.request_login_code(phone)
    with pytest.raises(AuthenticationFailed) as err:
        kit.platform.accounts.login_with_code(phone, kit.wrong_code(phone))
    assert err.value.code == "auth.invalid_credentials"
    assert kit.tables.accounts == {}
    assert kit.tables.sessions == {}
    assert [r.outcome for r in kit.login_records()] == [LoginOutcome.FAILED]


def test_login_without_any_code_requested_fails(kit: Kit) -> None:
    with pytest.raises(AuthenticationFailed) as err:
        kit.platform.accounts.login_with_code(kit.next_phone(), "123456")
    assert err.value.code == "auth.invalid_credentials"
    assert kit.tables.accounts == {}


def test_a_code_is_only_good_for_its_own_phone(kit: Kit) -> None:
    one, other = kit.next_phone(), kit.next_phone()
    kit.platform.accounts.request_login_code(one)
    with pytest.raises(AuthenticationFailed):
        kit.platform.accounts.login_with_code(other, kit.code_for(one))
    assert kit.tables.accounts == {}
    assert kit.platform.accounts.login_with_code(one, kit.code_for(one)).new_account


def test_code_expires_after_five_minutes(kit: Kit) -> None:
    phone = kit.next_phone()
    kit.platform.accounts.request_login_code(phone)
    kit.clock.advance(timedelta(minutes=5))
    with pytest.raises(AuthenticationFailed) as err:
        kit.platform.accounts.login_with_code(phone, kit.code_for(phone))
    assert err.value.code == "auth.invalid_credentials"
    assert kit.tables.accounts == {}


def test_code_still_works_just_before_expiry(kit: Kit) -> None:
    phone = kit.next_phone()
    kit.platform.accounts.request_login_code(phone)
    kit.clock.advance(timedelta(minutes=5) - timedelta(seconds=1))
    assert kit.platform.accounts.login_with_code(phone, kit.code_for(phone)).new_account


@pytest.fixture
def lenient_kit(make_kit: MakeKit) -> Kit:
    """Login throttling out of the way, so only the per-code try limit is at work."""
    return make_kit(policies=Policies(throttle=ThrottlePolicy(max_failures=100)))


def test_five_wrong_tries_burn_the_code_even_the_right_one_fails(lenient_kit: Kit) -> None:
    kit = lenient_kit
    phone = kit.next_phone()
    kit.platform.accounts.request_login_code(phone)
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            kit.platform.accounts.login_with_code(phone, kit.wrong_code(phone))
    [stored] = kit.tables.one_time_codes.values()
    assert stored.attempts == 5
    with pytest.raises(AuthenticationFailed) as err:
        kit.platform.accounts.login_with_code(phone, kit.code_for(phone))
    assert err.value.code == "auth.invalid_credentials"
    assert kit.tables.accounts == {}


def test_four_wrong_tries_leave_the_fifth_for_the_right_code(lenient_kit: Kit) -> None:
    kit = lenient_kit
    phone = kit.next_phone()
    kit.platform.accounts.request_login_code(phone)
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            kit.platform.accounts.login_with_code(phone, kit.wrong_code(phone))
    assert kit.platform.accounts.login_with_code(phone, kit.code_for(phone)).new_account


def test_a_used_code_cannot_be_used_again(kit: Kit) -> None:
    phone = kit.next_phone()
    kit.platform.accounts.request_login_code(phone)
    code = kit.code_for(phone)
    kit.platform.accounts.login_with_code(phone, code)
    with pytest.raises(AuthenticationFailed) as err:
        kit.platform.accounts.login_with_code(phone, code)
    assert err.value.code == "auth.invalid_credentials"
    [stored] = kit.tables.one_time_codes.values()
    assert stored.consumed_at == kit.clock.now()


def test_a_new_code_replaces_the_previous_one(kit: Kit) -> None:
    phone = kit.next_phone()
    kit.platform.accounts.request_login_code(phone)
    old = kit.code_for(phone)
    kit.clock.advance(timedelta(seconds=60))
    kit.platform.accounts.request_login_code(phone)
    new = kit.code_for(phone)
    if old != new:
        with pytest.raises(AuthenticationFailed):
            kit.platform.accounts.login_with_code(phone, old)
    assert kit.platform.accounts.login_with_code(phone, new).new_account


def test_link_codes_do_not_log_in(kit: Kit) -> None:
    person = kit.customer_by_password()
    phone = kit.next_phone()
    kit.platform.accounts.request_link_code(person.actor, phone)
    with pytest.raises(AuthenticationFailed):
        kit.platform.accounts.login_with_code(phone, kit.code_for(phone))
    [stored] = kit.tables.one_time_codes.values()
    assert stored.purpose is CodePurpose.LINK


def test_codes_are_never_stored_in_clear(kit: Kit) -> None:
    phone = kit.next_phone()
    kit.platform.accounts.request_login_code(phone)
    code = kit.code_for(phone)
    [stored] = kit.tables.one_time_codes.values()
    assert stored.code_hash != code
    assert len(stored.code_hash) == 64
    assert code not in stored.code_hash
    # the phone number is not kept in clear either: only its blind index
    assert "13900000001" not in stored.subject_key and "+86" not in stored.subject_key
    assert code not in repr(kit.tables.one_time_codes)


def test_resend_is_throttled_for_sixty_seconds(kit: Kit) -> None:
    phone = kit.next_phone()
    kit.platform.accounts.request_login_code(phone)
    kit.clock.advance(timedelta(seconds=30))
    with pytest.raises(Throttled) as err:
        kit.platform.accounts.request_login_code(phone)
    assert err.value.code == "otp.resend_throttled"
    assert 0 < err.value.retry_after_seconds <= 31
    assert len(kit.sms.sent) == 1
    assert len(kit.tables.one_time_codes) == 1
    kit.clock.advance(timedelta(seconds=30))
    kit.platform.accounts.request_login_code(phone)
    assert len(kit.sms.sent) == 2


def test_resend_is_limited_to_five_per_hour(kit: Kit) -> None:
    phone = kit.next_phone()
    start = kit.clock.now()
    for _ in range(5):
        kit.platform.accounts.request_login_code(phone)
        kit.clock.advance(timedelta(seconds=60))
    with pytest.raises(Throttled) as err:
        kit.platform.accounts.request_login_code(phone)
    assert err.value.code == "otp.resend_throttled"
    assert err.value.retry_after_seconds > 60
    assert len(kit.sms.sent) == 5
    kit.clock.set(start + timedelta(hours=1))
    kit.platform.accounts.request_login_code(phone)
    assert len(kit.sms.sent) == 6


def test_resend_throttle_is_per_phone(kit: Kit) -> None:
    kit.platform.accounts.request_login_code(kit.next_phone())
    kit.platform.accounts.request_login_code(kit.next_phone())
    assert len(kit.sms.sent) == 2


def test_sms_failure_stores_nothing(make_kit: MakeKit) -> None:
    kit = make_kit(code_sender=SandboxCodeSender(fail_for=["+8613900000001"]))
    with pytest.raises(MassageError) as err:
        kit.platform.accounts.request_login_code("13900000001")
    assert err.value.code == "sms.failed"
    assert kit.tables.one_time_codes == {}


# -- email + password -----------------------------------------------------------------------------


def test_register_with_password_logs_in_a_new_customer(kit: Kit) -> None:
    result = kit.platform.accounts.register_with_password("Zhang.San@Example.com", PASSWORD, display_name=" San ",
                                                          ip="198.51.100.7", device="Firefox")
    assert result.new_account is True
    assert result.actor.roles == frozenset({Role.CUSTOMER})
    me = kit.platform.accounts.me(result.actor)
    assert me.email == "z***@example.com"
    assert me.display_name == "San"
    assert me.login_methods == ("password",)
    assert kit.platform.accounts.authenticate(result.token) == result.actor


def test_password_login_finds_the_registered_account(kit: Kit) -> None:
    registered = kit.platform.accounts.register_with_password("zhang.san@example.com", PASSWORD)
    result = kit.platform.accounts.login_with_password("ZHANG.SAN@example.com", PASSWORD)
    assert result.new_account is False
    assert result.account_id == registered.account_id
    assert len(kit.tables.accounts) == 1


def test_password_is_never_stored_in_clear(kit: Kit) -> None:
    person = kit.customer_by_password()
    stored = kit.tables.accounts[person.account_id]
    assert stored.password_hash is not None
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in repr(kit.tables)


def test_registering_an_email_twice_is_a_conflict(kit: Kit) -> None:
    kit.platform.accounts.register_with_password("a.b@example.com", PASSWORD)
    with pytest.raises(Conflict) as err:
        kit.platform.accounts.register_with_password("A.B@example.com", "Another-Good-Passphrase-9")
    assert err.value.code == "account.duplicate"
    assert len(kit.tables.accounts) == 1


def test_wrong_password_is_refused(kit: Kit) -> None:
    person = kit.customer_by_password()
    with pytest.raises(AuthenticationFailed) as err:
        kit.platform.accounts.login_with_password(person.email or "", PASSWORD + "x")
    assert err.value.code == "auth.invalid_credentials"
    assert kit.login_records()[-1].outcome is LoginOutcome.FAILED
    assert kit.login_records()[-1].account_id == person.account_id


# -- WeChat and Alipay ------------------------------------------------------------------------------


@pytest.mark.parametrize("prov", ["wechat", "alipay"])
def test_first_identity_login_registers_and_second_finds_the_same_account(kit: Kit, prov: str) -> None:
    first = kit.platform.accounts.login_with_identity(prov, kit.issue(prov, "subject-0001"))
    assert first.new_account is True
    assert first.actor.roles == frozenset({Role.CUSTOMER})
    me = kit.platform.accounts.me(first.actor)
    assert me.login_methods == (prov,)
    assert me.identities == ((prov, "sub***001"),)
    second = kit.platform.accounts.login_with_identity(prov, kit.issue(prov, "subject-0001"))
    assert second.new_account is False
    assert second.account_id == first.account_id
    assert len(kit.tables.accounts) == 1


def test_same_subject_at_wechat_and_alipay_are_different_accounts(kit: Kit) -> None:
    a = kit.login_by_identity("wechat", "shared-subject")
    b = kit.login_by_identity("alipay", "shared-subject")
    assert a.account_id != b.account_id


@pytest.mark.parametrize("prov", ["wechat", "alipay"])
def test_an_authorisation_code_is_single_use(kit: Kit, prov: str) -> None:
    code = kit.issue(prov, "subject-0002")
    kit.platform.accounts.login_with_identity(prov, code)
    with pytest.raises(AuthenticationFailed) as err:
        kit.platform.accounts.login_with_identity(prov, code)
    assert err.value.code == "identity.invalid_code"
    assert kit.login_records()[-1].outcome is LoginOutcome.FAILED


def test_a_code_of_one_provider_does_not_work_at_the_other(kit: Kit) -> None:
    code = kit.issue(Provider.ALIPAY, "subject-0003")
    with pytest.raises(AuthenticationFailed) as err:
        kit.platform.accounts.login_with_identity("wechat", code)
    assert err.value.code == "identity.invalid_code"
    assert kit.tables.accounts == {}


def test_forged_and_expired_authorisation_codes_fail(kit: Kit) -> None:
    code = kit.issue("wechat", "subject-0004")
    body, _, signature = code.partition(".")
    forged = f"{body}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    with pytest.raises(AuthenticationFailed):
        kit.platform.accounts.login_with_identity("wechat", forged)
    kit.clock.advance(timedelta(minutes=5))
    with pytest.raises(AuthenticationFailed):
        kit.platform.accounts.login_with_identity("wechat", code)
    assert kit.tables.accounts == {}
