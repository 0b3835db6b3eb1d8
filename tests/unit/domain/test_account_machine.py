"""Stateful property test: whatever is linked and unlinked, an account keeps a way to log in."""

from __future__ import annotations

import pendulum
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from massage_core.domain.accounts import Account, ExternalIdentity, LoginMethod, Provider
from massage_core.domain.contact import Email, PhoneNumber
from massage_core.domain.errors import Conflict, ValidationError
from massage_core.domain.ids import AccountId

NOW = pendulum.datetime(2026, 5, 1, tz="UTC")


class AccountLoginMethods(RuleBasedStateMachine):
    """Model: the set of linked methods; the account must agree with it after every step."""

    def __init__(self) -> None:
        super().__init__()
        self.account = Account.register(AccountId("acc_" + "0" * 25 + "1"), NOW, LoginMethod.PHONE,
                                        phone=PhoneNumber.parse("13800138000"))
        self.model = {LoginMethod.PHONE}

    @rule()
    def link_phone(self) -> None:
        self.account = self.account.link_phone(PhoneNumber.parse("13900139000"), NOW)
        self.model.add(LoginMethod.PHONE)

    @rule()
    def link_password(self) -> None:
        self.account = self.account.link_password(Email.parse("a@example.com"), "hash", NOW)
        self.model.add(LoginMethod.PASSWORD)

    @rule(provider=st.sampled_from(list(Provider)))
    def link_identity(self, provider: Provider) -> None:
        method = LoginMethod(provider.value)
        if method in self.model:
            with pytest.raises(Conflict):
                self.account.link_identity(ExternalIdentity(provider, "subject-2"), NOW)
            return
        self.account = self.account.link_identity(ExternalIdentity(provider, "subject-1"), NOW)
        self.model.add(method)

    @rule(method=st.sampled_from(list(LoginMethod)))
    def unlink(self, method: LoginMethod) -> None:
        if method not in self.model:
            with pytest.raises(ValidationError):
                self.account.unlink(method, NOW)
        elif self.model == {method}:
            with pytest.raises(Conflict) as err:
                self.account.unlink(method, NOW)
            assert err.value.code == "account.last_login_method"
        else:
            self.account = self.account.unlink(method, NOW)
            self.model.discard(method)

    @invariant()
    def agrees_with_the_model_and_never_empty(self) -> None:
        assert self.account.login_methods() == self.model
        assert self.model


TestAccountLoginMethods = AccountLoginMethods.TestCase
