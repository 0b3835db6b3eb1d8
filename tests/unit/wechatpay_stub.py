"""A local stub of WeChat Pay API v3 on 127.0.0.1, written independently of the adapter.

It checks every request's Authorization (merchant key, serial, mchid,
timestamp within 5 minutes), keeps orders and refunds as WeChat does
(same out_trade_no and terms: the same prepay id; same out_refund_no: the same
refund), signs every answer with the platform key, and produces payment
notifications with the resource encrypted under the APIv3 key.  ``faults``
queues misbehaviour for the next answers (see ``_fault``).

Trade bills: ``GET /v3/bill/tradebill`` answers ``download_url``/``SHA1``/``hash_value`` for the ALL bill of a
Beijing day built from the payments and refunds the stub processed (27 backtick-prefixed columns, then the
summary), and ``GET /v3/billdownload/file`` (signed request, unsigned answer) serves it.  ``bill_edit`` changes
the detail rows before the bill is written and hashed (WeChat's own bill disagrees); ``bill_tamper`` changes the
bytes after hashing (a corrupted download).
"""

from __future__ import annotations

import base64
import collections
import contextlib
import gzip
import itertools
import json
import re
import secrets
import socket
import threading
import hashlib
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from massage_core.adapters.memory.clock import FixedClock

_AUTH = re.compile(r'^WECHATPAY2-SHA256-RSA2048 (.*)$')
_PAIR = re.compile(r'(\w+)="([^"]*)"')
_ORDER_PATH = re.compile(r"^/v3/pay/transactions/out-trade-no/([^/?]+)(/close)?$")
_REFUND_PATH = re.compile(r"^/v3/refund/domestic/refunds(?:/([^/?]+))?$")
Answer = tuple[int, Any]


def rsa_sign(key: rsa.RSAPrivateKey, message: bytes) -> str:
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def beijing(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(int(seconds) + 8 * 3600))


