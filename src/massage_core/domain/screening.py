"""The contact and abuse screener shared by review moderation and order chat (decision 0036).

``Screener.screen(text)`` finds phone numbers, WeChat and QQ ids, emails,
links and sensitive words, however they are spelt (spaces, dashes, full-width
characters, Chinese numerals, punctuation slipped between letters), and
returns a ``Screening``: the text, the findings with exact spans in the
original text, and ``masked()`` to hide them.  Pure: no I/O, no clock.

Overlapping findings are all kept, except one lying inside another of the
same or a stronger kind (phone, contact id, email, link, sensitive word, in
that order): a link inside a longer link, or ``qq.com`` inside an email, is
not reported twice.

How the text is folded lives in ``screening_normalize``, the contact rules in
``screening_contacts``, the word list and its matcher in ``screening_words``.
"""

from __future__ import annotations

import enum
import functools
import unicodedata
from collections.abc import Iterable

from attrs import field, frozen

from massage_core.domain.errors import ValidationError
from massage_core.domain.screening_contacts import contact_hits
from massage_core.domain.screening_normalize import normalize
from massage_core.domain.screening_words import DEFAULT_WORDS, WordMatcher, check_words

__all__ = ["DEFAULT_WORDS", "Finding", "FindingKind", "Screener", "Screening"]


class FindingKind(enum.StrEnum):
    """What a finding is, strongest first."""

    PHONE = "phone"
    CONTACT_ID = "contact_id"
    """A WeChat id, a QQ number or another messenger id given after a cue."""
    EMAIL = "email"
    LINK = "link"
    SENSITIVE = "sensitive"


_STRENGTH = {kind: rank for rank, kind in enumerate(FindingKind)}
_MARKS = frozenset({"Mn", "Me"})
"""Combining marks (accents, the keycap of ``1️⃣``) belong to the character before them."""


@frozen
class Finding:
    """One thing found: its kind and its span ``[start, end)`` in the original text."""

    kind: FindingKind
    start: int
    end: int
    matched: str
    """The original text of the span."""


@frozen
class Screening:
    """The outcome of screening ``text``: the findings, sorted by start, end and kind."""

    text: str
    findings: tuple[Finding, ...]

    @property
    def clean(self) -> bool:
        """True when nothing was found."""
        return not self.findings

    def masked(self, mask: str = "*") -> str:
        """The text with every character of every finding replaced by ``mask`` (one character).

        The length and everything outside the findings stay as they were.
        Raises ValidationError ``screening.mask`` when ``mask`` is not one character.
        """
        if not isinstance(mask, str) or len(mask) != 1:
            raise ValidationError("the mask must be one character", code="screening.mask", field="mask")
        hidden = [False] * len(self.text)
        for finding in self.findings:
            hidden[finding.start:finding.end] = [True] * (finding.end - finding.start)
        return "".join(mask if hide else ch for ch, hide in zip(self.text, hidden, strict=True))


@frozen
class Screener:
    """Screens texts for contact details and the sensitive ``words`` (kept case-folded and NFKC-normalised).

    Build it with ``Screener.with_words(words)`` or ``Screener.default()``; a
    bad list raises ValidationError ``screening.words``.
    """

    words: frozenset[str] = field(converter=check_words)
    _matcher: WordMatcher = field(init=False, repr=False, eq=False)

    @_matcher.default
    def _build_matcher(self) -> WordMatcher:
        return WordMatcher(self.words)

    @classmethod
    def with_words(cls, words: Iterable[str]) -> Screener:
        """A screener for ``words`` (contact details are always screened)."""
        return cls(words)

    @classmethod
    def default(cls) -> Screener:
        """A screener with the shipped list ``DEFAULT_WORDS``."""
        return _default()

    def screen(self, text: str) -> Screening:
        """Screen ``text``; raise ValidationError ``screening.text`` when it is not a string."""
        if not isinstance(text, str):
            raise ValidationError("only text can be screened", code="screening.text", field="text")
        norm = normalize(text)
        hits = contact_hits(norm, text) + [("sensitive", start, end) for start, end in self._matcher.find(norm)]
        found: set[Finding] = set()
        for kind, start, end in hits:
            first, last = norm.span(start, end)
            while last < len(text) and unicodedata.category(text[last]) in _MARKS:
                last += 1
            found.add(Finding(FindingKind(kind), first, last, text[first:last]))
        return Screening(text, _without_nested(found))


def _without_nested(found: set[Finding]) -> tuple[Finding, ...]:
    """Drop every finding lying inside another one of the same or a stronger kind; sort the rest.

    One sweep by start (longer first, stronger first): a finding is nested when a finding seen before it, of
    its kind or a stronger one, reaches at least as far.
    """
    reach = [-1] * len(_STRENGTH)
    kept: list[Finding] = []
    for finding in sorted(found, key=lambda item: (item.start, -item.end, _STRENGTH[item.kind])):
        strength = _STRENGTH[finding.kind]
        if max(reach[:strength + 1]) < finding.end:
            kept.append(finding)
        reach[strength] = max(reach[strength], finding.end)
    return tuple(sorted(kept, key=lambda finding: (finding.start, finding.end, _STRENGTH[finding.kind])))


@functools.cache
def _default() -> Screener:
    return Screener(DEFAULT_WORDS)
