"""Linking and unlinking login methods on one's own account."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from massage_core.domain.errors import AuthenticationFailed, Conflict, ValidationError

if TYPE_CHECKING:
    from conftest import Kit, Person

PASSWORD = "Blue-Harbour-Lantern-42"


def link_phone(kit: Kit, person: Person, phone: str | None = None) -> str:
    phone = phone or kit.next_phone()
    kit.platform.accounts.request_link_code(person.actor, phone)
    kit.platform.accounts.link_phone(person.actor, phone, kit.code_for(phone))
    return phone


def everything(kit: Kit) -> Person:
    """A customer with all four login methods."""
    person = kit.customer_by_phone()
    person.email = kit.next_email()
    kit.platform.accounts.link_password(person.actor, person.email, PASSWORD)
    for prov in ("wechat", "alipay"):
        person.identities[prov] = kit.next_subject(prov)
        kit.platform.accounts.link_identity(person.actor, prov, kit.issue(prov, person.identities[prov]))
    assert kit.platform.accounts.me(person.actor).login_methods == ("alipay", "password", "phone", "wechat")
    return person


# -- linking ------------------------------------------------------------------------------------------


def test_link_phone_then_log_in_with_it(kit: Kit) -> None:
    person = kit.customer_by_password()
    request = kit.platform.accounts.request_link_code(person.actor, "13800138000")
    assert request.resend_after_seconds == 60
    view = kit.platform.accounts.link_phone(person.actor, "13800138000", kit.code_for("13800138000"))
    assert view.phone == "138****8000"
    assert view.login_methods == ("password", "phone")
    kit.clock.advance(kit.platform.deps.policies.codes.resend_interval)  # link and login codes share the limit
    result = kit.login_by_phone("13800138000")
    assert result.account_id == person.account_id
    assert result.new_account is False


def test_link_phone_with_a_wrong_code_links_nothing(kit: Kit) -> None:
    person = kit.customer_by_password()
    phone = kit.next_phone()
    kit.platform.accounts.request_link_code(person.actor, phone)
    with pytest.raises(AuthenticationFailed) as err:
        kit.platform.accounts.link_phone(person.actor, phone, kit.wrong_code(phone))
    assert err.value.code == "auth.invalid_credentials"
    assert kit.tables.accounts[person.account_id].phone is None


def test_a_link_code_is_single_use(kit: Kit) -> None:
    person = kit.customer_by_password()
    phone = kit.next_phone()
    kit.platform.accounts.request_link_code(person.actor, phone)
    code = kit.code_for(phone)
    kit.platform.accounts.link_phone(person.actor, phone, code)
    other = kit.customer_by_password()
    with pytest.raises(AuthenticationFailed):
        kit.platform.accounts.link_phone(other.actor, phone, code)


def test_link_phone_replaces_the_old_number(kit: Kit) -> None:
    person = kit.customer_by_phone()
    new_phone = link_phone(kit, person)
    kit.clock.advance(kit.platform.deps.policies.codes.resend_interval)
    assert kit.login_by_phone(new_phone).account_id == person.account_id
    assert person.phone is not None
    kit.clock.advance(kit.platform.deps.policies.codes.resend_interval)
    assert kit.login_by_phone(person.phone).new_account is True


def test_link_password_then_log_in_with_it(kit: Kit) -> None:
    person = kit.customer_by_phone()
    view = kit.platform.accounts.link_password(person.actor, "Li.Si@Example.com", PASSWORD)
    assert view.email == "l***@example.com"
    assert view.login_methods == ("password", "phone")
    result = kit.platform.accounts.login_with_password("li.si@example.com", PASSWORD)
    assert result.account_id == person.account_id
    assert result.new_account is False


def test_link_password_twice_is_a_conflict(kit: Kit) -> None:
    person = kit.customer_by_password()
    with pytest.raises(Conflict) as err:
        kit.platform.accounts.link_password(person.actor, kit.next_email(), "Another-Good-Passphrase-9")
    assert err.value.code == "account.password_linked"


@pytest.mark.parametrize("prov", ["wechat", "alipay"])
def test_link_identity_then_log_in_with_it(kit: Kit, prov: str) -> None:
    person = kit.customer_by_phone()
    view = kit.platform.accounts.link_identity(person.actor, prov, kit.issue(prov, "linked-subject-1"))
    assert view.login_methods == tuple(sorted(("phone", prov)))
    result = kit.login_by_identity(prov, "linked-subject-1")
    assert result.account_id == person.account_id
    assert result.new_account is False
    assert len(kit.tables.accounts) == 1


def test_link_identity_with_a_bad_code_fails(kit: Kit) -> None:
    person = kit.customer_by_phone()
    with pytest.raises(AuthenticationFailed) as err:
        kit.platform.accounts.link_identity(person.actor, "wechat", kit.issue("alipay", "x-subject-1"))
    assert err.value.code == "identity.invalid_code"
    assert kit.tables.accounts[person.account_id].identities == ()


@pytest.mark.parametrize("prov", ["wechat", "alipay"])
def test_a_second_identity_of_the_same_provider_is_refused(kit: Kit, prov: str) -> None:
    person = kit.customer_by_identity(prov)
    with pytest.raises(Conflict) as err:
        kit.platform.accounts.link_identity(person.actor, prov, kit.issue(prov, "second-subject"))
    assert err.value.code == "account.identity_linked"
    assert len(kit.tables.accounts[person.account_id].identities) == 1


# -- identifiers of another account --------------------------------------------------------------------


def test_linking_a_phone_of_another_account_is_a_conflict(kit: Kit) -> None:
    owner = kit.customer_by_phone()
    assert owner.phone is not None
    kit.clock.advance(kit.platform.deps.policies.codes.resend_interval)
    person = kit.customer_by_password()
    kit.platform.accounts.request_link_code(person.actor, owner.phone)
    with pytest.raises(Conflict) as err:
        kit.platform.accounts.link_phone(person.actor, owner.phone, kit.code_for(owner.phone))
    assert err.value.code == "account.duplicate"
    assert kit.tables.accounts[person.account_id].phone is None


def test_linking_an_email_of_another_account_is_a_conflict(kit: Kit) -> None:
    owner = kit.customer_by_password()
    person = kit.customer_by_phone()
    with pytest.raises(Conflict) as err:
        kit.platform.accounts.link_password(person.actor, (owner.email or "").upper(), PASSWORD)
    assert err.value.code == "account.duplicate"
    assert kit.tables.accounts[person.account_id].email is None


@pytest.mark.parametrize("prov", ["wechat", "alipay"])
def test_linking_an_identity_of_another_account_is_a_conflict(kit: Kit, prov: str) -> None:
    owner = kit.customer_by_identity(prov, "owned-subject")
    person = kit.customer_by_phone()
    with pytest.raises(Conflict) as err:
        kit.platform.accounts.link_identity(person.actor, prov, kit.issue(prov, "owned-subject"))
    assert err.value.code == "account.duplicate"
    assert kit.login_by_identity(prov, "owned-subject").account_id == owner.account_id


# -- unlinking -------------------------------------------------------------------------------------------


def test_unlink_phone(kit: Kit) -> None:
    person = everything(kit)
    assert person.phone is not None
    view = kit.platform.accounts.unlink(person.actor, "phone")
    assert view.phone is None and "phone" not in view.login_methods
    kit.clock.advance(kit.platform.deps.policies.codes.resend_interval)
    again = kit.login_by_phone(person.phone)
    assert again.new_account is True and again.account_id != person.account_id


def test_unlink_password(kit: Kit) -> None:
    person = everything(kit)
    view = kit.platform.accounts.unlink(person.actor, "password")
    assert view.email is None and "password" not in view.login_methods
    with pytest.raises(AuthenticationFailed):
        kit.platform.accounts.login_with_password(person.email or "", PASSWORD)
    # the email is free again
    assert kit.platform.accounts.register_with_password(person.email or "", PASSWORD).new_account


@pytest.mark.parametrize("prov", ["wechat", "alipay"])
def test_unlink_identity(kit: Kit, prov: str) -> None:
    person = everything(kit)
    view = kit.platform.accounts.unlink(person.actor, prov)
    assert prov not in view.login_methods
    again = kit.login_by_identity(prov, person.identities[prov])
    assert again.new_account is True and again.account_id != person.account_id


@pytest.mark.parametrize("method", ["phone", "password", "wechat", "alipay"])
def test_the_last_login_method_cannot_be_removed(kit: Kit, method: str) -> None:
    person = kit.customer(method)
    with pytest.raises(Conflict) as err:
        kit.platform.accounts.unlink(person.actor, method)
    assert err.value.code == "account.last_login_method"
    assert kit.platform.accounts.me(person.actor).login_methods == (method,)


def test_unlinking_down_to_one_then_refusing(kit: Kit) -> None:
    person = everything(kit)
    for method in ("phone", "password", "wechat"):
        kit.platform.accounts.unlink(person.actor, method)
    with pytest.raises(Conflict) as err:
        kit.platform.accounts.unlink(person.actor, "alipay")
    assert err.value.code == "account.last_login_method"
    assert kit.login_by_identity("alipay", person.identities["alipay"]).account_id == person.account_id


def test_unlinking_a_method_that_is_not_linked(kit: Kit) -> None:
    person = kit.customer_by_phone()
    with pytest.raises(ValidationError) as err:
        kit.platform.accounts.unlink(person.actor, "wechat")
    assert err.value.code == "account.method_not_linked"
