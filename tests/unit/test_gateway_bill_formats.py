"""Reading the providers' bill files (decision 0035): exact fen, columns by name, and every malformed, foreign,
truncated or oversized file refused whole -- never half-read.  The files here are written by the tests from
the published layouts, independently of the stubs."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest

from alipay_kit import config_for, gateway_for, open_and_pay
from alipay_stub import AlipayStub
from massage_core.adapters.alipay import AlipayGateway, UrllibTransport
from massage_core.adapters.alipay import bills as alipay_bills
from massage_core.adapters.alipay.transport import Transport
from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.wechatpay import WeChatPayGateway
from massage_core.adapters.wechatpay import bills as wechat_bills
from massage_core.domain.errors import PaymentError
from massage_core.domain.money import Money
from massage_core.domain.payments import PaymentMethod, PaymentRequest, StatementKind
from wechatpay_kit import MCHID, OPENID, config, make_stub
from wechatpay_stub import WeChatPayStub

import datetime as dt

DAY = dt.date(2026, 1, 5)

# -- WeChat Pay: the trade bill ------------------------------------------------------------------------------

HEADER = ("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,"
          "应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,"
          "手续费,费率,订单金额,申请退款金额,费率备注").split(",")
SUMMARY = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"


def payment_row(reference: str = "order-000001", amount: str = "198.00", **changes: str) -> dict[str, str]:
    row = dict.fromkeys(HEADER, "")
    row.update({"交易时间": "2026-01-05 10:00:00", "公众账号ID": "wxd678efh567hg6787", "商户号": MCHID, "特约商户号": "0",
                "微信订单号": "4200000001202601050000000001", "商户订单号": reference, "用户标识": "o-1",
                "交易类型": "JSAPI", "交易状态": "SUCCESS", "付款银行": "OTHERS", "货币种类": "CNY", "应结订单金额": amount,
                "代金券金额": "0.00", "微信退款单号": "0", "商户退款单号": "0", "退款金额": "0.00", "充值券退款金额": "0.00",
                "商品名称": "推拿", "手续费": "1.19", "费率": "0.60%", "订单金额": amount, "申请退款金额": "0.00"})
    row.update(changes)
    return row


def refund_row(number: str = "order-000001-r1", amount: str = "8.00", status: str = "SUCCESS") -> dict[str, str]:
    return payment_row(交易时间="2026-01-05 11:00:00", 交易状态="REFUND", 应结订单金额="0.00",
                       微信退款单号="50300000012026010500000001", 商户退款单号=number, 退款金额=amount,
                       退款类型="ORIGINAL", 退款状态=status, 申请退款金额=amount)


def cents(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    whole, _, part = text.lstrip("-").partition(".")
    return sign * (int(whole) * 100 + int(part))


def yuan(fen: int) -> str:
    return ("-" if fen < 0 else "") + f"{abs(fen) // 100}.{abs(fen) % 100:02d}"


def wechat_bill(rows: list[dict[str, str]], header: list[str] = HEADER, *, summary: list[str] | None = None,
                newline: str = "\r\n") -> bytes:
    lines = [",".join(header)] + [",".join("`" + row[name] for name in header) for row in rows]
    totals = summary or [str(len(rows)), yuan(sum(cents(r["应结订单金额"]) for r in rows)),
                         yuan(sum(cents(r["退款金额"]) for r in rows)), "0.00", "0.00", "0.00", "0.00"]
    lines += [SUMMARY, ",".join("`" + value for value in totals)]
    return (newline.join(lines) + newline).encode("utf-8")


def read(data: bytes) -> list[tuple[StatementKind, str, str | None, int]]:
    return [(ln.kind, ln.business_key, ln.provider_id, ln.amount.fen) for ln in wechat_bills.read_bill(data, MCHID)]


def refused(data: bytes, code: str = "payment.statement_malformed") -> PaymentError:
    with pytest.raises(PaymentError) as caught:
        wechat_bills.read_bill(data, MCHID)
    assert caught.value.code == code
    return caught.value


def test_a_wechat_bill_reads_to_exact_fen_by_column_name() -> None:
    rows = [payment_row(amount="123.45"), refund_row(amount="0.01"), refund_row("order-000001-r2", "1.00",
                                                                                "PROCESSING"),
            refund_row("order-000001-r3", "2.00", "CLOSED")]
    expected = [(StatementKind.PAYMENT, "order:order-000001:captured", "4200000001202601050000000001", 12_345),
                (StatementKind.REFUND, "refund:order-000001-r1", "50300000012026010500000001", 1),
                (StatementKind.REFUND, "refund:order-000001-r2", "50300000012026010500000001", 100)]
    assert read(wechat_bill(rows)) == expected  # the CLOSED refund moved no money: not a line
    assert read(b"\xef\xbb\xbf" + wechat_bill(rows, newline="\n")) == expected  # BOM and LF tolerated
    assert read(wechat_bill(rows, list(reversed(HEADER)))) == expected  # columns found by name
    assert read(wechat_bill([])) == []
    [line] = wechat_bills.read_bill(wechat_bill([payment_row()]), MCHID)
    assert line.at.isoformat() == "2026-01-05T02:00:00+00:00"  # Beijing 10:00


@pytest.mark.parametrize("amount", ["198.5", "198", "1e2", "198.000", " 198.00", "-198.00", "１９８.００", "198,00"])
def test_amounts_that_are_not_yuan_with_two_decimals_are_refused(amount: str) -> None:
    refused(wechat_bill([payment_row(amount=amount)], summary=["1", "0.00", "0.00", "0", "0", "0", "0"]))


def test_malformed_wechat_bills_are_refused_whole() -> None:
    good = wechat_bill([payment_row(), refund_row()])
    refused(good.decode("utf-8").encode("gbk"))  # not UTF-8
    refused(good.replace(SUMMARY.encode(), b"totals"))  # no summary header
    refused(good.replace(b"`2,", b"`3,"))  # the count disagrees
    refused(wechat_bill([payment_row()], summary=["1", "198.01", "0.00", "0.00", "0.00", "0.00", "0.00"]))
    refused(wechat_bill([refund_row()], summary=["1", "0.00", "8.10", "0.00", "0.00", "0.00", "0.00"]))
    refused(good.replace(b"`JSAPI", b"JSAPI", 1))  # a field without its backtick
    refused(wechat_bill([payment_row(商品名称="推拿,精油")]))  # an unquoted comma shifts the columns
    refused(wechat_bill([payment_row(交易状态="REVOKED")]))
    refused(wechat_bill([refund_row(status="UNKNOWN")]))
    refused(wechat_bill([payment_row(货币种类="USD")]))
    refused(wechat_bill([payment_row(交易时间="2026/01/05 10:00")]))
    refused(wechat_bill([payment_row(reference="短")]))  # not an order reference of ours
    refused(wechat_bill([refund_row(number="")]))
    refused(good + b"`2,`1.00\r\n")  # rows after the summary
    refused(wechat_bill([payment_row()], [name for name in HEADER if name != "商户退款单号"]))
    refused(b'{"code":"SYSTEM_ERROR"}')
    refused(b"")
    refused(wechat_bill([payment_row(商户号="1900000999")]), "payment.mismatch")


@pytest.fixture
def wechat(request: pytest.FixtureRequest) -> Iterator[tuple[WeChatPayStub, WeChatPayGateway]]:
    clock = FixedClock()
    with make_stub(clock).serving() as stub:
        gateway = WeChatPayGateway(config(stub.url), clock)
        gateway.create_payment(PaymentRequest("order-000001", Money(19_800), PaymentMethod.WECHAT, "推拿",
                                              payer=OPENID))
        stub.pay("order-000001")
        yield stub, gateway


def test_wechat_downloads_are_bounded_and_stay_on_the_api_host(wechat: tuple[WeChatPayStub, WeChatPayGateway],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    stub, gateway = wechat
    monkeypatch.setattr(wechat_bills, "MAX_BILL_BYTES", 200)
    with pytest.raises(PaymentError) as too_large:
        gateway.statement(DAY)
    assert too_large.value.code == "payment.unavailable" and "too large" in str(too_large.value)
    monkeypatch.undo()
    port = stub.url.rsplit(":", 1)[1]
    monkeypatch.setattr(stub, "url", f"http://localhost:{port}")  # the download_url names another host
    sent = len(stub.requests)
    with pytest.raises(PaymentError) as elsewhere:
        gateway.statement(DAY)
    assert elsewhere.value.code == "payment.unavailable" and "host" in str(elsewhere.value)
    assert len(stub.requests) == sent + 1  # the bill answer only: nothing was sent to the other host


@pytest.mark.parametrize(("answer", "code"), [
    ((400, {"code": "STATEMENT_CREATING", "message": "账单生成中"}), "payment.unavailable"),
    ((200, {"hash_type": "MD5", "hash_value": "0" * 32, "download_url": "x"}), "payment.unavailable"),
    ((200, {"hash_type": "SHA1", "hash_value": "0" * 40}), "payment.unavailable"),
    ((403, {"code": "NO_AUTH", "message": "无权限"}), "payment.refused"),
])
def test_wechat_bill_answers_that_cannot_be_used(wechat: tuple[WeChatPayStub, WeChatPayGateway],
                                                 monkeypatch: pytest.MonkeyPatch, answer: tuple[int, Any],
                                                 code: str) -> None:
    stub, gateway = wechat
    monkeypatch.setattr(stub, "_tradebill", lambda _query: answer)
    with pytest.raises(PaymentError) as caught:
        gateway.statement(DAY)
    assert caught.value.code == code


# -- Alipay: the zipped GBK 业务明细 ---------------------------------------------------------------------------

ALIPAY_HEADER = ("支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,"
                 "商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,"
                 "商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注")
START = "#-----------------------------------------业务明细列表----------------------------------------"
END = "#-----------------------------------------业务明细列表结束------------------------------------"


def alipay_row(kind: str = "交易", amount: str = "198.00", number: str = "", reference: str = "order-000001") -> str:
    return (f"2026010522001400000000000001\t,{reference}\t,{kind}\t,推拿,2026-01-05 09:59:00,2026-01-05 10:00:00,"
            f"\t,\t,\t,\t,159****5620\t,{amount},{amount},0.00,0.00,0.00,0.00,0.00,,0.00\t,0.00,{number}\t,0.00,0.00,")


def alipay_text(rows: list[str], *, trades: str | None = None, refunds: str | None = None) -> str:
    paid = [r for r in rows if ",交易\t," in r]
    back = [r for r in rows if ",退款\t," in r]

    def total(selected: list[str]) -> str:
        return yuan(sum(cents(r.split(",")[12]) for r in selected))

    return "\r\n".join([
        "#支付宝业务明细查询", "#账号：[20881234567890120156]",
        "#起始日期：[2026年01月05日 00:00:00]   终止日期：[2026年01月06日 00:00:00]", START, ALIPAY_HEADER, *rows, END,
        trades or f"#交易合计：{len(paid)}笔，商家实收共{total(paid)}元，商家优惠共0.00元",
        refunds or f"#退款合计：{len(back)}笔，商家实收退款共{total(back)}元，商家优惠退款共0.00元",
        "#导出时间：[2026年01月06日 09:30:00]"]) + "\r\n"


def alipay_zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:  # UTF-8 flagged names: also accepted
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


DETAIL = "20881234567890120156_20260105_业务明细.csv"
SUMMED = "20881234567890120156_20260105_业务明细(汇总).csv"


def alipay_refused(text: str) -> None:
    with pytest.raises(PaymentError) as caught:
        alipay_bills.read_detail(text)
    assert caught.value.code == "payment.statement_malformed"


def test_an_alipay_detail_file_reads_to_exact_fen() -> None:
    text = alipay_text([alipay_row(amount="123.45"), alipay_row("退款", "-0.05", "order-000001-r1")])
    data = alipay_zip({DETAIL: text.encode("gbk"), SUMMED: "#汇总".encode("gbk")})
    lines = alipay_bills.read_detail(alipay_bills.detail_csv(data))
    assert [(ln.kind, ln.business_key, ln.provider_id, ln.amount.fen) for ln in lines] == [
        (StatementKind.PAYMENT, "order:order-000001:captured", "2026010522001400000000000001", 12_345),
        (StatementKind.REFUND, "refund:order-000001-r1", "2026010522001400000000000001-order-000001-r1", 5)]
    assert lines[0].at.isoformat() == "2026-01-05T02:00:00+00:00"
    assert alipay_bills.read_detail(alipay_text([])) == []


def test_malformed_alipay_detail_files_are_refused_whole() -> None:
    good = [alipay_row(), alipay_row("退款", "-8.00", "order-000001-r1")]
    alipay_refused(alipay_text(good).replace(END, "#"))  # truncated: no end marker
    alipay_refused(alipay_text(good).replace(START, "#"))
    alipay_refused(alipay_text(good, trades="#交易合计：2笔，商家实收共198.00元"))
    alipay_refused(alipay_text(good, refunds="#退款合计：1笔，商家实收退款共-8.01元"))
    alipay_refused(alipay_text(good).replace("#交易合计", "#合计"))
    alipay_refused(alipay_text([alipay_row("转账")]))
    alipay_refused(alipay_text([alipay_row(amount="198.5")]))
    alipay_refused(alipay_text([alipay_row(amount="-198.00")]))  # a payment cannot take money back
    alipay_refused(alipay_text([alipay_row("退款", "-8.00", "")]))  # a refund without our refund number
    alipay_refused(alipay_text([alipay_row() + ",extra"]))
    alipay_refused(alipay_text([alipay_row()]).replace("商家实收（元）", "实收"))
    alipay_refused("<html>busy</html>")


def test_alipay_zips_are_checked_before_anything_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    text = alipay_text([alipay_row()]).encode("gbk")

    def refused_zip(data: bytes) -> None:
        with pytest.raises(PaymentError) as caught:
            alipay_bills.detail_csv(data)
        assert caught.value.code == "payment.statement_malformed"

    refused_zip(b"<html>not a zip</html>")
    refused_zip(alipay_zip({SUMMED: text}))  # no detail file
    refused_zip(alipay_zip({DETAIL: text, "other_业务明细.csv": text}))
    refused_zip(alipay_zip({DETAIL: text.decode("gbk").encode("utf-16")}))
    stored = io.BytesIO()
    with zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(DETAIL, text)
    raw = stored.getvalue()
    at = raw.index(text[:20]) + 5
    refused_zip(raw[:at] + bytes([raw[at] ^ 0x20]) + raw[at + 1:])  # the CRC no longer matches
    monkeypatch.setattr(alipay_bills, "MAX_CSV_BYTES", 100)
    refused_zip(alipay_zip({DETAIL: text}))  # larger than allowed once unzipped
    monkeypatch.setattr(alipay_bills, "MAX_ENTRIES", 1)
    refused_zip(alipay_zip({DETAIL: b"", SUMMED: b""}))


@pytest.fixture
def alipay() -> Iterator[tuple[AlipayStub, AlipayGateway]]:
    clock = FixedClock()
    stub = AlipayStub(clock)
    try:
        gateway = gateway_for(stub, clock)
        gateway.create_payment(PaymentRequest("order-000001", Money(19_800), PaymentMethod.ALIPAY, "推拿"))
        open_and_pay(stub, gateway, "order-000001")
        yield stub, gateway
    finally:
        stub.stop()


def test_alipay_download_urls_must_be_alipays(alipay: tuple[AlipayStub, AlipayGateway],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    stub, gateway = alipay
    for url in ("http://bills.example.com/downloadBillFile.resource?token=x", "ftp://dwbillcenter.alipay.com/x",
                "https://alipay.com.example.net/x"):
        monkeypatch.setattr(stub, "_bill_url", lambda _biz, url=url: {"code": "10000", "msg": "Success",
                                                                       "bill_download_url": url})
        with pytest.raises(PaymentError) as caught:
            gateway.statement(DAY)
        assert caught.value.code == "payment.unavailable", url


def test_alipay_downloads_are_bounded(alipay: tuple[AlipayStub, AlipayGateway],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    _stub, gateway = alipay
    monkeypatch.setattr(alipay_bills, "MAX_ZIP_BYTES", 100)
    with pytest.raises(PaymentError) as caught:
        gateway.statement(DAY)
    assert caught.value.code == "payment.unavailable" and "too large" in str(caught.value)


def test_a_transport_that_cannot_download_says_so(alipay: tuple[AlipayStub, AlipayGateway]) -> None:
    stub, _ = alipay

    class PostOnly(Transport):
        def post_form(self, url: str, form: Any) -> bytes:
            return UrllibTransport().post_form(url, form)

    gateway = AlipayGateway(config_for(stub), FixedClock(), PostOnly())
    with pytest.raises(PaymentError) as caught:
        gateway.statement(DAY)
    assert caught.value.code == "payment.unsupported"
    assert json.loads(json.dumps(stub.requests[-1]))["method"] == "alipay.data.dataservice.bill.downloadurl.query"
