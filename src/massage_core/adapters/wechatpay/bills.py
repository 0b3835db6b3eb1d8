"""WeChat Pay API v3 trade bills (交易账单) as the port's statement lines (decision 0035).

- Apply: ``GET /v3/bill/tradebill?bill_date=YYYY-MM-DD&bill_type=ALL``, signed and verified like every call;
  the answer names ``download_url`` (on the API host, valid a few minutes), ``hash_type`` (``SHA1``) and
  ``hash_value`` (hex digest of the uncompressed bill).  ``NO_STATEMENT_EXIST`` means the merchant had no
  payment and no refund that day: an empty bill.  ``STATEMENT_CREATING`` (the bill of yesterday before about
  10:00) is ``payment.unavailable``: retry later.
- Download: ``GET download_url`` with the same Authorization scheme; WeChat does not sign this answer, so the
  SHA-1 of the bytes must equal ``hash_value`` (else ``payment.statement_hash``).
- Read: UTF-8 text (a byte-order mark is tolerated), lines ending in CRLF or LF.  The detail header (27
  columns, 交易时间 ... 费率备注), the detail rows (every field prefixed with a backtick), the summary header
  (总交易单数 ... 申请退款总金额) and one summary row.  Columns are found by name, so WeChat may add or move
  columns.  The summary's count, settlement total and refund total must equal the detail rows', so a truncated
  or edited file is refused.  Anything else wrong is ``payment.statement_malformed``; nothing is half-read.

Rows: 交易状态 ``SUCCESS`` is a payment of 应结订单金额 (our 商户订单号, WeChat's 微信订单号); ``REFUND`` is a
refund of 退款金额 (our 商户退款单号, WeChat's 微信退款单号) when 退款状态 is ``SUCCESS`` or ``PROCESSING``
(WeChat took the money when it accepted the refund; the bill is a snapshot of that day) and is left out when
``CLOSED`` or ``ABNORMAL`` (no money left).  Times are Beijing time.  Amounts are yuan with two decimals, read
as exact fen.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Sequence

import pendulum

from massage_core.adapters.wechatpay.client import ApiClient, WeChatPayRefused
from massage_core.adapters.wechatpay.transport import unavailable
from massage_core.domain.errors import PaymentError, ValidationError
from massage_core.domain.money import Money
from massage_core.domain.payments import StatementKind, StatementLine, statement_day
from massage_core.domain.time import Instant

TRADEBILL = "/v3/bill/tradebill"
BEIJING = "Asia/Shanghai"
#: The largest bill the adapter downloads (about 100 000 rows); a larger answer is ``payment.unavailable``.
MAX_BILL_BYTES = 32 * 1024 * 1024
DETAIL_HEADER = (
    "交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号", "用户标识", "交易类型",
    "交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额", "微信退款单号", "商户退款单号", "退款金额",
    "充值券退款金额", "退款类型", "退款状态", "商品名称", "商户数据包", "手续费", "费率", "订单金额", "申请退款金额",
    "费率备注",
)
SUMMARY_HEADER = ("总交易单数", "应结订单总金额", "退款总金额", "充值券退款总金额", "手续费总金额", "订单总金额",
                  "申请退款总金额")
#: The columns the adapter reads; a bill without any of them is malformed.
NEEDED = ("交易时间", "商户号", "微信订单号", "商户订单号", "交易状态", "货币种类", "应结订单金额", "微信退款单号",
          "商户退款单号", "退款金额", "退款状态")
_AMOUNT = re.compile(r"^(-?)(0|[1-9][0-9]{0,11})\.([0-9]{2})$", re.ASCII)
_TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$", re.ASCII)
_HEX40 = re.compile(r"^[0-9a-fA-F]{40}$", re.ASCII)
_REFUND_MOVED = frozenset({"SUCCESS", "PROCESSING"})
_REFUND_UNMOVED = frozenset({"CLOSED", "ABNORMAL"})


def malformed(what: str) -> PaymentError:
    return PaymentError(f"WeChat Pay trade bill is malformed: {what}", code="payment.statement_malformed")


def beijing_days(day: dt.date, zone: str) -> tuple[Instant, Instant, list[dt.date]]:
    """The UTC bounds of ``day`` in ``zone`` and the Beijing bill dates that cover them (one or two)."""
    start, end = statement_day(day, zone)
    first = start.in_timezone(BEIJING).date()
    last = end.subtract(microseconds=1).in_timezone(BEIJING).date()
    return start, end, [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def statement(client: ApiClient, mchid: str, day: dt.date, zone: str) -> tuple[StatementLine, ...]:
    """The lines of every bill that covers ``day`` in ``zone``, cut to that day, in the bills' order."""
    start, end, dates = beijing_days(day, zone)
    lines: list[StatementLine] = []
    for date in dates:
        lines.extend(line for line in bill_lines(client, mchid, date) if start <= line.at < end)
    return tuple(lines)


