"""Finding contact details in normalised text: phones, WeChat and QQ ids, emails, links (decision 0036).

Every function takes a ``Normalized`` text and returns ``(kind, start, end)``
in normalised positions; ``screening.Screener`` maps them back to the
original text.

- **Phones.** Inside one digit run, a sequence of whole digit groups whose
  digits form a mainland mobile (``1[3-9]`` + 9 digits, optionally after
  ``86`` or ``0086``; a ``+`` right before is included) or a landline with its
  area code (``010``, ``02x``, ``0xxx`` + 7 or 8 digits not starting with 0
  or 1; written as one group or with the area code as its own group).  Whole
  groups only, so digits inside a longer number never match.  A number glued
  together from several groups is taken for a quantity, not a phone, when a
  unit follows it (``元``, ``人``, ``分`` ...) or a currency sign precedes it.
- **Contact ids** follow a cue (``微信``, ``vx``, ``QQ``, ``扣扣`` ...; weak cues
  such as ``v``, ``微``, ``加我`` ask for a digit in the id): 5 to 11 digits, or
  (not after a QQ cue) a WeChat id: a letter, then 5 to 19 letters, digits,
  ``_`` or ``-``.
- **Emails** and **links** (a scheme, ``www.``, or a bare domain under a common
  top-level domain; ``点``, ``。`` or ``dot`` may stand for the dot).  A bare
  domain under a top-level domain that is also an English word (``.me``,
  ``.top``) counts only when written in lower case, so a missing space after
  a full stop (``Great service.Top team``) is not a link.
"""

from __future__ import annotations

import re

from massage_core.domain.screening_normalize import DigitRun, Normalized, digit_runs

Hit = tuple[str, int, int]

_MOBILE = re.compile(r"(?:0086|86)?1[3-9]\d{9}")
_LANDLINE = re.compile(r"0(?:10|2\d|[3-9]\d\d)[2-9]\d{6,7}")
_AREA_CODE = re.compile(r"0(?:10|2\d|[3-9]\d\d)")
_MAX_PHONE_DIGITS = 15
UNITS = frozenset("元块圆角人位个次分秒钟天星岁斤米倍折件套单号")
CURRENCY_SIGNS = frozenset("¥$€£")

_QQ_CUES = r"(?<![a-z])qq(?![a-z])|扣扣|企鹅|q号"
_STRONG_CUES = r"微信|威信|薇信|维信|徽信|魏信|(?<![a-z])v信|微心|绿泡泡|(?<![a-z])(?:wechat|weixin|vx|wx)(?![a-z])"
_WEAK_CUES = r"(?<![a-z])v(?![a-z])|微|加我|卫星"
_CUE_GAP = r"(?:[\s:=>~,.、\-]|号码|账号|帐号|号|是|为|id|搜索|搜|加|我|的)"
_CUE = re.compile(rf"(?:(?P<qq>{_QQ_CUES})|(?P<strong>{_STRONG_CUES})|(?P<weak>{_WEAK_CUES})){_CUE_GAP}{{0,6}}")
_WECHAT_ID = re.compile(r"[a-z][a-z0-9_-]{5,19}(?![a-z0-9_-])")
_MIN_ID_DIGITS, _MAX_ID_DIGITS = 5, 11

_URL_CHAR = r"[a-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]"
_TRAILING = ".,;:!?)]'"
_SCHEME = re.compile(rf"(?<![a-z])(?:https?|ftp)://{_URL_CHAR}+")
_WWW = re.compile(rf"(?<![a-z0-9.])www\.[a-z0-9-]+{_URL_CHAR}*")
_DOT = r"(?:\.|\s*(?:点|。|\(dot\)|\[dot\])\s*|\s+dot\s+)"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_TLDS = ("com|cn|net|org|xyz|wang|icu|biz|ltd|hk|me|top|vip|info|io|co|cc|tv|club|site|online|shop|app|link|"
         "live|fun|store|tech|ink|red|work|pub")
_UNAMBIGUOUS_TLDS = frozenset({"com", "cn", "net", "org", "xyz", "wang", "icu", "biz", "ltd", "hk"})
_DOMAIN = re.compile(rf"(?<![a-z0-9@._-]){_LABEL}(?:{_DOT}{_LABEL}){{0,6}}{_DOT}(?P<tld>{_TLDS})(?![a-z0-9])"
                     rf"(?:/{_URL_CHAR}*)?")
_EMAIL = re.compile(r"(?<![a-z0-9._%+-])[a-z0-9][a-z0-9._%+-]{0,63}@[a-z0-9-]+(?:(?:\.|点)[a-z0-9-]+){0,8}"
                    r"(?:\.|点)[a-z]{2,24}(?![a-z])")


