"""The IdGenerator port."""

from __future__ import annotations

import abc


class IdGenerator(abc.ABC):
    """Makes new identifiers."""

    @abc.abstractmethod
    def new_id(self, kind: str) -> str:
        """Return a fresh id for ``kind`` (a key of ``domain.ids.PREFIXES``), e.g. ``acc_01J...``.

        The result passes ``domain.ids.check_id(kind, ...)`` and is never
        returned twice.  Raises KeyError for an unknown kind.
        """
