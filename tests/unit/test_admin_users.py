"""Back-office user management: search, list, show, login records, suspension, roles, superadmins."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from massage_core.domain.access import Actor, AdminRole, Role
from massage_core.domain.accounts import LoginMethod
from massage_core.domain.audit import AuditOutcome
from massage_core.domain.authentication import LoginOutcome
from massage_core.domain.errors import AuthenticationFailed, Conflict, NotFound, PermissionDenied, ValidationError

if TYPE_CHECKING:
    from conftest import Kit, Person

PASSWORD = "Blue-Harbour-Lantern-42"
MISSING = "acc_0000000000000000000000ZZZZ"


def everything(kit: Kit) -> Person:
    """A customer with all four login methods."""
    person = kit.customer_by_phone()
    person.email = kit.next_email()
    person.password = PASSWORD
    kit.platform.accounts.link_password(person.actor, person.email, PASSWORD)
    for prov in ("wechat", "alipay"):
        person.identities[prov] = kit.next_subject(prov)
        kit.platform.accounts.link_identity(person.actor, prov, kit.issue(prov, person.identities[prov]))
    return person


# -- search, list, show -------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["13800138000", "+86 138 0013 8000", "+8613800138000", "138-0013-8000"])
def test_search_by_phone_finds_by_exact_match_and_masks(kit: Kit, typed: str) -> None:
    person = kit.customer_by_phone("13800138000")
    kit.customer_by_phone("13800138001")
    support = kit.support()
    [found] = kit.platform.users.search(support.actor, phone=typed)
    assert found.id == person.account_id
    assert found.phone == "138****8000"
    assert "13800138000" not in repr(found)


def test_search_by_email_finds_by_exact_match_and_masks(kit: Kit) -> None:
    person = kit.customer_by_password("zhang.san@example.com")
    kit.customer_by_password("zhang.san2@example.com")
    support = kit.support()
    [found] = kit.platform.users.search(support.actor, email="Zhang.San@EXAMPLE.com")
    assert found.id == person.account_id
    assert found.email == "z***@example.com"
    assert "zhang.san" not in repr(found)


def test_search_is_exact_not_prefix(kit: Kit) -> None:
    kit.customer_by_password("zhang.san@example.com")
    kit.customer_by_phone("13800138000")
    support = kit.support()
    assert kit.platform.users.search(support.actor, email="zhang@example.com") == []
    assert kit.platform.users.search(support.actor, phone="13800138001") == []


def test_search_is_audited(kit: Kit) -> None:
    person = kit.customer_by_phone("13800138000")
    support = kit.support()
    kit.platform.users.search(support.actor, phone="13800138000")
    kit.platform.users.search(support.actor, email="nobody@example.com")
    hit, miss = kit.audit_entries()[-2:]
    assert (hit.actor, hit.action, hit.target, hit.outcome) == (support.account_id, "users.search",
                                                                person.account_id, AuditOutcome.OK)
    assert dict(hit.details) == {"by": "phone"}
    assert (miss.target, dict(miss.details)) == ("-", {"by": "email"})
    assert "13800138000" not in repr(kit.audit_entries())


@pytest.mark.parametrize("criteria", [{}, {"phone": "13800138000", "email": "a@example.com"}])
def test_search_needs_exactly_one_criterion(kit: Kit, criteria: dict[str, str]) -> None:
    with pytest.raises(ValidationError) as err:
        kit.platform.users.search(kit.support().actor, **criteria)
    assert err.value.code == "search.criteria"


def test_list_pages_oldest_first_and_filters_by_status(kit: Kit) -> None:
    root = kit.superadmin()
    created = [root.account_id]
    for _ in range(6):
        kit.clock.advance(timedelta(seconds=1))
        created.append(kit.customer_by_phone().account_id)
    users = kit.platform.users
    assert [v.id for v in users.list(root.actor)] == created
    assert [v.id for v in users.list(root.actor, limit=3)] == created[:3]
    assert [v.id for v in users.list(root.actor, offset=3, limit=3)] == created[3:6]
    assert [v.id for v in users.list(root.actor, offset=6, limit=3)] == created[6:]
    assert users.list(root.actor, offset=7) == []
    users.suspend(root.actor, created[2], "spam")
    assert [v.id for v in users.list(root.actor, status="suspended")] == [created[2]]
    assert created[2] not in [v.id for v in users.list(root.actor, status="active")]
    assert all(v.phone is None or "****" in v.phone for v in users.list(root.actor))


def test_show_is_masked(kit: Kit) -> None:
    person = everything(kit)
    kit.platform.accounts.update_profile(person.actor, person.account_id, real_name="张三丰",
                                         id_number="110101199003078515",
                                         address="北京市东城区某某街道1号")
    view = kit.platform.users.show(kit.support().actor, person.account_id)
    assert view.id == person.account_id
    assert view.phone is not None and "****" in view.phone
    assert view.email is not None and view.email.endswith("***@example.com")
    assert view.real_name == "张**"
    assert view.id_number == "1101**********8515"
    assert view.address == "北京市东城区****"
    assert view.login_methods == ("alipay", "password", "phone", "wechat")
    assert all("***" in subject for _, subject in view.identities)


def test_show_unknown_account_is_not_found(kit: Kit) -> None:
    with pytest.raises(NotFound):
        kit.platform.users.show(kit.support().actor, MISSING)


# -- login records ----------------------------------------------------------------------------------


def test_login_records_have_time_method_ip_device_outcome_for_every_attempt(kit: Kit) -> None:
    person = everything(kit)
    accounts = kit.platform.accounts
    t0 = kit.clock.advance(timedelta(minutes=1))
    with pytest.raises(AuthenticationFailed):
        accounts.login_with_password(person.email or "", "Wrong-Pass-000", ip="10.0.0.1", device="bot")
    t1 = kit.clock.advance(timedelta(minutes=1))
    accounts.login_with_password(person.email or "", PASSWORD, ip="10.0.0.2", device="Safari")
    t2 = kit.clock.advance(timedelta(minutes=1))
    kit.login_by_phone(person.phone or "", ip="10.0.0.3", device="Android")
    t3 = kit.clock.advance(timedelta(minutes=1))
    kit.login_by_identity("wechat", person.identities["wechat"], ip="10.0.0.4", device="WeChat")
    t4 = kit.clock.advance(timedelta(minutes=1))
    kit.platform.users.suspend(kit.support().actor, person.account_id, "fraud")
    with pytest.raises(AuthenticationFailed):
        kit.login_by_identity("alipay", person.identities["alipay"], ip="10.0.0.5", device="Alipay")
    records = kit.platform.users.login_records(kit.auditor().actor, person.account_id, limit=5)
    assert [(r.at, r.method, r.ip, r.device, r.outcome) for r in records] == [
        (t4, "alipay", "10.0.0.5", "Alipay", "suspended"),
        (t3, "wechat", "10.0.0.4", "WeChat", "success"),
        (t2, "phone", "10.0.0.3", "Android", "success"),
        (t1, "password", "10.0.0.2", "Safari", "success"),
        (t0, "password", "10.0.0.1", "bot", "failed"),
    ]


def test_login_records_are_audited(kit: Kit) -> None:
    person = kit.customer_by_phone()
    support = kit.support()
    kit.platform.users.login_records(support.actor, person.account_id)
    last = kit.audit_entries()[-1]
    assert (last.actor, last.action, last.target, last.outcome) == (support.account_id, "users.login_records",
                                                                    person.account_id, AuditOutcome.OK)


def test_login_records_of_an_unknown_account(kit: Kit) -> None:
    with pytest.raises(NotFound):
        kit.platform.users.login_records(kit.support().actor, MISSING)


# -- suspension -------------------------------------------------------------------------------------------


def test_suspend_kills_live_sessions(kit: Kit) -> None:
    person = kit.customer_by_password()
    second = kit.platform.accounts.login_with_password(person.email or "", PASSWORD)
    support = kit.support()
    view = kit.platform.users.suspend(support.actor, person.account_id, "  chargeback fraud  ")
    assert (view.status, view.suspended_reason) == ("suspended", "chargeback fraud")
    for token in (person.token, second.token):
        with pytest.raises(AuthenticationFailed) as err:
            kit.platform.accounts.authenticate(token)
        assert err.value.code == "auth.session_invalid"
    assert all(s.revoked_at == kit.clock.now() for s in kit.tables.sessions.values()
               if s.account_id == person.account_id)


@pytest.mark.parametrize("method", ["phone", "password", "wechat", "alipay"])
def test_a_suspended_account_cannot_log_in(kit: Kit, method: str) -> None:
    person = everything(kit)
    kit.platform.users.suspend(kit.support().actor, person.account_id, "abuse")
    kit.clock.advance(timedelta(minutes=1))
    with pytest.raises(AuthenticationFailed) as err:
        if method == "phone":
            kit.login_by_phone(person.phone or "")
        elif method == "password":
            kit.platform.accounts.login_with_password(person.email or "", PASSWORD)
        else:
            kit.login_by_identity(method, person.identities[method])
    assert err.value.code == "auth.suspended"
    last = kit.login_records()[-1]
    assert (last.outcome, last.method, last.account_id) == (LoginOutcome.SUSPENDED, LoginMethod(method),
                                                            person.account_id)
    assert not any(s.is_live(kit.clock.now()) for s in kit.tables.sessions.values()
                   if s.account_id == person.account_id)


def test_suspended_password_account_still_needs_the_right_password(kit: Kit) -> None:
    person = kit.customer_by_password()
    kit.platform.users.suspend(kit.support().actor, person.account_id, "abuse")
    with pytest.raises(AuthenticationFailed) as err:
        kit.platform.accounts.login_with_password(person.email or "", "Wrong-Pass-000")
    assert err.value.code == "auth.invalid_credentials"  # does not reveal the suspension


def test_reactivate_restores_login(kit: Kit) -> None:
    person = everything(kit)
    support = kit.support()
    kit.platform.users.suspend(support.actor, person.account_id, "abuse")
    view = kit.platform.users.reactivate(support.actor, person.account_id)
    assert (view.status, view.suspended_reason) == ("active", "")
    with pytest.raises(AuthenticationFailed):  # old sessions stay dead
        kit.platform.accounts.authenticate(person.token)
    result = kit.platform.accounts.login_with_password(person.email or "", PASSWORD)
    assert kit.platform.accounts.authenticate(result.token).account_id == person.account_id
    kit.clock.advance(timedelta(minutes=1))
    assert kit.login_by_phone(person.phone or "").account_id == person.account_id
    assert kit.login_by_identity("wechat", person.identities["wechat"]).account_id == person.account_id


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_suspend_needs_a_reason(kit: Kit, reason: str) -> None:
    person = kit.customer_by_phone()
    with pytest.raises(ValidationError) as err:
        kit.platform.users.suspend(kit.support().actor, person.account_id, reason)
    assert err.value.code == "account.reason"
    assert kit.tables.accounts[person.account_id].is_active
    kit.platform.accounts.authenticate(person.token)


def test_cannot_suspend_yourself(kit: Kit) -> None:
    for admin in (kit.support(), kit.superadmin()):
        with pytest.raises(Conflict) as err:
            kit.platform.users.suspend(admin.actor, admin.account_id, "oops")
        assert err.value.code == "account.self"
        assert kit.tables.accounts[admin.account_id].is_active


def test_suspend_twice_and_reactivate_an_active_account_are_conflicts(kit: Kit) -> None:
    person = kit.customer_by_phone()
    support = kit.support()
    with pytest.raises(Conflict) as err:
        kit.platform.users.reactivate(support.actor, person.account_id)
    assert err.value.code == "account.not_suspended"
    kit.platform.users.suspend(support.actor, person.account_id, "abuse")
    with pytest.raises(Conflict) as err:
        kit.platform.users.suspend(support.actor, person.account_id, "again")
    assert err.value.code == "account.already_suspended"


def test_only_a_superadmin_suspends_a_superadmin(kit: Kit) -> None:
    root = kit.superadmin()
    second = kit.another_superadmin()
    support = kit.support()
    with pytest.raises(Conflict) as err:
        kit.platform.users.suspend(support.actor, root.account_id, "coup")
    assert err.value.code == "account.protected"
    assert kit.tables.accounts[root.account_id].is_active
    kit.platform.accounts.authenticate(root.token)
    denied = kit.audit_entries()[-1]
    assert (denied.actor, denied.action, denied.target, denied.outcome) == (
        support.account_id, "users.suspend", root.account_id, AuditOutcome.DENIED)
    assert dict(denied.details) == {"error": "account.protected"}
    view = kit.platform.users.suspend(second.actor, root.account_id, "left the company")
    assert view.status == "suspended"


def test_only_a_superadmin_reactivates_a_superadmin(kit: Kit) -> None:
    root = kit.superadmin()
    second = kit.another_superadmin()
    support = kit.support()
    kit.platform.users.suspend(root.actor, second.account_id, "left the company")
    with pytest.raises(Conflict) as err:
        kit.platform.users.reactivate(support.actor, second.account_id)
    assert err.value.code == "account.protected"
    assert not kit.tables.accounts[second.account_id].is_active
    assert kit.audit_entries()[-1].outcome is AuditOutcome.DENIED
    assert kit.platform.users.reactivate(root.actor, second.account_id).status == "active"


def test_support_may_suspend_other_admins(kit: Kit) -> None:
    support, finance = kit.support(), kit.finance()
    assert kit.platform.users.suspend(support.actor, finance.account_id, "left").status == "suspended"


def test_suspend_and_reactivate_are_audited(kit: Kit) -> None:
    person = kit.customer_by_password()
    kit.platform.accounts.login_with_password(person.email or "", PASSWORD)
    support = kit.support()
    kit.platform.users.suspend(support.actor, person.account_id, " abuse ")
    kit.platform.users.reactivate(support.actor, person.account_id)
    suspended, reactivated = kit.audit_entries()[-2:]
    assert (suspended.actor, suspended.action, suspended.target, suspended.outcome) == (
        support.account_id, "users.suspend", person.account_id, AuditOutcome.OK)
    assert dict(suspended.details) == {"reason": "abuse", "sessions_revoked": "2"}
    assert suspended.at == kit.clock.now()
    assert (reactivated.actor, reactivated.action, reactivated.target, reactivated.outcome) == (
        support.account_id, "users.reactivate", person.account_id, AuditOutcome.OK)


def test_suspend_unknown_account_is_not_found(kit: Kit) -> None:
    with pytest.raises(NotFound):
        kit.platform.users.suspend(kit.support().actor, MISSING, "abuse")


# -- roles --------------------------------------------------------------------------------------------------


def test_set_roles_changes_what_the_account_may_do(kit: Kit) -> None:
    root = kit.superadmin()
    person = kit.customer_by_phone()
    with pytest.raises(PermissionDenied):
        kit.platform.users.list(person.actor)
    view = kit.platform.users.set_roles(root.actor, person.account_id, ["admin"], ["support"])
    assert (view.roles, view.admin_roles) == (("admin",), ("support",))
    actor = kit.platform.accounts.authenticate(person.token)
    assert actor.roles == frozenset({Role.ADMIN}) and actor.admin_roles == frozenset({AdminRole.SUPPORT})
    assert kit.platform.users.list(actor)
    entry = kit.audit_entries()[-2]
    assert (entry.action, entry.target, entry.outcome) == ("users.set_roles", person.account_id, AuditOutcome.OK)
    listed = kit.audit_entries()[-1]
    assert (listed.action, listed.actor, dict(listed.details)["returned"]) == ("users.list", actor.account_id, "2")
    assert dict(entry.details) == {"roles": "admin", "admin_roles": "support"}


def test_set_roles_therapist_and_customer(kit: Kit) -> None:
    root = kit.superadmin()
    person = kit.customer_by_phone()
    view = kit.platform.users.set_roles(root.actor, person.account_id, ["therapist", "customer"])
    assert view.roles == ("customer", "therapist")


@pytest.mark.parametrize(("roles", "admin_roles"), [
    (["king"], []), ([], []), (["admin"], []), (["customer"], ["support"]), (["admin"], ["janitor"]),
])
def test_set_roles_refuses_bad_combinations(kit: Kit, roles: list[str], admin_roles: list[str]) -> None:
    root = kit.superadmin()
    person = kit.customer_by_phone()
    before = kit.snapshot()
    with pytest.raises(ValidationError) as err:
        kit.platform.users.set_roles(root.actor, person.account_id, roles, admin_roles)
    assert err.value.code == "account.roles"
    assert kit.snapshot() == before


def test_cannot_remove_the_last_superadmin(kit: Kit) -> None:
    root = kit.superadmin()
    with pytest.raises(Conflict) as err:
        kit.platform.users.set_roles(root.actor, root.account_id, ["admin"], ["support"])
    assert err.value.code == "account.last_superadmin"
    assert kit.tables.accounts[root.account_id].admin_roles == frozenset({AdminRole.SUPERADMIN})
    second = kit.another_superadmin()
    kit.platform.users.set_roles(root.actor, root.account_id, ["customer"])
    with pytest.raises(Conflict) as err:
        kit.platform.users.set_roles(second.actor, second.account_id, ["customer"])
    assert err.value.code == "account.last_superadmin"


def test_a_suspended_superadmin_does_not_count(kit: Kit) -> None:
    root = kit.superadmin()
    second = kit.another_superadmin()
    kit.platform.users.suspend(root.actor, second.account_id, "on leave")
    with pytest.raises(Conflict) as err:
        kit.platform.users.set_roles(root.actor, root.account_id, ["customer"])
    assert err.value.code == "account.last_superadmin"


# -- the first superadmin ------------------------------------------------------------------------------------


def test_create_superadmin_by_system_only_while_none_exists(kit: Kit) -> None:
    view = kit.platform.users.create_superadmin(Actor.system(), "Root@Example.com", PASSWORD, display_name="Root")
    assert (view.roles, view.admin_roles, view.login_methods) == (("admin",), ("superadmin",), ("password",))
    entry = kit.audit_entries()[-1]
    assert (entry.actor, entry.action, entry.target, entry.outcome) == (
        "system", "users.create_superadmin", view.id, AuditOutcome.OK)
    result = kit.platform.accounts.login_with_password("root@example.com", PASSWORD)
    assert result.actor.admin_roles == frozenset({AdminRole.SUPERADMIN})
    before = kit.snapshot()
    with pytest.raises(Conflict) as err:
        kit.platform.users.create_superadmin(Actor.system(), "root2@example.com", PASSWORD)
    assert err.value.code == "admin.exists"
    assert kit.snapshot() == before


def test_a_superadmin_may_create_another(kit: Kit) -> None:
    root = kit.superadmin()
    view = kit.platform.users.create_superadmin(root.actor, "deputy@example.com", PASSWORD)
    assert view.admin_roles == ("superadmin",)
    assert kit.audit_entries()[-1].actor == root.account_id


def test_create_superadmin_with_a_taken_email(kit: Kit) -> None:
    taken = kit.customer_by_password("taken@example.com")
    root = kit.superadmin()
    with pytest.raises(Conflict) as err:
        kit.platform.users.create_superadmin(root.actor, "taken@example.com", PASSWORD)
    assert err.value.code == "account.duplicate"
    assert kit.tables.accounts[taken.account_id].admin_roles == frozenset()


@pytest.mark.parametrize("kind", ["customer", "support", "finance", "auditor"])
def test_others_may_not_create_superadmins(kit: Kit, kind: str) -> None:
    person = kit.customer_by_phone() if kind == "customer" else kit.admin(kind)
    with pytest.raises(PermissionDenied):
        kit.platform.users.create_superadmin(person.actor, "evil@example.com", PASSWORD)
    assert kit.audit_entries()[-1].outcome is AuditOutcome.DENIED
