"""A local stand-in for the Alipay open platform, for tests: keys, an HTTP gateway on 127.0.0.1, notifications.

Written independently of ``massage_core.adapters.alipay`` (only ``cryptography``
and the standard library), from Alipay's published rules:

- requests arrive as GET query or POST form; the stub checks app_id,
  sign_type RSA2 and the RSA2 signature (sorted ``k=v`` joined by ``&``,
  without sign and empty values, sign_type included) with the *app* public key;
- it keeps trades and refunds the way Alipay does (a trade exists once the
  buyer opens the signed order; refunds keyed by (trade, out_request_no));
- it answers ``{"<method>_response": {...}, "sign": "..."}`` signed with the
  *Alipay* private key over the exact response JSON text;
- it produces ``trade_status_sync`` notifications: form-encoded, signed over
  every parameter but sign and sign_type.

Faults can be injected for the next responses (``fail_next``).

Trade bills: ``alipay.data.dataservice.bill.downloadurl.query`` (bill_type ``trade``) answers a
``bill_download_url`` on the stub; a GET of it serves a zip of two GBK CSV files (业务明细 and 业务明细(汇总),
GBK names without the UTF-8 flag) built from the trades paid and refunds made that Beijing day, with Alipay's
comment lines, markers and totals.  ``bill_edit`` changes the detail rows before the files are written (Alipay's
own bill disagrees); ``bill_tamper`` changes the zip bytes as downloaded; a day without rows answers
``isp.bill_not_exist``.
"""

from __future__ import annotations

import base64
import functools
import io
import json
import secrets
import zipfile
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit
from zoneinfo import ZoneInfo

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from massage_core.ports.clock import Clock

APP_ID = "2021000123456789"
SELLER_ID = "2088123456789012"
BEIJING = ZoneInfo("Asia/Shanghai")


