"""The sensitive-word list of the screener: validation, the default list and the matcher (decision 0036).

A word matches case-insensitively and width-insensitively (both sides are
NFKC-folded), and across characters slipped in between its letters: at most
``MAX_GAP`` spaces or punctuation marks between two letters (``傻 逼``,
``傻*逼``).  A word with Latin letters must also stand on its own (no Latin
letter right before or after it) and is either written together or spread
out with something between *every* two letters (``f u c k``), so ``it's hit``
does not read as ``shit``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from attrs import field, frozen

from massage_core.domain.errors import ValidationError
from massage_core.domain.screening_normalize import MAX_GAP, Normalized

MAX_WORD_LENGTH = 32
MAX_WORDS = 10_000

DEFAULT_WORDS: frozenset[str] = frozenset({
    # abuse
    "傻逼", "傻b", "煞笔", "沙比", "草泥马", "操你妈", "操你", "你妈的", "他妈的", "死全家", "贱人", "婊子",
    "狗东西", "脑残", "滚蛋", "fuck", "bitch", "asshole",
    # sexual services, which the platform does not offer
    "特殊服务", "大保健", "性服务", "色情", "裸体按摩", "胸推", "一条龙服务", "莞式", "包夜", "约炮", "做爱",
    "口活",
    # taking the customer off the platform
    "私下交易", "私下付款", "私下转账", "线下交易", "跳单",
})
"""A small default list: abuse, sexual-service solicitation, and deals that bypass the platform."""


def canonical_word(word: str) -> str:
    """The stored form of a word: NFKC, case-folded, trimmed."""
    return unicodedata.normalize("NFKC", word).casefold().strip()


def _letters(word: str) -> str:
    """What the matcher looks for: the letters and digits of the canonical word."""
    return "".join(ch for ch in word if ch.isalnum())


def check_words(words: object) -> frozenset[str]:
    """Validate a word list and return its canonical forms; raise ValidationError ``screening.words``."""
    if isinstance(words, str | bytes) or not isinstance(words, Iterable):
        raise ValidationError("the sensitive words must be a collection of strings", code="screening.words",
                              field="words")
    checked: set[str] = set()
    for word in words:
        if not isinstance(word, str):
            raise ValidationError(f"a sensitive word must be a string, not {type(word).__name__}",
                                  code="screening.words", field="words")
        canonical = canonical_word(word)
        if not _letters(canonical):
            raise ValidationError("a sensitive word needs at least one letter or digit", code="screening.words",
                                  field="words")
        if len(canonical) > MAX_WORD_LENGTH:
            raise ValidationError(f"a sensitive word has at most {MAX_WORD_LENGTH} characters: {canonical[:40]!r}",
                                  code="screening.words", field="words")
        checked.add(canonical)
        if len(checked) > MAX_WORDS:
            raise ValidationError(f"at most {MAX_WORDS} sensitive words", code="screening.words", field="words")
    return frozenset(checked)


def _latin(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def _pattern(words: frozenset[str]) -> re.Pattern[str] | None:
    letters = sorted({_letters(word) for word in words}, key=lambda item: (-len(item), item))
    if not letters:
        return None
    return re.compile("(?=(" + "|".join(re.escape(item) for item in letters) + "))")


@frozen
class WordMatcher:
    """Finds the words of a list in normalised text."""

    words: frozenset[str]
    _pattern: re.Pattern[str] | None = field(init=False, repr=False, eq=False)

    @_pattern.default
    def _compile(self) -> re.Pattern[str] | None:
        return _pattern(self.words)

    def find(self, norm: Normalized) -> list[tuple[int, int]]:
        """Normalised spans ``[start, end)`` of the words found, left to right, not overlapping."""
        if self._pattern is None:
            return []
        kept = [position for position, ch in enumerate(norm.text) if ch.isalnum()]
        skeleton = "".join(norm.text[position] for position in kept)
        spans: list[tuple[int, int]] = []
        for match in self._pattern.finditer(skeleton):
            positions = kept[match.start(1):match.end(1)]
            if spans and positions[0] < spans[-1][1]:
                continue
            if _acceptable(norm.text, match.group(1), positions):
                spans.append((positions[0], positions[-1] + 1))
        return spans


def _acceptable(text: str, letters: str, positions: list[int]) -> bool:
    gaps = [after - before - 1 for before, after in zip(positions, positions[1:], strict=False)]
    if any(gap > MAX_GAP for gap in gaps):
        return False
    if not any(_latin(ch) for ch in letters):
        return True
    first, last = positions[0], positions[-1]
    if (first > 0 and _latin(text[first - 1])) or (last + 1 < len(text) and _latin(text[last + 1])):
        return False
    return all(gap == 0 for gap in gaps) or all(gap > 0 for gap in gaps)
