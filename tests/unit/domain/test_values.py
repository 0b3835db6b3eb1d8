"""Phone numbers, emails, resident ID numbers, masking, ids, time."""

import datetime as dt

import pendulum
import pytest

from massage_core.domain.contact import Email, PhoneNumber
from massage_core.domain.errors import ValidationError
from massage_core.domain.identity_documents import ResidentIdNumber, check_digit
from massage_core.domain.ids import account_id, check_id
from massage_core.domain.masking import mask_email, mask_id_number, mask_name, mask_phone
from massage_core.domain.time import local, utc


@pytest.mark.parametrize("raw", ["13800138000", "138 0013 8000", "138-0013-8000", "+86 138 0013 8000",
                                 "+8613800138000", "0086 13800138000"])
def test_phone_numbers_normalise_to_e164(raw: str) -> None:
    assert PhoneNumber.parse(raw).e164 == "+8613800138000"


@pytest.mark.parametrize("raw", ["", "   ", "12345", "abc", "1380013800", "+86 999 9999 9999", None, 13800138000,
                                 "1" * 41])
def test_bad_phone_numbers_are_refused(raw: object) -> None:
    with pytest.raises(ValidationError) as err:
        PhoneNumber.parse(raw)
    assert err.value.code == "phone.invalid"


def test_email_is_normalised_and_validated() -> None:
    assert Email.parse("  Zhang.San@Example.COM ").address == "zhang.san@example.com"
    for bad in ["", "no-at-sign", "a@", "@b.com", "a b@c.com", None, "x" * 300 + "@a.com"]:
        with pytest.raises(ValidationError) as err:
            Email.parse(bad)
        assert err.value.code == "email.invalid"


def test_masks() -> None:
    assert mask_phone("+8613800138000") == "138****8000"
    assert mask_email("zhang@example.com") == "z***@example.com"
    assert mask_name("张三丰") == "张**"
    assert mask_id_number("110101199003078515") == "1101**********8515"


def test_resident_id_number_checks_digit_and_birth_date() -> None:
    body = "11010119900307851"
    good = body + check_digit(body)
    parsed = ResidentIdNumber.parse(good.lower())
    assert parsed.birth_date == dt.date(1990, 3, 7)
    wrong = body + ("0" if check_digit(body) != "0" else "1")
    with pytest.raises(ValidationError) as err:
        ResidentIdNumber.parse(wrong)
    assert err.value.code == "id_number.check_digit"
    impossible = "11010119901345851"
    with pytest.raises(ValidationError) as err:
        ResidentIdNumber.parse(impossible + check_digit(impossible))
    assert err.value.code == "id_number.birth_date"
    for bad in ["123", "11010119900307851Y", None]:
        with pytest.raises(ValidationError):
            ResidentIdNumber.parse(bad)


def test_known_check_digit() -> None:
    assert check_digit("11010519491231002") == "X"


def test_ids_are_checked_by_kind() -> None:
    good = "acc_" + "0" * 25 + "1"
    assert account_id(good) == good
    for bad in ["acc_1", "ses_" + "0" * 26, 42, None, "acc_" + "I" * 26]:
        with pytest.raises(ValidationError) as err:
            check_id("account", bad)
        assert err.value.code == "invalid_id"


def test_time_is_aware_and_utc() -> None:
    with pytest.raises(ValidationError) as err:
        utc(dt.datetime(2026, 1, 1))
    assert err.value.code == "time.naive"
    shanghai = pendulum.datetime(2026, 1, 1, 8, tz="Asia/Shanghai")
    assert utc(shanghai) == pendulum.datetime(2026, 1, 1, 0, tz="UTC")
    assert local(utc(shanghai)).hour == 8