@functools.cache
def key_pair(name: str) -> tuple[rsa.RSAPrivateKey, str, str]:
    """(private key, private PEM, public PEM) for ``name``; generated once per test process."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return key, private_pem, public_pem


def rsa2_sign(key: rsa.RSAPrivateKey, text: str) -> str:
    return base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa2_verify(key: rsa.RSAPublicKey, text: str, signature: str) -> bool:
    try:
        key.verify(base64.b64decode(signature, validate=True), text.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def signing_string(params: Mapping[str, str], *, request: bool) -> str:
    """Requests: all but sign (sign_type included), no empty values.  Notifications: all but sign and sign_type."""
    if request:
        return "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "sign" and params[k] != "")
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k not in ("sign", "sign_type"))


def beijing(when: datetime) -> str:
    return when.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def fen(text: str) -> int:
    whole, _, part = text.partition(".")
    return int(whole) * 100 + int(part.ljust(2, "0"))


class AlipayStub:
    """Plays Alipay: HTTP gateway, trade and refund state, signed notifications."""

    def __init__(self, clock: Clock, *, app_id: str = APP_ID, seller_id: str = SELLER_ID) -> None:
        self.clock = clock
        self.app_id, self.seller_id = app_id, seller_id
        self.alipay_key, _, self.alipay_public_pem = key_pair("alipay")
        _, self.app_private_pem, app_public_pem = key_pair("app")
        loaded = serialization.load_pem_public_key(app_public_pem.encode())
        assert isinstance(loaded, rsa.RSAPublicKey)
        self.app_public_key = loaded
        self.trades: dict[str, dict[str, Any]] = {}
        self.requests: list[dict[str, str]] = []
        self.refused_requests: list[str] = []
        self.faults: list[str] = []
        self.seller_balance_short = False
        self.bill_edit: Callable[[list[list[str]]], list[list[str]]] | None = None
        self.bill_tamper: Callable[[bytes], bytes] | None = None
        self.bill_files: dict[str, bytes] = {}
        self._sequence = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/gateway.do"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail_next(self, *faults: str) -> None:
        """Faults for the next responses: ``500``, ``slow``, ``garbage``, ``unsigned``, ``reformatted``, ``tampered``, ``bad_sign``,
        ``business:<sub_code>`` (a signed 40004 answer), ``code:<code>`` (a signed answer with that code), ``none``."""
        with self._lock:
            self.faults.extend(faults)

    # -- the buyer's side ----------------------------------------------------

    def open_order(self, order: str) -> dict[str, Any]:
        """The buyer opens a signed order string (or pay URL): checked like Alipay, then the trade exists."""
        params = dict(parse_qsl(urlsplit(order).query if order.startswith("http") else order, strict_parsing=True))
        if params.get("app_id") != self.app_id or params.get("sign_type") != "RSA2":
            raise AssertionError("order is for another app or not RSA2")
        if not rsa2_verify(self.app_public_key, signing_string(params, request=True), params["sign"]):
            raise AssertionError("order string signature does not verify with the app public key")
        biz = json.loads(params["biz_content"])
        with self._lock:
            trade = self.trades.get(biz["out_trade_no"])
            if trade is None:
                trade = self.trades[biz["out_trade_no"]] = {
                    "out_trade_no": biz["out_trade_no"], "total": fen(biz["total_amount"]), "subject": biz["subject"],
                    "status": "WAIT_BUYER_PAY", "trade_no": None, "paid_at": None, "refunds": {}, "refunded": 0,
                    "created_at": self.clock.now(), "notify_url": params.get("notify_url"),
                }
            elif trade["status"] != "WAIT_BUYER_PAY" or trade["total"] != fen(biz["total_amount"]):
                raise AssertionError("ACQ.CONTEXT_INCONSISTENT or trade not payable")
            return trade

    def pay(self, out_trade_no: str) -> tuple[dict[str, str], bytes]:
        """The buyer pays an open trade; returns the notification Alipay posts."""
        with self._lock:
            trade = self.trades[out_trade_no]
            assert trade["status"] == "WAIT_BUYER_PAY"
            self._sequence += 1
            trade.update(status="TRADE_SUCCESS", paid_at=self.clock.now(),
                         trade_no=f"2026010522001{self._sequence:015d}")
        return self.notification(out_trade_no)

    def expire(self, out_trade_no: str) -> tuple[dict[str, str], bytes]:
        """Alipay closes an unpaid trade at time_expire; returns the TRADE_CLOSED notification."""
        with self._lock:
            trade = self.trades[out_trade_no]
            assert trade["status"] == "WAIT_BUYER_PAY"
            self._sequence += 1
            trade.update(status="TRADE_CLOSED", trade_no=f"2026010522001{self._sequence:015d}")
        return self.notification(out_trade_no)

    def notification_form(self, out_trade_no: str, /, **changes: str | None) -> dict[str, str]:
        """The unsigned parameters of a notification for the trade as it stands (``changes``: None removes)."""
        with self._lock:
            trade = self.trades[out_trade_no]
            self._sequence += 1
            now = self.clock.now()
            form = {
                "notify_time": beijing(now), "notify_type": "trade_status_sync",
                "notify_id": f"2026010500222{self._sequence:06d}0b1c2d3e4f", "app_id": self.app_id,
                "auth_app_id": self.app_id, "charset": "utf-8", "version": "1.0", "trade_no": trade["trade_no"],
                "out_trade_no": out_trade_no, "seller_id": self.seller_id, "seller_email": "shop@example.com",
                "buyer_id": "2088102177846875", "buyer_logon_id": "159****5620", "trade_status": trade["status"],
                "total_amount": yuan(trade["total"]), "subject": trade["subject"],
                "body": "上门按摩 & 服务 = 60分钟 + 精油", "gmt_create": beijing(trade["created_at"]),
                "fund_bill_list": json.dumps([{"amount": yuan(trade["total"]), "fundChannel": "ALIPAYACCOUNT"}]),
            }
            if trade["paid_at"] is not None:
                form.update(gmt_payment=beijing(trade["paid_at"]), receipt_amount=yuan(trade["total"]),
                            buyer_pay_amount=yuan(trade["total"]), invoice_amount=yuan(trade["total"]),
                            point_amount="0.00")
            if trade["status"] == "TRADE_CLOSED":
                form["gmt_close"] = beijing(now)
        for key, value in changes.items():
            if value is None:
                form.pop(key, None)
            else:
                form[key] = value
        return form

    def sign_form(self, form: Mapping[str, str], *, sign_type: str = "RSA2") -> dict[str, str]:
        """``form`` signed as Alipay signs notifications (every parameter but sign and sign_type)."""
        unsigned = {k: v for k, v in form.items() if k not in ("sign", "sign_type")}
        return {**unsigned, "sign_type": sign_type,
                "sign": rsa2_sign(self.alipay_key, signing_string(unsigned, request=False))}

    def notification(self, out_trade_no: str, /, **changes: str | None) -> tuple[dict[str, str], bytes]:
        signed = self.sign_form(self.notification_form(out_trade_no, **changes))
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "User-Agent": "Mozilla/4.0"}
        return headers, urlencode(signed).encode("ascii")

    # -- the gateway -----------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - the SDK sends GET
                parts = urlsplit(self.path)
                if parts.path == "/downloadBillFile.resource":
                    token = dict(parse_qsl(parts.query)).get("token", "")
                    data = stub.bill_files.get(token)
                    self.send_response(200 if data is not None else 404)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(data or b"")))
                    self.end_headers()
                    self.wfile.write(data or b"")
                    return
                self._serve(parts.query)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode("ascii")
                query = urlsplit(self.path).query
                self._serve("&".join(part for part in (query, body) if part))

            def _serve(self, query: str) -> None:
                status, text = stub._respond(dict(parse_qsl(query, keep_blank_values=True)))
                data = text.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def _respond(self, params: dict[str, str]) -> tuple[int, str]:
        with self._lock:
            fault = self.faults.pop(0) if self.faults else None
        if fault == "500":
            return 500, "Internal Server Error"
        if fault == "slow":
            time.sleep(1.5)
        if fault == "garbage":
            return 200, "<html>gateway busy</html>"
        method = params.get("method", "")
        name = method.replace(".", "_") + "_response"
        if (params.get("app_id") != self.app_id or params.get("sign_type") != "RSA2"
                or not rsa2_verify(self.app_public_key, signing_string(params, request=True), params.get("sign", ""))):
            self.refused_requests.append(method)
            content = {"code": "40002", "msg": "Invalid Arguments", "sub_code": "isv.invalid-signature",
                       "sub_msg": "验签出错"}
            return 200, json.dumps({name: content}, ensure_ascii=False, separators=(",", ":"))
        self.requests.append(params)
        biz = json.loads(params.get("biz_content", "{}"))
        with self._lock:
            if fault is not None and fault.startswith(("business:", "code:")):
                kind, _, value = fault.partition(":")
                content = _failed(value, "模拟的错误") if kind == "business" else _failed("isv.denied", "无权限", value)
                raw = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
                return 200, f'{{"{name}":{raw},"sign":"{rsa2_sign(self.alipay_key, raw)}"}}'
            handler = {
                "alipay.trade.query": self._query, "alipay.trade.close": self._close,
                "alipay.trade.refund": self._refund, "alipay.trade.fastpay.refund.query": self._refund_query,
                "alipay.data.dataservice.bill.downloadurl.query": self._bill_url,
            }.get(method)
            content = handler(biz) if handler else _failed("isv.invalid-method", "不存在的方法名", "40002")
        raw = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
        signature = rsa2_sign(self.alipay_key, raw)
        if fault == "reformatted":  # the same JSON value, other bytes: the signature covers the exact text
            raw = raw.replace(",", ", ")
        if fault == "tampered":
            raw = raw.replace('"msg":"', '"msg":"X', 1)
        if fault == "bad_sign":
            signature = rsa2_sign(key_pair("intruder")[0], raw)
        if fault == "unsigned":
            return 200, f'{{"{name}":{raw}}}'
        return 200, f'{{"{name}":{raw},"sign":"{signature}"}}'

    def _trade(self, biz: dict[str, Any]) -> dict[str, Any] | None:
        return self.trades.get(biz.get("out_trade_no", ""))

    def _query(self, biz: dict[str, Any]) -> dict[str, Any]:
        trade = self._trade(biz)
        if trade is None:
            return _failed("ACQ.TRADE_NOT_EXIST", "交易不存在")
        content = {"code": "10000", "msg": "Success", "out_trade_no": trade["out_trade_no"],
                   "trade_status": trade["status"], "total_amount": yuan(trade["total"]),
                   "buyer_logon_id": "159****5620", "buyer_user_id": "2088102177846875"}
        if trade["trade_no"]:
            content["trade_no"] = trade["trade_no"]
        if trade["paid_at"] is not None:
            content.update(send_pay_date=beijing(trade["paid_at"]), receipt_amount=yuan(trade["total"]),
                           buyer_pay_amount=yuan(trade["total"]), point_amount="0.00")
        return content

    def _close(self, biz: dict[str, Any]) -> dict[str, Any]:
        trade = self._trade(biz)
        if trade is None:
            return _failed("ACQ.TRADE_NOT_EXIST", "交易不存在")
        if trade["status"] != "WAIT_BUYER_PAY":
            return _failed("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        trade["status"] = "TRADE_CLOSED"
        return {"code": "10000", "msg": "Success", "out_trade_no": trade["out_trade_no"]}

    def _refund(self, biz: dict[str, Any]) -> dict[str, Any]:
        trade = self._trade(biz)
        if trade is None:
            return _failed("ACQ.TRADE_NOT_EXIST", "交易不存在")
        number, amount = biz.get("out_request_no", trade["out_trade_no"]), fen(biz["refund_amount"])
        earlier = trade["refunds"].get(number)
        if earlier is not None:
            if earlier["amount"] != amount:
                return _failed("ACQ.DISCORDANT_REPEAT_REQUEST", "不一致的请求重复")
            return self._refund_answer(trade, earlier, fund_change="N")
        if trade["status"] == "WAIT_BUYER_PAY":
            return _failed("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        if trade["status"] == "TRADE_CLOSED":
            return _failed("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
        if trade["refunded"] + amount > trade["total"]:
            return _failed("ACQ.REASON_TRADE_REFUND_FEE_ERR", "退款金额无效")
        if self.seller_balance_short:
            return _failed("ACQ.SELLER_BALANCE_NOT_ENOUGH", "卖家余额不足")
        refund = trade["refunds"][number] = {"amount": amount, "at": self.clock.now()}
        trade["refunded"] += amount
        if trade["refunded"] == trade["total"]:
            trade["status"] = "TRADE_CLOSED"
        return self._refund_answer(trade, refund, fund_change="Y")

    def _refund_answer(self, trade: dict[str, Any], refund: dict[str, Any], *, fund_change: str) -> dict[str, Any]:
        return {"code": "10000", "msg": "Success", "trade_no": trade["trade_no"], "out_trade_no": trade["out_trade_no"],
                "buyer_logon_id": "159****5620", "fund_change": fund_change, "refund_fee": yuan(trade["refunded"]),
                "gmt_refund_pay": beijing(refund["at"]), "send_back_fee": yuan(refund["amount"])}

    def _refund_query(self, biz: dict[str, Any]) -> dict[str, Any]:
        trade = self._trade(biz)
        if trade is None:
            return _failed("ACQ.TRADE_NOT_EXIST", "交易不存在")
        refund = trade["refunds"].get(biz.get("out_request_no"))
        content = {"code": "10000", "msg": "Success", "out_trade_no": trade["out_trade_no"],
                   "trade_no": trade["trade_no"], "out_request_no": biz.get("out_request_no"),
                   "total_amount": yuan(trade["total"])}
        if refund is not None:
            content.update(refund_amount=yuan(refund["amount"]), refund_status="REFUND_SUCCESS")
        return content

    # -- trade bills ------------------------------------------------------------

    def bill_rows(self, bill_date: str) -> list[list[str]]:
        """The 业务明细 rows (25 columns, unpadded) of the Beijing ``bill_date``: payments and refunds, by time."""
        rows: list[tuple[datetime, list[str]]] = []
        for trade in self.trades.values():
            if trade["paid_at"] is not None and beijing(trade["paid_at"])[:10] == bill_date:
                paid = beijing(trade["paid_at"])
                rows.append((trade["paid_at"], [
                    trade["trade_no"], trade["out_trade_no"], "交易", trade["subject"], beijing(trade["created_at"]),
                    paid, "", "", "", "", "159****5620", yuan(trade["total"]), yuan(trade["total"]), "0.00", "0.00",
                    "0.00", "0.00", "0.00", "", "0.00", "0.00", "", "-" + yuan((trade["total"] * 6 + 500) // 1000),
                    "0.00", ""]))
            for number, refund in trade["refunds"].items():
                if beijing(refund["at"])[:10] == bill_date:
                    rows.append((refund["at"], [
                        trade["trade_no"], trade["out_trade_no"], "退款", trade["subject"],
                        beijing(trade["created_at"]), beijing(refund["at"]), "", "", "", "", "159****5620",
                        "-" + yuan(refund["amount"]), "-" + yuan(refund["amount"]), "0.00", "0.00", "0.00", "0.00",
                        "0.00", "", "0.00", "0.00", number, yuan((refund["amount"] * 6 + 500) // 1000), "0.00", ""]))
        return [row for _, row in sorted(rows, key=lambda pair: pair[0])]

    def bill_zip(self, bill_date: str) -> bytes:
        """The zip Alipay serves: 业务明细 (comment lines, markers, header, tab-padded rows, totals) and 汇总."""
        rows = self.bill_rows(bill_date)
        if self.bill_edit is not None:
            rows = self.bill_edit(rows)
        day = bill_date.replace("-", "")
        start = f"{bill_date[:4]}年{bill_date[5:7]}月{bill_date[8:]}日 00:00:00"
        after = (datetime.strptime(bill_date, "%Y-%m-%d") + timedelta(days=1)).strftime("%Y年%m月%d日 00:00:00")
        trades = [r for r in rows if r[2] == "交易"]
        refunds = [r for r in rows if r[2] == "退款"]
        detail = [
            "#支付宝业务明细查询", f"#账号：[{self.seller_id}0156]", f"#起始日期：[{start}]   终止日期：[{after}]",
            "#-----------------------------------------业务明细列表----------------------------------------",
            ",".join(ALIPAY_BILL_HEADER),
            *(",".join(field + "\t" if n in (0, 1, 2, 10, 21) else field for n, field in enumerate(row))
              for row in rows),
            "#-----------------------------------------业务明细列表结束------------------------------------",
            f"#交易合计：{len(trades)}笔，商家实收共{_signed_yuan(sum(fen_signed(r[12]) for r in trades))}元，商家优惠共0.00元",
            f"#退款合计：{len(refunds)}笔，商家实收退款共{_signed_yuan(sum(fen_signed(r[12]) for r in refunds))}元，"
            "商家优惠退款共0.00元",
            "#导出时间：[2026年01月06日 09:30:00]",
        ]
        summary = ["#支付宝业务汇总查询", "门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）",
                   f",合计,{len(trades)},{len(refunds)},0.00,0.00"]
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, lines in ((f"{self.seller_id}0156_{day}_业务明细.csv", detail),
                                (f"{self.seller_id}0156_{day}_业务明细(汇总).csv", summary)):
                archive.writestr(_GbkName(name), ("\r\n".join(lines) + "\r\n").encode("gbk"))
        return out.getvalue()

    def _bill_url(self, biz: dict[str, Any]) -> dict[str, Any]:
        bill_date = biz.get("bill_date", "")
        if biz.get("bill_type") != "trade" or len(bill_date) != 10:
            return _failed("isv.invalid-arguments", "参数不合法", "40002")
        if not self.bill_rows(bill_date) and self.bill_edit is None:
            return _failed("isp.bill_not_exist", "账单不存在")
        data = self.bill_zip(bill_date)
        if self.bill_tamper is not None:
            data = self.bill_tamper(data)
        token = secrets.token_hex(16)
        self.bill_files[token] = data
        day = bill_date.replace("-", "")
        host = self.url.removesuffix("/gateway.do")
        return {"code": "10000", "msg": "Success", "bill_download_url": (
            f"{host}/downloadBillFile.resource?bizType=trade&userId={self.seller_id}0156&fileType=csv.zip"
            f"&bizDates={day}&downloadFileName={self.seller_id}0156_{day}.csv.zip&token={token}")}


ALIPAY_BILL_HEADER = ("支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,"
                      "订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,"
                      "券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注").split(",")


def fen_signed(text: str) -> int:
    return -fen(text[1:]) if text.startswith("-") else fen(text)


def _signed_yuan(value: int) -> str:
    return "-" + yuan(-value) if value < 0 else yuan(value)


class _GbkName(zipfile.ZipInfo):
    """A zip entry whose name is stored in GBK without the UTF-8 flag, as Alipay's bill zips are."""

    def __init__(self, name: str) -> None:
        super().__init__(name, date_time=(2026, 1, 6, 9, 30, 0))
        self.compress_type = zipfile.ZIP_DEFLATED

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # noqa: N802 - zipfile's own hook
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def _failed(sub_code: str, sub_msg: str, code: str = "40004") -> dict[str, Any]:
    return {"code": code, "msg": "Business Failed", "sub_code": sub_code, "sub_msg": sub_msg}

