"""Password policy adapters: the maintained list of common passwords."""

from massage_core.adapters.passwords.common_list import ZxcvbnCommonPasswords

__all__ = ["ZxcvbnCommonPasswords"]
