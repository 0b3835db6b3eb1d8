"""The offline WeChat/Alipay stand-in and the sandbox SMS sender."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pendulum
import pytest

from massage_core.adapters.memory.identity import SandboxIdentityProvider
from massage_core.adapters.memory.sms import SandboxCodeSender
from massage_core.domain.accounts import ExternalIdentity, Provider
from massage_core.domain.contact import PhoneNumber
from massage_core.domain.errors import AuthenticationFailed, MassageError
from massage_core.domain.time import Instant
from massage_core.ports.clock import Clock

SECRET = b"s" * 32


class FixedClock(Clock):
    """A clock that only moves when told to."""

    def __init__(self, at: Instant) -> None:
        self.at = at

    def now(self) -> Instant:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at = self.at + delta


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(pendulum.datetime(2025, 3, 1, 9, 0, 0, tz="UTC"))


@pytest.fixture
def idp(clock: FixedClock) -> SandboxIdentityProvider:
    return SandboxIdentityProvider(clock, secret=SECRET)


def _rejected(idp: SandboxIdentityProvider, provider: object, code: object) -> None:
    with pytest.raises(AuthenticationFailed) as info:
        idp.verify(provider, code)  # type: ignore[arg-type]
    assert info.value.code == "identity.invalid_code"
    assert "signature" not in info.value.message and "expired" in info.value.message


def test_issue_and_verify(idp: SandboxIdentityProvider) -> None:
    code = idp.issue(Provider.WECHAT, "oWx_openid_123")
    assert idp.verify(Provider.WECHAT, code) == ExternalIdentity(Provider.WECHAT, "oWx_openid_123")
    alipay = idp.issue(Provider.ALIPAY, "2088000000000001")
    assert idp.verify(Provider.ALIPAY, alipay).subject == "2088000000000001"


def test_forged_signature(idp: SandboxIdentityProvider, clock: FixedClock) -> None:
    code = idp.issue(Provider.WECHAT, "victim")
    body, signature = code.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["subject"] = "attacker"
    forged_body = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    _rejected(idp, Provider.WECHAT, f"{forged_body}.{signature}")
    other = SandboxIdentityProvider(clock, secret=b"o" * 32)
    _rejected(idp, Provider.WECHAT, other.issue(Provider.WECHAT, "victim"))
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    _rejected(idp, Provider.WECHAT, f"{body}.{flipped}")
    assert idp.verify(Provider.WECHAT, code).subject == "victim"


def test_wrong_provider(idp: SandboxIdentityProvider) -> None:
    code = idp.issue(Provider.WECHAT, "someone")
    _rejected(idp, Provider.ALIPAY, code)
    _rejected(idp, "facebook", code)


def test_expired(idp: SandboxIdentityProvider, clock: FixedClock) -> None:
    used_in_time = idp.issue(Provider.ALIPAY, "someone")
    too_late = idp.issue(Provider.ALIPAY, "someone")
    clock.advance(timedelta(minutes=4, seconds=59))
    assert idp.verify(Provider.ALIPAY, used_in_time).subject == "someone"
    clock.advance(timedelta(seconds=1))
    _rejected(idp, Provider.ALIPAY, too_late)
    clock.advance(timedelta(hours=1))
    _rejected(idp, Provider.ALIPAY, too_late)


def test_custom_lifetime(clock: FixedClock) -> None:
    idp = SandboxIdentityProvider(clock, secret=SECRET, code_lifetime=timedelta(seconds=30))
    code = idp.issue(Provider.WECHAT, "someone")
    clock.advance(timedelta(seconds=30))
    _rejected(idp, Provider.WECHAT, code)


def test_reuse_refused(idp: SandboxIdentityProvider) -> None:
    code = idp.issue(Provider.WECHAT, "someone")
    idp.verify(Provider.WECHAT, code)
    _rejected(idp, Provider.WECHAT, code)


def test_default_secret_is_random(clock: FixedClock) -> None:
    code = SandboxIdentityProvider(clock).issue(Provider.WECHAT, "someone")
    _rejected(SandboxIdentityProvider(clock), Provider.WECHAT, code)


@pytest.mark.parametrize(
    "garbage",
    [None, 42, b"bytes", "", ".", "abc", "abc.def", "a" * 2049, "é.é", "x" * 3000 + "." + "y", "..", "a.b.c"],
)
def test_garbage_input(idp: SandboxIdentityProvider, garbage: object) -> None:
    _rejected(idp, Provider.WECHAT, garbage)


def test_sms_sender_records_and_fails() -> None:
    phone = PhoneNumber.parse("13800138000")
    broken = PhoneNumber.parse("13900139000")
    sender = SandboxCodeSender(fail_for={broken.e164})
    assert sender.last_code_for(phone) is None
    sender.send(phone, "123456", "login")
    sender.send(phone, "654321", "login")
    assert sender.last_code_for(phone) == "654321"
    assert [m.code for m in sender.messages_for(phone)] == ["123456", "654321"]
    with pytest.raises(MassageError) as info:
        sender.send(broken, "111111", "login")
    assert info.value.code == "sms.failed"
    assert len(sender.sent) == 2 and sender.sent[0].purpose == "login"
