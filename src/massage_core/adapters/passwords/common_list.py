"""The common-password list shipped with zxcvbn (30 000 most frequent passwords)."""

from __future__ import annotations

import threading

from massage_core.ports.passwords import CommonPasswords

_LIST_NAME = "passwords"


class ZxcvbnCommonPasswords(CommonPasswords):
    """Refuses passwords on zxcvbn's frequency list; compared case-insensitively.

    The list is loaded once per process, on first use, into a frozenset shared
    by every instance.
    """

    _shared: frozenset[str] | None = None
    _lock = threading.Lock()

    @classmethod
    def _words(cls) -> frozenset[str]:
        """The lower-cased list, loaded on first call."""
        words = cls._shared
        if words is None:
            with cls._lock:
                words = cls._shared
                if words is None:
                    from zxcvbn.frequency_lists import FREQUENCY_LISTS

                    words = frozenset(word.casefold() for word in FREQUENCY_LISTS[_LIST_NAME])
                    cls._shared = words
        return words

    def __len__(self) -> int:
        """How many distinct passwords the list holds."""
        return len(self._words())

    def is_common(self, password: str) -> bool:
        """True when ``password`` (compared case-insensitively) is on the list."""
        if not isinstance(password, str):
            return False
        return password.casefold() in self._words()
