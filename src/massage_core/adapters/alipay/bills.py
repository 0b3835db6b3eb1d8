"""Alipay trade bills (业务账单, ``bill_type=trade``) as the port's statement lines (decision 0035).

- Ask: ``alipay.data.dataservice.bill.downloadurl.query`` with ``{"bill_type": "trade", "bill_date":
  "YYYY-MM-DD"}``, signed RSA2 and verified like every call.  The answer's ``bill_download_url`` is valid for
  about 30 seconds and carries its own token (the download is not signed).  ``isp.bill_not_exist`` means Alipay
  has no bill of that day: an empty statement.  The URL must be http(s) on an ``alipay.com`` /
  ``alipaydev.com`` host or on the configured gateway's host (the local stub).
- Download: a zip (at most ``MAX_ZIP_BYTES``) of GBK CSV files named ``<pid>0156_<yyyymmdd>_业务明细.csv`` and
  ``..._业务明细(汇总).csv``; entry names are GBK without the zip UTF-8 flag.  Only the detail file is read;
  its CRC-32 is checked by the zip reader.
- Read: ``#`` comment lines, the start marker ``#---...业务明细列表---...``, a header row (支付宝交易号, 商户订单号,
  业务类型, 商品名称, 创建时间, 完成时间, ..., 订单金额（元）, 商家实收（元）, ..., 退款批次号/请求号, 服务费（元）,
  ...), the rows (fields padded with tabs), the end marker ``...业务明细列表结束...`` and the totals
  ``#交易合计：N笔，商家实收共X元...`` / ``#退款合计：M笔，商家实收退款共-Y元...``.  Columns are found by name.  The
  totals must agree with the rows, so a truncated or edited file is refused (``payment.statement_malformed``,
  as is anything else unexpected: nothing is half-read).

Rows: 业务类型 ``交易`` is a payment of 商家实收 (our 商户订单号, Alipay's 支付宝交易号); ``退款`` a refund of the
absolute 商家实收 (Alipay writes it negative) with our refund number in 退款批次号/请求号 and the adapter's refund
id ``<trade_no>-<out_request_no>``.  The time is 完成时间, Beijing time.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
import zlib
from urllib.parse import urlsplit

import pendulum

from massage_core.adapters.alipay.client import SUCCESS, AlipayClient
from massage_core.adapters.alipay.transport import Transport, unavailable
from massage_core.adapters.alipay.wire import ALIPAY_ZONE, business_error, refund_id
from massage_core.domain.errors import PaymentError, ValidationError
from massage_core.domain.money import Money
from massage_core.domain.payments import StatementKind, StatementLine, statement_day
from massage_core.domain.time import Instant

METHOD = "alipay.data.dataservice.bill.downloadurl.query"
MAX_ZIP_BYTES = 32 * 1024 * 1024
MAX_CSV_BYTES = 128 * 1024 * 1024
MAX_ENTRIES = 16
DETAIL_SUFFIX = "_业务明细.csv"
NEEDED = ("支付宝交易号", "商户订单号", "业务类型", "完成时间", "商家实收（元）", "退款批次号/请求号")
_AMOUNT = re.compile(r"^(-?)(0|[1-9][0-9]{0,11})\.([0-9]{2})$", re.ASCII)
_TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$", re.ASCII)
_TRADES = re.compile(r"^#交易合计：([0-9]+)笔，商家实收共(-?[0-9]+\.[0-9]{2})元")
_REFUNDS = re.compile(r"^#退款合计：([0-9]+)笔，商家实收退款共(-?[0-9]+\.[0-9]{2})元")
_ALIPAY_HOSTS = (".alipay.com", ".alipaydev.com")


def malformed(what: str) -> PaymentError:
    return PaymentError(f"Alipay trade bill is malformed: {what}", code="payment.statement_malformed")


def statement(client: AlipayClient, transport: Transport, gateway_url: str, day: dt.date,
              zone: str) -> tuple[StatementLine, ...]:
    """The lines of every Beijing-day bill that covers ``day`` in ``zone``, cut to that day, in the bills' order."""
    start, end = statement_day(day, zone)
    first = start.in_timezone(ALIPAY_ZONE).date()
    last = end.subtract(microseconds=1).in_timezone(ALIPAY_ZONE).date()
    lines: list[StatementLine] = []
    for offset in range((last - first).days + 1):
        date = first + dt.timedelta(days=offset)
        lines.extend(line for line in bill_lines(client, transport, gateway_url, date) if start <= line.at < end)
    return tuple(lines)


def bill_lines(client: AlipayClient, transport: Transport, gateway_url: str, date: dt.date) -> list[StatementLine]:
    """Ask for, download and read the trade bill of the Beijing ``date``."""
    code, sub_code, content = client.call(METHOD, {"bill_type": "trade", "bill_date": date.isoformat()})
    if code != SUCCESS:
        if sub_code == "isp.bill_not_exist":
            return []
        raise business_error(sub_code, str(content.get("sub_msg", "")), f"bill {date.isoformat()}")
    url = content.get("bill_download_url")
    if not isinstance(url, str) or not 0 < len(url) <= 2048 or not _trusted(url, gateway_url):
        raise unavailable("the bill answer has no usable bill_download_url")
    return read_detail(detail_csv(transport.get(url, MAX_ZIP_BYTES)))


