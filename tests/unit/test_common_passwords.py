"""The zxcvbn-backed common-password list."""

from __future__ import annotations

import pytest

from massage_core.adapters.passwords import ZxcvbnCommonPasswords
from massage_core.ports.passwords import CommonPasswords


@pytest.fixture(scope="module")
def common() -> ZxcvbnCommonPasswords:
    return ZxcvbnCommonPasswords()


def test_is_a_common_passwords_port(common: ZxcvbnCommonPasswords) -> None:
    assert isinstance(common, CommonPasswords)


@pytest.mark.parametrize("password", ["123456", "password", "qwerty", "iloveyou", "dragon"])
def test_common_passwords_are_found(common: ZxcvbnCommonPasswords, password: str) -> None:
    assert common.is_common(password)


@pytest.mark.parametrize("password", ["PASSWORD", "Password", "QwErTy", "IloveYou"])
def test_case_insensitive(common: ZxcvbnCommonPasswords, password: str) -> None:
    assert common.is_common(password)


@pytest.mark.parametrize("password", ["", "correct horse battery staple", "Vx9#qLm2!tRz", "password 1"])
def test_uncommon_passwords_pass(common: ZxcvbnCommonPasswords, password: str) -> None:
    assert not common.is_common(password)


def test_list_is_large_and_shared(common: ZxcvbnCommonPasswords) -> None:
    assert len(common) > 25_000
    assert ZxcvbnCommonPasswords._words() is ZxcvbnCommonPasswords()._words()