def bill_lines(client: ApiClient, mchid: str, date: dt.date) -> list[StatementLine]:
    """Apply for, download, check and read the ALL trade bill of the Beijing ``date``."""
    try:
        _status, answer = client.call("GET", TRADEBILL, query={"bill_date": date.isoformat(), "bill_type": "ALL"})
    except WeChatPayRefused as refused:
        if refused.wechat_code == "NO_STATEMENT_EXIST":
            return []
        if refused.wechat_code == "STATEMENT_CREATING":
            raise unavailable(f"the trade bill of {date.isoformat()} is still being generated") from None
        raise
    url, digest = _bill_answer(answer)
    data = client.download(url, MAX_BILL_BYTES)
    if not hmac.compare_digest(hashlib.sha1(data).hexdigest(), digest):  # noqa: S324 - WeChat's own checksum
        raise PaymentError("WeChat Pay trade bill does not match the SHA-1 WeChat signed",
                           code="payment.statement_hash")
    return read_bill(data, mchid)


def _bill_answer(answer: object) -> tuple[str, str]:
    fields = answer if isinstance(answer, dict) else {}
    url, kind, digest = fields.get("download_url"), fields.get("hash_type"), fields.get("hash_value")
    if not isinstance(url, str) or not 0 < len(url) <= 2048:
        raise unavailable("the bill answer has no download_url")
    if kind != "SHA1" or not isinstance(digest, str) or not _HEX40.fullmatch(digest):
        raise unavailable("the bill answer has no SHA1 hash_value")
    return url, digest.lower()


def read_bill(data: bytes, mchid: str) -> list[StatementLine]:
    """The statement lines of a downloaded bill; ``payment.statement_malformed`` for anything unexpected."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise malformed("not UTF-8 text") from None
    rows = [line.removesuffix("\r") for line in text.removeprefix("\ufeff").split("\n")]
    while rows and rows[-1] == "":
        rows.pop()
    if len(rows) < 3:
        raise malformed("fewer lines than a header and a summary")
    header = rows[0].split(",")
    if len(set(header)) != len(header) or any(name not in header for name in NEEDED):
        raise malformed("the detail header lacks a needed column")
    column = {name: header.index(name) for name in NEEDED}
    try:
        summary_at = rows.index(",".join(SUMMARY_HEADER))
    except ValueError:
        raise malformed("no summary header") from None
    if summary_at != len(rows) - 2:
        raise malformed("the summary header must be followed by exactly one summary row")
    details = [_fields(row, len(header)) for row in rows[1:summary_at]]
    lines = [line for fields in details if (line := _line(fields, column, mchid)) is not None]
    _check_summary(_fields(rows[-1], len(SUMMARY_HEADER)), details, column)
    return lines


def _fields(row: str, count: int) -> list[str]:
    parts = row.split(",")
    if len(parts) != count or any(not part.startswith("`") for part in parts):
        raise malformed(f"a row has {len(parts)} fields for {count} columns, or a field without its backtick")
    return [part[1:] for part in parts]


def _fen(text: str, *, negative_ok: bool = False) -> int:
    match = _AMOUNT.fullmatch(text)
    if match is None or (match.group(1) and not negative_ok):
        raise malformed(f"not an amount in yuan: {text[:24]!r}")
    value = int(match.group(2)) * 100 + int(match.group(3))
    return -value if match.group(1) else value


def _line(fields: list[str], column: dict[str, int], mchid: str) -> StatementLine | None:
    def get(name: str) -> str:
        return fields[column[name]]

    if get("商户号") != mchid:
        raise PaymentError("WeChat Pay trade bill lists another merchant's trade", code="payment.mismatch")
    if get("货币种类") != "CNY":
        raise malformed("a row is not in CNY")
    state, when = get("交易状态"), get("交易时间")
    if not _TIME.fullmatch(when):
        raise malformed(f"unreadable time {when[:24]!r}")
    try:
        at = pendulum.instance(dt.datetime.strptime(when, "%Y-%m-%d %H:%M:%S"), tz=BEIJING).in_timezone("UTC")
        if state == "SUCCESS":
            return StatementLine(StatementKind.PAYMENT, get("商户订单号"), get("微信订单号"),
                                 Money(_fen(get("应结订单金额"))), at)
        if state != "REFUND":
            raise malformed(f"unknown 交易状态 {state[:20]!r}")
        status = get("退款状态")
        if status in _REFUND_UNMOVED:
            return None
        if status not in _REFUND_MOVED:
            raise malformed(f"unknown 退款状态 {status[:20]!r}")
        return StatementLine(StatementKind.REFUND, get("商户订单号"), get("微信退款单号"), Money(_fen(get("退款金额"))),
                             at, out_refund_no=get("商户退款单号"))
    except (ValidationError, ValueError) as exc:
        raise malformed(f"unusable row: {exc}"[:160]) from None


def _check_summary(summary: list[str], details: Sequence[list[str]], column: dict[str, int]) -> None:
    count, settled, refunded = summary[0], summary[1], summary[2]
    if not (count.isascii() and count.isdigit()) or int(count) != len(details):
        raise malformed("the summary's 总交易单数 differs from the rows")
    if _fen(settled, negative_ok=True) != sum(_fen(d[column["应结订单金额"]], negative_ok=True) for d in details):
        raise malformed("the summary's 应结订单总金额 differs from the rows")
    if _fen(refunded, negative_ok=True) != sum(_fen(d[column["退款金额"]], negative_ok=True) for d in details):
        raise malformed("the summary's 退款总金额 differs from the rows")