def phones(norm: Normalized, runs: list[DigitRun]) -> list[Hit]:
    """Mobile and landline numbers, each a sequence of whole digit groups of one run."""
    hits: list[Hit] = []
    for run in runs:
        groups, first = run.groups, 0
        texts = [norm.digits[start:end] for start, end in groups]
        while first < len(groups):
            last = _longest_phone(norm, groups, texts, first)
            if last is None:
                first += 1
                continue
            start, end = groups[first][0], groups[last][1]
            if start > 0 and norm.text[start - 1] == "+":
                start -= 1
            hits.append(("phone", start, end))
            first = last + 1
    return hits


def _longest_phone(norm: Normalized, groups: tuple[tuple[int, int], ...], texts: list[str], first: int) -> int | None:
    """The last group of the longest phone number starting with group ``first``, if any."""
    best: int | None = None
    digits = ""
    for last in range(first, len(groups)):
        digits += texts[last]
        if len(digits) > _MAX_PHONE_DIGITS:
            break
        shaped = _MOBILE.fullmatch(digits) or (
            _LANDLINE.fullmatch(digits) and (last == first or _AREA_CODE.fullmatch(texts[first])))
        if shaped and (last == first or not _quantity(norm, groups[first][0], groups[last][1])):
            best = last
    return best


def _quantity(norm: Normalized, start: int, end: int) -> bool:
    """Whether the number at ``[start, end)`` reads as an amount: a unit after it or a currency sign before."""
    after = end
    while after < len(norm.text) and norm.text[after].isspace():
        after += 1
    before = start - 1
    while before >= 0 and norm.text[before].isspace():
        before -= 1
    return (after < len(norm.text) and norm.text[after] in UNITS) or (
        before >= 0 and norm.text[before] in CURRENCY_SIGNS)


def contact_ids(norm: Normalized, runs: list[DigitRun], taken: list[Hit]) -> list[Hit]:
    """WeChat and QQ ids after a cue; digits already taken as a phone are left to it."""
    by_start = {run.start: run for run in runs}
    hits: list[Hit] = []
    for cue in _CUE.finditer(norm.text):
        position = cue.end()
        run = by_start.get(position)
        if run is not None:
            hit = _digit_id(run)
            if hit is not None and not any(_overlap(hit, other) for other in taken):
                hits.append(hit)
        elif cue.group("qq") is None:
            match = _WECHAT_ID.match(norm.text, position)
            if match and (cue.group("weak") is None or any(ch.isdigit() for ch in match.group())):
                hits.append(("contact_id", match.start(), match.end()))
    return hits


def _digit_id(run: DigitRun) -> Hit | None:
    """The longest leading groups of ``run`` with at most 11 digits, if they hold at least 5."""
    count, last = 0, -1
    for index, (start, end) in enumerate(run.groups):
        if count + end - start > _MAX_ID_DIGITS:
            break
        count, last = count + end - start, index
    if count < _MIN_ID_DIGITS:
        return None
    return "contact_id", run.start, run.groups[last][1]


def _overlap(one: Hit, other: Hit) -> bool:
    return one[1] < other[2] and other[1] < one[2]


def emails(norm: Normalized) -> list[Hit]:
    """Email addresses (``点`` may stand for a dot in the domain)."""
    return [("email", match.start(), match.end()) for match in _EMAIL.finditer(norm.text)]


def links(norm: Normalized, original: str) -> list[Hit]:
    """Links with a scheme, ``www.`` links and bare domains under common top-level domains."""
    hits = [_trimmed(norm, match.start(), match.end()) for pattern in (_SCHEME, _WWW)
            for match in pattern.finditer(norm.text)]
    for match in _DOMAIN.finditer(norm.text):
        tld = match.group("tld")
        if tld not in _UNAMBIGUOUS_TLDS and match.end("tld") == match.end():
            start, end = norm.span(match.start("tld"), match.end("tld"))
            if not original[start:end].islower():
                continue
        hits.append(_trimmed(norm, match.start(), match.end()))
    return hits


def _trimmed(norm: Normalized, start: int, end: int) -> Hit:
    while end - start > 1 and norm.text[end - 1] in _TRAILING:
        end -= 1
    return "link", start, end


def contact_hits(norm: Normalized, original: str) -> list[Hit]:
    """Every contact detail in ``norm`` (the normalised ``original``), in no particular order."""
    runs = digit_runs(norm)
    found = phones(norm, runs)
    return found + contact_ids(norm, runs, found) + emails(norm) + links(norm, original)
