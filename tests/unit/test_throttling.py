"""Login throttling (passwords and SMS codes) and resistance to account enumeration."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from massage_core.adapters.crypto.passwords import Argon2idPasswordHasher
from massage_core.domain.accounts import LoginMethod
from massage_core.domain.authentication import LoginOutcome
from massage_core.domain.errors import AuthenticationFailed, MassageError, Throttled

if TYPE_CHECKING:
    from conftest import Kit, MakeKit

PASSWORD = "Blue-Harbour-Lantern-42"
WRONG = "Not-The-Password-1"
WINDOW = timedelta(minutes=15)


def fail_password(kit: Kit, email: str, times: int, every: timedelta = timedelta(minutes=1)) -> None:
    for _ in range(times):
        with pytest.raises(AuthenticationFailed) as err:
            kit.platform.accounts.login_with_password(email, WRONG, ip="203.0.113.9", device="curl")
        assert err.value.code == "auth.invalid_credentials"
        kit.clock.advance(every)


# -- email + password ------------------------------------------------------------------------------


def test_four_failures_do_not_lock(kit: Kit) -> None:
    person = kit.customer_by_password()
    fail_password(kit, person.email or "", 4)
    assert kit.platform.accounts.login_with_password(person.email or "", PASSWORD).account_id == person.account_id


def test_five_failures_lock_even_the_right_password(kit: Kit) -> None:
    person = kit.customer_by_password()
    email = person.email or ""
    fail_password(kit, email, 5)  # failures at t = 0..4 min, now t = 5 min
    with pytest.raises(Throttled) as err:
        kit.platform.accounts.login_with_password(email, PASSWORD)
    assert err.value.code == "auth.throttled"
    # the lock ends when the first failure leaves the 15-minute window: at t = 15 min
    assert err.value.retry_after_seconds == 10 * 60 + 1
    sessions_before = len(kit.tables.sessions)
    with pytest.raises(Throttled):
        kit.platform.accounts.login_with_password(email, WRONG)
    assert len(kit.tables.sessions) == sessions_before


def test_the_lock_lifts_when_the_window_passes(kit: Kit) -> None:
    person = kit.customer_by_password()
    email = person.email or ""
    start = kit.clock.now()
    fail_password(kit, email, 5)
    kit.clock.set(start + WINDOW - timedelta(seconds=1))
    with pytest.raises(Throttled):
        kit.platform.accounts.login_with_password(email, PASSWORD)
    kit.clock.set(start + WINDOW)
    assert kit.platform.accounts.login_with_password(email, PASSWORD).account_id == person.account_id


def test_throttled_attempts_do_not_extend_the_lock(kit: Kit) -> None:
    person = kit.customer_by_password()
    email = person.email or ""
    fail_password(kit, email, 5, every=timedelta(0))
    for _ in range(10):
        with pytest.raises(Throttled):
            kit.platform.accounts.login_with_password(email, WRONG)
        kit.clock.advance(timedelta(minutes=1))
    kit.clock.advance(timedelta(minutes=5))  # 15 minutes after the five failures
    assert kit.platform.accounts.login_with_password(email, PASSWORD).account_id == person.account_id


def test_throttled_attempts_are_recorded(kit: Kit) -> None:
    person = kit.customer_by_password()
    email = person.email or ""
    fail_password(kit, email, 5)
    with pytest.raises(Throttled):
        kit.platform.accounts.login_with_password(email, PASSWORD, ip="203.0.113.9", device="curl")
    last = kit.login_records()[-1]
    assert last.outcome is LoginOutcome.THROTTLED
    assert last.method is LoginMethod.PASSWORD
    assert last.account_id == person.account_id
    assert (last.ip, last.device, last.at) == ("203.0.113.9", "curl", kit.clock.now())
    views = kit.platform.users.login_records(kit.support().actor, person.account_id)
    assert [v.outcome for v in views[:2]] == ["throttled", "failed"]


def test_throttling_is_per_identifier(kit: Kit) -> None:
    victim = kit.customer_by_password()
    bystander = kit.customer_by_password()
    fail_password(kit, victim.email or "", 5)
    assert kit.platform.accounts.login_with_password(bystander.email or "", PASSWORD).account_id == \
        bystander.account_id


# -- phone + code ----------------------------------------------------------------------------------


def test_five_wrong_codes_lock_phone_login_even_with_the_right_code(kit: Kit) -> None:
    phone = kit.next_phone()
    start = kit.clock.now()
    kit.platform.accounts.request_login_code(phone)
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            kit.platform.accounts.login_with_code(phone, kit.wrong_code(phone))
    kit.clock.advance(timedelta(minutes=1))
    kit.platform.accounts.request_login_code(phone)  # a fresh code, so only the lock is in the way
    with pytest.raises(Throttled) as err:
        kit.platform.accounts.login_with_code(phone, kit.code_for(phone), ip="198.51.100.1", device="app")
    assert err.value.code == "auth.throttled"
    assert err.value.retry_after_seconds == 14 * 60 + 1
    last = kit.login_records()[-1]
    assert (last.outcome, last.method, last.ip, last.device) == (LoginOutcome.THROTTLED, LoginMethod.PHONE,
                                                                 "198.51.100.1", "app")
    assert kit.tables.accounts == {}
    kit.clock.set(start + WINDOW)
    kit.platform.accounts.request_login_code(phone)
    assert kit.platform.accounts.login_with_code(phone, kit.code_for(phone)).new_account


def test_phone_lock_applies_to_an_existing_account(kit: Kit) -> None:
    person = kit.customer_by_phone()
    phone = person.phone or ""
    kit.clock.advance(timedelta(minutes=1))
    kit.platform.accounts.request_login_code(phone)
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            kit.platform.accounts.login_with_code(phone, kit.wrong_code(phone))
    kit.clock.advance(timedelta(minutes=1))
    kit.platform.accounts.request_login_code(phone)
    with pytest.raises(Throttled):
        kit.platform.accounts.login_with_code(phone, kit.code_for(phone))
    assert kit.login_records()[-1].account_id == person.account_id


# -- enumeration resistance ------------------------------------------------------------------------


class SpyHasher(Argon2idPasswordHasher):
    """The fast test hasher, counting the password verifications it performs."""

    def __init__(self) -> None:
        super().__init__(memory_cost=64, iterations=1, lanes=1, allow_weak=True)
        self.verifies = 0
        self.dummies = 0
        self._in_dummy = False

    def reset(self) -> None:
        self.verifies = self.dummies = 0

    @property
    def work(self) -> int:
        """Expensive verifications done, whether real or dummy."""
        return self.verifies + self.dummies

    def verify(self, encoded: str, password: str) -> bool:
        if not self._in_dummy:
            self.verifies += 1
        return super().verify(encoded, password)

    def dummy_verify(self, password: str) -> None:
        self.dummies += 1
        self._in_dummy = True
        try:
            super().dummy_verify(password)
        finally:
            self._in_dummy = False


@pytest.fixture
def spy() -> SpyHasher:
    return SpyHasher()


@pytest.fixture
def spied(make_kit: MakeKit, spy: SpyHasher) -> Kit:
    return make_kit(hasher=spy)


def attempt(kit: Kit, email: str, password: str) -> MassageError:
    with pytest.raises(MassageError) as err:
        kit.platform.accounts.login_with_password(email, password)
    return err.value


def test_wrong_password_and_missing_email_fail_identically(spied: Kit, spy: SpyHasher) -> None:
    person = spied.customer_by_password("existing@example.com")
    spy.reset()
    wrong = attempt(spied, "existing@example.com", WRONG)
    assert (spy.verifies, spy.dummies) == (1, 0)
    spy.reset()
    missing = attempt(spied, "missing@example.com", WRONG)
    assert (spy.verifies, spy.dummies) == (0, 1)
    assert type(wrong) is type(missing) is AuthenticationFailed
    assert (wrong.code, wrong.message, str(wrong)) == (missing.code, missing.message, str(missing))
    assert wrong.code == "auth.invalid_credentials"
    assert person.account_id not in str(wrong)


def test_missing_email_with_any_password_does_comparable_work(spied: Kit, spy: SpyHasher) -> None:
    spied.customer_by_password("existing@example.com")
    works = []
    for email, password in [("existing@example.com", WRONG), ("missing@example.com", WRONG),
                            ("missing@example.com", PASSWORD), ("other.missing@example.com", "x")]:
        spy.reset()
        attempt(spied, email, password)
        works.append(spy.work)
    assert works == [1, 1, 1, 1]


def test_phone_only_account_with_an_email_login_does_the_dummy_work(spied: Kit, spy: SpyHasher) -> None:
    spied.customer_by_phone()
    spy.reset()
    attempt(spied, "nobody@example.com", WRONG)
    assert spy.work == 1


def test_throttling_is_the_same_for_a_missing_email(kit: Kit) -> None:
    person = kit.customer_by_password("existing@example.com")
    start = kit.clock.now()
    for email in ("existing@example.com", "missing@example.com"):
        kit.clock.set(start)
        fail_password(kit, email, 5)
    kit.clock.set(start + timedelta(minutes=5))
    errors = []
    for email, password in (("existing@example.com", PASSWORD), ("missing@example.com", PASSWORD)):
        with pytest.raises(Throttled) as err:
            kit.platform.accounts.login_with_password(email, password)
        errors.append(err.value)
    existing, missing = errors
    assert (existing.code, existing.message, existing.retry_after_seconds) == \
        (missing.code, missing.message, missing.retry_after_seconds)
    throttled = [r for r in kit.login_records() if r.outcome is LoginOutcome.THROTTLED]
    assert [r.account_id for r in throttled] == [person.account_id, None]
    kit.clock.set(start + WINDOW)
    assert kit.platform.accounts.login_with_password("existing@example.com", PASSWORD).account_id == \
        person.account_id
    with pytest.raises(AuthenticationFailed):
        kit.platform.accounts.login_with_password("missing@example.com", PASSWORD)


def test_wrong_code_on_known_and_unknown_phone_fail_identically(kit: Kit) -> None:
    known = kit.customer_by_phone()
    unknown = kit.next_phone()
    errors = []
    kit.clock.advance(timedelta(minutes=1))
    for phone in (known.phone or "", unknown):
        kit.platform.accounts.request_login_code(phone)
        with pytest.raises(MassageError) as err:
            kit.platform.accounts.login_with_code(phone, kit.wrong_code(phone))
        errors.append(err.value)
    a, b = errors
    assert type(a) is type(b) is AuthenticationFailed
    assert (a.code, a.message) == (b.code, b.message)