class WeChatPayStub:
    def __init__(self, *, clock: FixedClock, mchid: str, appids: tuple[str, ...], apiv3_key: bytes,
                 merchant_public_key: rsa.RSAPublicKey, merchant_serial: str, platform_key: rsa.RSAPrivateKey,
                 platform_serial: str) -> None:
        self.clock, self.mchid, self.appids, self.apiv3_key = clock, mchid, appids, apiv3_key
        self.merchant_public_key, self.merchant_serial = merchant_public_key, merchant_serial
        self.platform_key, self.platform_serial = platform_key, platform_serial
        self.orders: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.faults: collections.deque[str] = collections.deque()
        self.refund_status = "SUCCESS"
        self.balance_fen: int | None = None
        self.url = ""
        self.bill_edit: Callable[[list[list[str]]], list[list[str]]] | None = None
        self.bill_tamper: Callable[[bytes], bytes] | None = None
        self.bill_files: dict[str, bytes] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # -- serving ------------------------------------------------------------

    @contextlib.contextmanager
    def serving(self) -> Iterator[WeChatPayStub]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {name: value for name, value in self.headers.items()}
                status, out_headers, out_body = stub.answer(self.command, self.path, headers, body)
                if status == 0:  # fault: hang up without answering
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(status)
                for name, value in out_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(out_body)))
                self.end_headers()
                self.wfile.write(out_body)

            do_GET = do_POST = _serve

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        thread.start()
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()

    def answer(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.requests.append((method, target, headers, body))
            fault = self.faults.popleft() if self.faults else None
            if fault == "http500":
                return 500, {}, b"<html>Internal Server Error</html>"
            if fault == "hangup":
                return 0, {}, b""
            if fault == "slow":
                time.sleep(0.5)
            if not self._authorized(method, target, headers, body):
                status, data = 401, {"code": "SIGN_ERROR", "message": "签名错误"}
            elif method == "GET" and urlsplit(target).path == "/v3/billdownload/file":  # WeChat signs no file
                token = parse_qs(urlsplit(target).query).get("token", [""])[0]
                found = self.bill_files.get(token)
                if found is None:
                    return 400, {"Content-Type": "application/json"}, b'{"code":"INVALID_REQUEST","message":"expired"}'
                return 200, {"Content-Type": "application/octet-stream"}, found
            else:
                status, data = self._route(method, target, body)
        out = b"" if data is None else json.dumps(data, ensure_ascii=False).encode()
        if status == 401:  # WeChat does not sign its answer to a request it could not authenticate
            return status, {"Content-Type": "application/json; charset=utf-8"}, out
        if fault == "not_json":
            out = b"{not json"
        signed = self.signed_headers(out)
        if fault == "unsigned":
            signed = {}
        elif fault == "bad_signature":
            signed["Wechatpay-Signature"] = rsa_sign(self.platform_key, b"something else\n")
        elif fault == "unknown_serial":
            signed["Wechatpay-Serial"] = "PUB_KEY_ID_UNKNOWN"
        elif fault == "stale":
            signed = self.signed_headers(out, timestamp=int(self.clock.now().timestamp()) - 301)
        elif fault == "tampered":
            out = out.replace(b"SUCCESS", b"REFUND_").replace(b"prepay", b"Prepay")
        return status, {"Content-Type": "application/json; charset=utf-8", "Request-ID": secrets.token_hex(8), **signed}, out

    def signed_headers(self, body: bytes, *, timestamp: int | None = None, nonce: str | None = None,
                       key: rsa.RSAPrivateKey | None = None, serial: str | None = None) -> dict[str, str]:
        stamp = str(int(self.clock.now().timestamp()) if timestamp is None else timestamp)
        nonce = nonce or secrets.token_hex(16).upper()
        message = f"{stamp}\n{nonce}\n".encode() + body + b"\n"
        return {
            "Wechatpay-Timestamp": stamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": rsa_sign(key or self.platform_key, message),
            "Wechatpay-Serial": serial or self.platform_serial,
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
        }

    def _authorized(self, method: str, target: str, headers: dict[str, str], body: bytes) -> bool:
        found = _AUTH.match(next((v for k, v in headers.items() if k.lower() == "authorization"), ""))
        fields = dict(_PAIR.findall(found.group(1))) if found else {}
        if set(fields) != {"mchid", "nonce_str", "signature", "timestamp", "serial_no"}:
            return False
        if fields["mchid"] != self.mchid or fields["serial_no"] != self.merchant_serial:
            return False
        if abs(int(fields["timestamp"]) - int(self.clock.now().timestamp())) > 300:
            return False
        message = f"{method}\n{target}\n{fields['timestamp']}\n{fields['nonce_str']}\n".encode() + body + b"\n"
        try:
            self.merchant_public_key.verify(base64.b64decode(fields["signature"]), message, padding.PKCS1v15(),
                                            hashes.SHA256())
        except (InvalidSignature, ValueError):
            return False
        return True

    # -- WeChat Pay's behaviour -------------------------------------------------

    def _route(self, method: str, target: str, body: bytes) -> Answer:
        parts = urlsplit(target)
        data: Any = json.loads(body) if body else None
        if method == "POST" and parts.path in ("/v3/pay/transactions/jsapi", "/v3/pay/transactions/app"):
            return self._create(parts.path.rsplit("/", 1)[1], data)
        order = _ORDER_PATH.match(parts.path)
        if order and method == "GET" and order.group(2) is None:
            if parse_qs(parts.query).get("mchid") != [self.mchid]:
                return 400, {"code": "PARAM_ERROR", "message": "mchid"}
            return self._query(order.group(1))
        if order and method == "POST" and order.group(2):
            return self._close(order.group(1), data)
        if method == "GET" and parts.path == "/v3/bill/tradebill":
            return self._tradebill(parse_qs(parts.query))
        refund = _REFUND_PATH.match(parts.path)
        if refund and method == "POST" and refund.group(1) is None:
            return self._refund(data)
        if refund and method == "GET" and refund.group(1):
            found = self.refunds.get(refund.group(1))
            return (200, found) if found else (404, {"code": "RESOURCE_NOT_EXISTS", "message": "退款单不存在"})
        return 404, {"code": "NOT_FOUND", "message": target}

    def _create(self, kind: str, data: Any) -> Answer:
        if data.get("mchid") != self.mchid or data.get("appid") not in self.appids:
            return 403, {"code": "APPID_MCHID_NOT_MATCH", "message": "appid和mch_id不匹配"}
        if kind == "jsapi" and not data.get("payer", {}).get("openid"):
            return 400, {"code": "PARAM_ERROR", "message": "缺少参数 payer.openid"}
        amount = data.get("amount", {})
        if type(amount.get("total")) is not int or amount["total"] <= 0 or amount.get("currency", "CNY") != "CNY":
            return 400, {"code": "PARAM_ERROR", "message": "amount"}
        reference = data["out_trade_no"]
        terms = {**data, "kind": kind}
        existing = self.orders.get(reference)
        if existing is not None:
            if existing["trade_state"] in ("SUCCESS", "REFUND"):
                return 400, {"code": "ORDERPAID", "message": "该订单已支付"}
            if existing["trade_state"] == "CLOSED":
                return 400, {"code": "ORDER_CLOSED", "message": "订单已关闭"}
            if existing["terms"] != terms:
                return 400, {"code": "OUT_TRADE_NO_USED", "message": "商户订单号重复"}
            return 200, {"prepay_id": existing["prepay_id"]}
        prepay_id = f"wx{int(self.clock.now().timestamp())}{next(self._ids):010d}"
        self.orders[reference] = {"terms": terms, "trade_state": "NOTPAY", "prepay_id": prepay_id}
        return 200, {"prepay_id": prepay_id}

    def transaction(self, reference: str) -> dict[str, Any]:
        order = self.orders[reference]
        terms = order["terms"]
        total = terms["amount"]["total"]
        data: dict[str, Any] = {
            "appid": terms["appid"], "mchid": self.mchid, "out_trade_no": reference,
            "trade_state": order["trade_state"], "trade_state_desc": order["trade_state"],
            "amount": {"total": total, "payer_currency": "CNY"},
        }
        if order["trade_state"] in ("SUCCESS", "REFUND"):
            data.update(transaction_id=order["transaction_id"], trade_type=terms["kind"].upper(), bank_type="OTHERS",
                        attach="", success_time=order["success_time"], payer=terms.get("payer", {"openid": ""}))
            data["amount"].update(payer_total=total, currency="CNY")
        return data

    def _query(self, reference: str) -> Answer:
        if reference not in self.orders:
            return 404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"}
        return 200, self.transaction(reference)

    def _close(self, reference: str, data: Any) -> Answer:
        if data != {"mchid": self.mchid}:
            return 400, {"code": "PARAM_ERROR", "message": "mchid"}
        order = self.orders.get(reference)
        if order is None:
            return 404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"}
        if order["trade_state"] in ("SUCCESS", "REFUND"):
            return 400, {"code": "ORDERPAID", "message": "订单已支付"}
        order["trade_state"] = "CLOSED"
        return 204, None

    def _refund(self, data: Any) -> Answer:
        number, reference, amount = data["out_refund_no"], data["out_trade_no"], data["amount"]
        earlier = self.refunds.get(number)
        if earlier is not None:
            if earlier["out_trade_no"] != reference or earlier["amount"]["refund"] != amount["refund"]:
                return 400, {"code": "INVALID_REQUEST", "message": "退款单号已被使用"}
            return 200, earlier
        order = self.orders.get(reference)
        if order is None:
            return 404, {"code": "RESOURCE_NOT_EXISTS", "message": "订单不存在"}
        total = order["terms"]["amount"]["total"]
        if order["trade_state"] not in ("SUCCESS", "REFUND"):
            return 400, {"code": "INVALID_REQUEST", "message": "订单未支付"}
        if amount["total"] != total:
            return 400, {"code": "INVALID_REQUEST", "message": "订单金额与实际不一致"}
        refunded = sum(r["amount"]["refund"] for r in self.refunds.values()
                       if r["out_trade_no"] == reference and r["status"] != "CLOSED")
        if refunded + amount["refund"] > total:
            return 400, {"code": "INVALID_REQUEST", "message": "申请退款金额超过订单可退金额"}
        if self.balance_fen is not None and self.balance_fen < amount["refund"]:
            return 403, {"code": "NOT_ENOUGH", "message": "基本账户余额不足"}
        now = beijing(self.clock.now().timestamp())
        answer = {
            "refund_id": f"50300{next(self._ids):024d}", "out_refund_no": number,
            "transaction_id": order["transaction_id"], "out_trade_no": reference, "channel": "ORIGINAL",
            "user_received_account": "支付用户零钱", "create_time": now, "status": self.refund_status,
            "funds_account": "AVAILABLE",
            "amount": {"total": total, "refund": amount["refund"], "payer_total": total,
                       "payer_refund": amount["refund"], "settlement_refund": amount["refund"],
                       "settlement_total": total, "discount_refund": 0, "currency": "CNY"},
        }
        if self.refund_status == "SUCCESS":
            answer["success_time"] = now
        self.refunds[number] = answer
        order["trade_state"] = "REFUND"
        return 200, answer

    # -- trade bills -------------------------------------------------------------------

    def bill_rows(self, bill_date: str) -> list[list[str]]:
        """The detail rows (without backticks) of the ALL bill of the Beijing ``bill_date``, by time."""
        rows: list[tuple[str, list[str]]] = []
        for reference, order in self.orders.items():
            paid = order.get("success_time")
            if paid is None or paid[:10] != bill_date:
                continue
            terms, total = order["terms"], order["terms"]["amount"]["total"]
            rows.append((paid, [
                _bill_time(paid), terms["appid"], self.mchid, "0", "", order["transaction_id"], reference,
                terms.get("payer", {}).get("openid", ""), terms["kind"].upper(), "SUCCESS", "OTHERS", "CNY",
                _yuan(total), "0.00", "0", "0", "0.00", "0.00", "", "", terms["description"], "", _fee(total),
                "0.60%", _yuan(total), "0.00", ""]))
        for number, refund in self.refunds.items():
            if refund["create_time"][:10] != bill_date:
                continue
            order = self.orders[refund["out_trade_no"]]
            terms, amount = order["terms"], refund["amount"]["refund"]
            rows.append((refund["create_time"], [
                _bill_time(refund["create_time"]), terms["appid"], self.mchid, "0", "", refund["transaction_id"],
                refund["out_trade_no"], terms.get("payer", {}).get("openid", ""), terms["kind"].upper(), "REFUND",
                "OTHERS", "CNY", "0.00", "0.00", refund["refund_id"], number, _yuan(amount), "0.00", "ORIGINAL",
                refund["status"], terms["description"], "", _fee(-amount), "0.60%", _yuan(terms["amount"]["total"]),
                _yuan(amount), ""]))
        return [row for _, row in sorted(rows, key=lambda pair: pair[0])]

    def bill_bytes(self, bill_date: str) -> bytes:
        """The ALL bill as WeChat writes it: header, backticked rows, summary header and row, CRLF lines."""
        rows = self.bill_rows(bill_date)
        if self.bill_edit is not None:
            rows = self.bill_edit(rows)
        settled = sum(_cents(row[12]) for row in rows)
        refunded = sum(_cents(row[16]) for row in rows)
        fees = sum(_cents(row[22]) for row in rows)
        ordered = sum(_cents(row[24]) for row in rows)
        asked = sum(_cents(row[25]) for row in rows)
        lines = [",".join(BILL_HEADER)] + [",".join("`" + field for field in row) for row in rows]
        lines.append(",".join(BILL_SUMMARY))
        lines.append(",".join("`" + field for field in (
            str(len(rows)), _yuan(settled), _yuan(refunded), "0.00", _yuan(fees), _yuan(ordered), _yuan(asked))))
        return ("\r\n".join(lines) + "\r\n").encode("utf-8")

    def _tradebill(self, query: dict[str, list[str]]) -> Answer:
        bill_date = query.get("bill_date", [""])[0]
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", bill_date) or query.get("bill_type", ["ALL"]) != ["ALL"]:
            return 400, {"code": "PARAM_ERROR", "message": "bill_date/bill_type"}
        if not self.bill_rows(bill_date) and self.bill_edit is None:
            return 400, {"code": "NO_STATEMENT_EXIST", "message": "账单文件不存在"}
        data = self.bill_bytes(bill_date)
        digest = hashlib.sha1(data).hexdigest()
        if query.get("tar_type") == ["GZIP"]:  # the hash stays that of the uncompressed bill
            data = gzip.compress(data, mtime=0)
        if self.bill_tamper is not None:
            data = self.bill_tamper(data)
        token = secrets.token_urlsafe(24)
        self.bill_files[token] = data
        return 200, {"hash_type": "SHA1", "hash_value": digest,
                     "download_url": f"{self.url}/v3/billdownload/file?token={token}"}

    # -- the customer pays; WeChat notifies ---------------------------------------

    def pay(self, reference: str) -> tuple[dict[str, str], bytes]:
        """The customer pays the open order; returns the notification WeChat sends."""
        with self._lock:
            order = self.orders[reference]
            if order["trade_state"] == "NOTPAY":
                order.update(trade_state="SUCCESS", transaction_id=f"4200{next(self._ids):024d}",
                             success_time=beijing(self.clock.now().timestamp()))
            transaction = self.transaction(reference)
        return self.notification(transaction)

    def notification(self, transaction: dict[str, Any], *, event_type: str = "TRANSACTION.SUCCESS",
                     associated_data: str = "transaction", resource_nonce: str | None = None,
                     apiv3_key: bytes | None = None, **signing: Any) -> tuple[dict[str, str], bytes]:
        """A signed notification whose resource is ``transaction``, encrypted as WeChat does."""
        plaintext = json.dumps(transaction, ensure_ascii=False, separators=(",", ":")).encode()
        nonce = resource_nonce or secrets.token_hex(6)
        sealed = AESGCM(apiv3_key or self.apiv3_key).encrypt(nonce.encode(), plaintext, associated_data.encode())
        body = json.dumps({
            "id": f"EV-{secrets.token_hex(10)}", "create_time": beijing(self.clock.now().timestamp()),
            "resource_type": "encrypt-resource", "event_type": event_type, "summary": "支付成功",
            "resource": {"original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
                         "ciphertext": base64.b64encode(sealed).decode(), "associated_data": associated_data,
                         "nonce": nonce},
        }, ensure_ascii=False, separators=(",", ":")).encode()
        return self.signed_headers(body, **signing), body


BILL_HEADER = ("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,"
               "货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,"
               "商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注").split(",")
BILL_SUMMARY = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额".split(",")


def _yuan(fen: int) -> str:
    sign, fen = ("-", -fen) if fen < 0 else ("", fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def _cents(text: str) -> int:
    negative = text.startswith("-")
    whole, _, part = text.lstrip("-").partition(".")
    value = int(whole) * 100 + int((part or "0")[:2].ljust(2, "0"))
    return -value if negative else value


def _fee(fen: int) -> str:
    """WeChat's 0.6% fee, rounded half up to the fen (the stub's rate; the adapter does not read it)."""
    value = (abs(fen) * 6 + 500) // 1000
    return _yuan(-value if fen < 0 else value)


def _bill_time(rfc3339: str) -> str:
    """"2026-01-05T10:00:00+08:00" -> "2026-01-05 10:00:00" (Beijing, as the bill writes times)."""
    return rfc3339[:19].replace("T", " ")
