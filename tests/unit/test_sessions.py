"""Session tokens: entropy, storage, authentication, expiry and revocation."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from massage_core.domain.access import AdminRole, Role
from massage_core.domain.authentication import SessionPolicy
from massage_core.domain.errors import AuthenticationFailed, ValidationError
from massage_core.services.base import Policies

if TYPE_CHECKING:
    from conftest import Kit, MakeKit

PASSWORD = "Blue-Harbour-Lantern-42"
NEW_PASSWORD = "Quiet-Meadow-Compass-77"


def test_token_has_at_least_128_bits(kit: Kit) -> None:
    tokens = {kit.customer(method).token for method in ("phone", "password", "wechat", "alipay")}
    assert len(tokens) == 4
    for token in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
        assert len(token) * 6 >= 128  # 43 urlsafe characters: 258 bits


def test_token_is_stored_only_as_its_sha256(kit: Kit) -> None:
    result = kit.platform.accounts.register_with_password(kit.next_email(), PASSWORD, ip="1.2.3.4", device="d")
    [session] = kit.tables.sessions.values()
    assert session.id == result.session_id
    assert session.token_hash == hashlib.sha256(result.token.encode()).hexdigest()
    assert session.expires_at == result.expires_at == kit.clock.now() + timedelta(days=30)
    assert (session.ip, session.device) == ("1.2.3.4", "d")
    everything = repr(kit.tables)
    assert result.token not in everything
    assert session.token_hash in everything


def test_authenticate_returns_the_actor_with_roles(kit: Kit) -> None:
    customer = kit.customer_by_phone()
    actor = kit.platform.accounts.authenticate(customer.token)
    assert actor.account_id == customer.account_id
    assert actor.roles == frozenset({Role.CUSTOMER})
    assert actor.admin_roles == frozenset()
    root = kit.superadmin()
    admin_actor = kit.platform.accounts.authenticate(root.token)
    assert admin_actor.roles == frozenset({Role.ADMIN})
    assert admin_actor.admin_roles == frozenset({AdminRole.SUPERADMIN})


def test_authenticate_sees_changed_roles(kit: Kit) -> None:
    person = kit.customer_by_phone()
    kit.with_roles(person, ["customer", "therapist"])
    assert kit.platform.accounts.authenticate(person.token).roles == frozenset({Role.CUSTOMER, Role.THERAPIST})


def test_session_expires_after_its_ttl(kit: Kit) -> None:
    person = kit.customer_by_phone()
    ttl = kit.platform.deps.policies.sessions.ttl
    kit.clock.advance(ttl - timedelta(seconds=1))
    kit.platform.accounts.authenticate(person.token)
    kit.clock.advance(timedelta(seconds=1))
    with pytest.raises(AuthenticationFailed) as err:
        kit.platform.accounts.authenticate(person.token)
    assert err.value.code == "auth.session_invalid"


def test_a_configured_ttl_is_honoured(make_kit: MakeKit) -> None:
    kit = make_kit(policies=Policies(sessions=SessionPolicy(ttl=timedelta(hours=2))))
    person = kit.customer_by_phone()
    kit.clock.advance(timedelta(hours=2))
    with pytest.raises(AuthenticationFailed):
        kit.platform.accounts.authenticate(person.token)


def test_logout_revokes_only_that_session(kit: Kit) -> None:
    person = kit.customer_by_password()
    other = kit.platform.accounts.login_with_password(person.email or "", PASSWORD)
    kit.platform.accounts.logout(person.token)
    with pytest.raises(AuthenticationFailed) as err:
        kit.platform.accounts.authenticate(person.token)
    assert err.value.code == "auth.session_invalid"
    assert kit.platform.accounts.authenticate(other.token).account_id == person.account_id
    revoked = [s for s in kit.tables.sessions.values() if s.revoked_at is not None]
    assert len(revoked) == 1 and revoked[0].revoked_at == kit.clock.now()
    with pytest.raises(AuthenticationFailed):
        kit.platform.accounts.logout(person.token)


def test_logout_everywhere(kit: Kit) -> None:
    person = kit.customer_by_password()
    second = kit.platform.accounts.login_with_password(person.email or "", PASSWORD)
    bystander = kit.customer_by_phone()
    assert kit.platform.accounts.logout_everywhere(person.actor) == 2
    for token in (person.token, second.token):
        with pytest.raises(AuthenticationFailed):
            kit.platform.accounts.authenticate(token)
    assert kit.platform.accounts.authenticate(bystander.token).account_id == bystander.account_id
    assert kit.platform.accounts.logout_everywhere(person.actor) == 0


def test_change_password_revokes_sessions(kit: Kit) -> None:
    person = kit.customer_by_password()
    second = kit.platform.accounts.login_with_password(person.email or "", PASSWORD)
    kit.platform.accounts.change_password(person.actor, PASSWORD, NEW_PASSWORD)
    for token in (person.token, second.token):
        with pytest.raises(AuthenticationFailed):
            kit.platform.accounts.authenticate(token)
    with pytest.raises(AuthenticationFailed):
        kit.platform.accounts.login_with_password(person.email or "", PASSWORD)
    assert kit.platform.accounts.login_with_password(person.email or "", NEW_PASSWORD).account_id == \
        person.account_id


def test_change_password_with_a_wrong_current_password_changes_nothing(kit: Kit) -> None:
    person = kit.customer_by_password()
    before = kit.tables.accounts[person.account_id]
    with pytest.raises(AuthenticationFailed) as err:
        kit.platform.accounts.change_password(person.actor, "Wrong-Current-Pass-1", NEW_PASSWORD)
    assert err.value.code == "auth.invalid_credentials"
    assert kit.tables.accounts[person.account_id] == before
    kit.platform.accounts.authenticate(person.token)


def test_change_password_needs_a_password_login(kit: Kit) -> None:
    person = kit.customer_by_phone()
    with pytest.raises(ValidationError) as err:
        kit.platform.accounts.change_password(person.actor, PASSWORD, NEW_PASSWORD)
    assert err.value.code == "account.no_password"


def test_change_password_refuses_a_weak_new_password(kit: Kit) -> None:
    person = kit.customer_by_password()
    with pytest.raises(ValidationError) as err:
        kit.platform.accounts.change_password(person.actor, PASSWORD, "12345678")
    assert err.value.code == "password.common"
    kit.platform.accounts.authenticate(person.token)


@pytest.mark.parametrize("token", ["", "abc", "A" * 42, "A" * 44, "A" * 42 + "!", "A" * 42 + "=",
                                   "A" * 43 + "\n", " " + "A" * 42, "Ä" * 43, 42, None, b"A" * 43])
def test_malformed_tokens_are_validation_errors(kit: Kit, token: Any) -> None:
    for call in (kit.platform.accounts.authenticate, kit.platform.accounts.logout):
        with pytest.raises(ValidationError) as err:
            call(token)
        assert err.value.code == "token.malformed"


def test_unknown_token_is_an_invalid_session(kit: Kit) -> None:
    kit.customer_by_phone()
    for call in (kit.platform.accounts.authenticate, kit.platform.accounts.logout):
        with pytest.raises(AuthenticationFailed) as err:
            call("A" * 43)
        assert err.value.code == "auth.session_invalid"


def test_my_login_records(kit: Kit) -> None:
    person = kit.customer_by_password()
    kit.clock.advance(timedelta(minutes=1))
    with pytest.raises(AuthenticationFailed):
        kit.platform.accounts.login_with_password(person.email or "", "Wrong-Pass-000", ip="10.0.0.1", device="bot")
    kit.clock.advance(timedelta(minutes=1))
    kit.platform.accounts.login_with_password(person.email or "", PASSWORD, ip="10.0.0.2", device="phone")
    records = kit.platform.accounts.my_login_records(person.actor)
    assert [(r.outcome, r.ip, r.device, r.method) for r in records] == [
        ("success", "10.0.0.2", "phone", "password"),
        ("failed", "10.0.0.1", "bot", "password"),
        ("success", "", "", "password"),
    ]
    assert records[0].at == kit.clock.now()
    assert len(kit.platform.accounts.my_login_records(person.actor, limit=1)) == 1


def test_a_live_session_of_a_suspended_account_does_not_authenticate(kit: Kit) -> None:
    """Defence in depth: even a session that escaped revocation dies with the account's status."""
    import attrs

    from massage_core.domain.accounts import AccountStatus

    person = kit.customer_by_phone()
    tables = kit.tables
    tables.accounts[person.account_id] = attrs.evolve(tables.accounts[person.account_id],
                                                      status=AccountStatus.SUSPENDED)
    with pytest.raises(AuthenticationFailed) as err:
        kit.platform.accounts.authenticate(person.token)
    assert err.value.code == "auth.session_invalid"
