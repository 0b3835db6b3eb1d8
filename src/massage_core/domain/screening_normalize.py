"""Normalising text for the screener, with a map back to the original positions (decision 0036).

People who want to slip a phone number past a filter write it with spaces,
dashes, full-width digits or Chinese numerals.  ``normalize`` folds every
character on its own (NFKC, then case folding; Chinese numerals become ASCII
digits in a second, aligned view) and remembers, for every normalised
position, which original character it came from.  A match found in the
normalised text therefore maps back to an exact span of the original text.

``digit_runs`` cuts the digit view into runs: groups of consecutive digits
joined by short stretches (at most ``MAX_GAP`` characters) of separators.
Commas, colons, ``、``, ``~`` and ``。`` are not separators: they divide list
items, times and ranges, which must not be glued into one long number.
Platform ids (``ord_`` + 26 base32 characters) are cut out of the runs, so
the digits of an order number the platform printed never look like a phone.
"""

from __future__ import annotations

import re
import unicodedata

from attrs import frozen

NUMERALS: dict[str, str] = {
    **{ch: str(value) for value, ch in enumerate("零一二三四五六七八九")},
    **{ch: str(value) for value, ch in enumerate("〇壹贰叁肆伍陆柒捌玖")},
    "貳": "2", "參": "3", "叄": "3", "陸": "6", "幺": "1", "两": "2", "兩": "2",
}
"""Chinese numerals (plain, financial, traditional and spoken forms) and the digit each stands for."""

SEPARATORS = frozenset(" -_./\\|*()[]{}<>\"'`‐‑‒–—―−﹣·•・‧∙【】〔〕〖〗「」『』《》〈〉“”‘’")
"""Characters ignored between digits (after NFKC), besides any whitespace and invisible formatting marks."""

MAX_GAP = 3
"""At most this many separators between two digits of one run."""

_INVISIBLE = frozenset({"Cf", "Mn", "Me", "Zs", "Zl", "Zp", "Cc"})
_PLATFORM_ID = re.compile(r"(?<![a-z0-9])[a-z]{2,5}_[0-9a-hjkmnp-tv-z]{26}(?![a-z0-9])")


def is_separator(ch: str) -> bool:
    """Whether ``ch`` (one normalised character) may stand between the digits of one number."""
    return ch in SEPARATORS or ch.isspace() or unicodedata.category(ch) in _INVISIBLE


def _digit(ch: str) -> str:
    """The ASCII digit ``ch`` stands for, or ``ch`` itself."""
    if ch in NUMERALS:
        return NUMERALS[ch]
    if ch.isdecimal():
        return str(unicodedata.decimal(ch))
    return ch


@frozen
class Normalized:
    """Text folded for matching: ``text`` and ``digits`` have one entry per position of ``origin``.

    ``text`` is NFKC plus case folding, character by character; ``digits`` is
    ``text`` with every numeral as an ASCII digit.  ``origin[i]`` is the index
    in the original text of the character that produced position ``i``.
    """

    text: str
    digits: str
    origin: tuple[int, ...]
    blocked: frozenset[int]
    """Positions inside a platform id: never part of a number."""

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span ``[start, end)`` that normalised positions ``[start, end)`` (not empty) came from."""
        return self.origin[start], self.origin[end - 1] + 1

    def is_digit(self, position: int) -> bool:
        """Whether ``position`` holds a digit that may belong to a number."""
        return self.digits[position].isascii() and self.digits[position].isdigit() and position not in self.blocked


def normalize(text: str) -> Normalized:
    """Fold ``text`` character by character and keep the map back to the original positions."""
    chars: list[str] = []
    origin: list[int] = []
    for index, original in enumerate(text):
        for folded in unicodedata.normalize("NFKC", original):
            for ch in folded.casefold():
                chars.append(ch)
                origin.append(index)
    folded_text = "".join(chars)
    blocked = frozenset(
        position for match in _PLATFORM_ID.finditer(folded_text) for position in range(match.start(), match.end())
    )
    return Normalized(folded_text, "".join(_digit(ch) for ch in chars), tuple(origin), blocked)


@frozen
class DigitRun:
    """Groups of consecutive digits, each ``(start, end)`` in normalised positions, joined by short gaps."""

    groups: tuple[tuple[int, int], ...]

    @property
    def start(self) -> int:
        """Position of the first digit."""
        return self.groups[0][0]

    @property
    def end(self) -> int:
        """Position just after the last digit."""
        return self.groups[-1][1]


def digit_runs(norm: Normalized) -> list[DigitRun]:
    """Every run of digits in ``norm``, left to right."""
    runs: list[DigitRun] = []
    groups: list[tuple[int, int]] = []
    position, size = 0, len(norm.digits)
    while position < size:
        if not norm.is_digit(position):
            position += 1
            continue
        start = position
        while position < size and norm.is_digit(position):
            position += 1
        if groups and not _joined(norm, groups[-1][1], start):
            runs.append(DigitRun(tuple(groups)))
            groups = []
        groups.append((start, position))
    if groups:
        runs.append(DigitRun(tuple(groups)))
    return runs


def _joined(norm: Normalized, end: int, start: int) -> bool:
    """Whether the gap ``[end, start)`` between two digit groups is a short stretch of separators."""
    return start - end <= MAX_GAP and all(is_separator(norm.text[i]) for i in range(end, start))