def _trusted(url: str, gateway_url: str) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host or parts.fragment:
        return False
    return host.endswith(_ALIPAY_HOSTS) or host == (urlsplit(gateway_url).hostname or "").lower()


def detail_csv(data: bytes) -> str:
    """The text of the one ``..._业务明细.csv`` in the zip ``data`` (GBK), bounded and CRC-checked."""
    try:
        with zipfile.ZipFile(io.BytesIO(data), metadata_encoding="gbk") as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ENTRIES:
                raise malformed(f"more than {MAX_ENTRIES} files in the zip")
            details = [entry for entry in entries if entry.filename.endswith(DETAIL_SUFFIX)]
            if len(details) != 1:
                raise malformed("the zip does not hold exactly one 业务明细 file")
            if details[0].file_size > MAX_CSV_BYTES:
                raise malformed("the detail file is too large")
            with archive.open(details[0]) as member:
                raw = member.read(MAX_CSV_BYTES + 1)
    except PaymentError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, RuntimeError,
            NotImplementedError, UnicodeDecodeError, zlib.error):
        raise malformed("not a readable zip") from None
    if len(raw) > MAX_CSV_BYTES:
        raise malformed("the detail file is too large")
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        raise malformed("the detail file is not GBK text") from None


def read_detail(text: str) -> list[StatementLine]:
    """The statement lines of a 业务明细 CSV; ``payment.statement_malformed`` for anything unexpected."""
    rows = [line.removesuffix("\r") for line in text.split("\n")]
    starts = [n for n, row in enumerate(rows) if row.startswith("#") and "业务明细列表" in row and "结束" not in row]
    ends = [n for n, row in enumerate(rows) if row.startswith("#") and "业务明细列表结束" in row]
    if len(starts) != 1 or len(ends) != 1 or not starts[0] + 1 < ends[0]:
        raise malformed("no single detail list between its start and end markers")
    header = _fields(rows[starts[0] + 1])
    if len(set(header)) != len(header) or any(name not in header for name in NEEDED):
        raise malformed("the header lacks a needed column")
    column = {name: header.index(name) for name in NEEDED}
    lines: list[StatementLine] = []
    totals = {StatementKind.PAYMENT: [0, 0], StatementKind.REFUND: [0, 0]}
    for row in rows[starts[0] + 2:ends[0]]:
        fields = _fields(row)
        if len(fields) != len(header):
            raise malformed(f"a row has {len(fields)} fields for {len(header)} columns")
        line, signed = _line(fields, column)
        totals[line.kind][0] += 1
        totals[line.kind][1] += signed
        lines.append(line)
    trailer = rows[ends[0] + 1:]
    _check_total(trailer, _TRADES, totals[StatementKind.PAYMENT], "交易合计")
    _check_total(trailer, _REFUNDS, totals[StatementKind.REFUND], "退款合计")
    return lines


def _fields(row: str) -> list[str]:
    try:
        parsed = next(csv.reader([row], strict=True), [])
    except csv.Error:
        raise malformed("a row is not CSV") from None
    return [field.strip(" \t") for field in parsed]


def _fen(text: str) -> int:
    match = _AMOUNT.fullmatch(text)
    if match is None:
        raise malformed(f"not an amount in yuan: {text[:24]!r}")
    value = int(match.group(2)) * 100 + int(match.group(3))
    return -value if match.group(1) else value


def _line(fields: list[str], column: dict[str, int]) -> tuple[StatementLine, int]:
    """The line of a row and its signed 商家实收 in fen (for the totals)."""
    def get(name: str) -> str:
        return fields[column[name]]

    kind, when, signed = get("业务类型"), get("完成时间"), _fen(get("商家实收（元）"))
    if not _TIME.fullmatch(when):
        raise malformed(f"unreadable 完成时间 {when[:24]!r}")
    try:
        at: Instant = pendulum.instance(dt.datetime.strptime(when, "%Y-%m-%d %H:%M:%S"),
                                        tz=ALIPAY_ZONE).in_timezone("UTC")
        trade_no, reference = get("支付宝交易号"), get("商户订单号")
        if kind == "交易":
            if signed < 0:
                raise malformed("a payment with a negative amount")
            return StatementLine(StatementKind.PAYMENT, reference, trade_no, Money(signed), at), signed
        if kind != "退款":
            raise malformed(f"unknown 业务类型 {kind[:20]!r}")
        number = get("退款批次号/请求号")
        return StatementLine(StatementKind.REFUND, reference, refund_id(trade_no, number), Money(abs(signed)), at,
                             out_refund_no=number), signed
    except (ValidationError, ValueError) as exc:
        raise malformed(f"unusable row: {exc}"[:160]) from None


def _check_total(trailer: list[str], pattern: re.Pattern[str], counted: list[int], name: str) -> None:
    found = [match for row in trailer if (match := pattern.match(row)) is not None]
    if len(found) != 1:
        raise malformed(f"no single {name} line")
    if int(found[0].group(1)) != counted[0] or _fen(found[0].group(2)) != counted[1]:
        raise malformed(f"{name} differs from the rows")
