"""The screener on random renderings of random mobiles, and on arbitrary text (property-based, decision 0036).

A random valid mainland mobile is written the way people dodge filters:
each digit ASCII, full-width or a Chinese numeral (plain, financial or
spoken forms, mixed), optionally after a ``+86`` / ``86`` / ``0086`` prefix,
with random runs of separators between the digits, and dropped into random
Chinese and English filler that holds no digit, no numeral, no ``+`` and no
unit or currency sign (a unit right after a number spread over several
groups makes it a quantity: decision 0036).
"""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from massage_core.domain.screening import Finding, FindingKind, Screener
from massage_core.domain.screening_contacts import CURRENCY_SIGNS, UNITS
from massage_core.domain.screening_normalize import NUMERALS, normalize

SCREENER = Screener.default()
SPELLINGS: dict[str, list[str]] = {digit: [digit, chr(ord("０") + int(digit))] for digit in "0123456789"}
for numeral, value in NUMERALS.items():
    SPELLINGS[value].append(numeral)
SEPARATORS = [" ", "\u3000", "-", "—", "－", ".", "·", "_", "/", "(", ")", "[", "]", "【", "】", "\u200b", "*", "\t"]
PREFIXES = ["", "+86", "86", "0086", "＋８６"]


def _filler_char(ch: str) -> bool:
    folded = unicodedata.normalize("NFKC", ch)
    return (ch not in NUMERALS and ch not in UNITS and not any(c.isdigit() or c in CURRENCY_SIGNS or c == "+"
                                                                  for c in folded))


FILLER = st.text(
    st.one_of(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5),
              st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ ,.!?，。！？：")).filter(_filler_char),
    max_size=12,
)


@st.composite
def mobiles(draw: st.DrawFn) -> str:
    return "1" + draw(st.sampled_from("3456789")) + "".join(draw(st.lists(st.sampled_from("0123456789"),
                                                                           min_size=9, max_size=9)))


GAPS = st.lists(st.sampled_from(SEPARATORS), max_size=3).map("".join)


@st.composite
def renderings(draw: st.DrawFn, number: str) -> str:
    """``number`` with a random prefix, each digit in a random spelling, random separators in between."""
    prefix = draw(st.sampled_from(PREFIXES))
    plus = prefix[:1] if prefix[:1] in "+＋" and prefix else ""
    digits = unicodedata.normalize("NFKC", prefix[len(plus):]) + number
    choices = draw(st.lists(st.tuples(st.integers(0, 5), GAPS), min_size=len(digits), max_size=len(digits)))
    spelt = [SPELLINGS[digit][pick % len(SPELLINGS[digit])] for digit, (pick, _) in zip(digits, choices, strict=True)]
    gaps = [""] + [gap for _, gap in choices[1:]]
    return plus + "".join(gap + digit for gap, digit in zip(gaps, spelt, strict=True))


@given(st.data(), mobiles(), FILLER, FILLER)
def test_a_rendered_mobile_is_found_with_its_exact_span(data: st.DataObject, number: str, before: str,
                                                        after: str) -> None:
    rendering = data.draw(renderings(number))
    text = before + rendering + after
    screening = SCREENER.screen(text)
    phone = Finding(FindingKind.PHONE, len(before), len(before) + len(rendering), rendering)
    assert phone in screening.findings
    assert "".join(ch for ch in normalize(rendering).digits if ch.isascii() and ch.isdigit()).endswith(number)
    masked = screening.masked()
    assert not any(ch.isascii() and ch.isdigit() for ch in normalize(masked).digits)
    assert masked[len(before):len(before) + len(rendering)] == "*" * len(rendering)


def _check_masking(text: str, mask: str) -> None:
    screening = SCREENER.screen(text)
    inside = {index for finding in screening.findings for index in range(finding.start, finding.end)}
    masked = screening.masked(mask)
    assert len(masked) == len(text)
    assert all(masked[index] == (mask if index in inside else text[index]) for index in range(len(text)))


@given(st.text(max_size=80), st.data())
def test_masking_keeps_the_length_and_everything_outside_the_findings(text: str, data: st.DataObject) -> None:
    seeded = text[:20] + data.draw(renderings(data.draw(mobiles()))) + text[20:]
    _check_masking(seeded, data.draw(st.characters(exclude_categories=["Cs"])))
    _check_masking(text, "*")


@given(st.text(max_size=200))
def test_any_text_screens_without_error_and_spans_are_in_bounds_and_sorted(text: str) -> None:
    screening = SCREENER.screen(text)
    assert screening.text == text and screening.clean == (not screening.findings)
    keys = [(finding.start, finding.end) for finding in screening.findings]
    assert keys == sorted(keys)
    for finding in screening.findings:
        assert 0 <= finding.start < finding.end <= len(text)
        assert finding.matched == text[finding.start:finding.end]
        assert isinstance(finding.kind, FindingKind)


@given(st.text(st.sampled_from("1381234567 -一三八幺两qQvVx微信:@.com傻逼*+８"), max_size=60))
def test_dense_digit_and_cue_soup_screens_consistently(text: str) -> None:
    screening = SCREENER.screen(text)
    assert SCREENER.screen(text) == screening
    for finding in screening.findings:
        assert 0 <= finding.start < finding.end <= len(text) and finding.matched == text[finding.start:finding.end]
