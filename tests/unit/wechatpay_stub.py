"""A local stub of WeChat Pay API v3 on 127.0.0.1, written independently of the adapter.

It checks every request's Authorization (merchant key, serial, mchid,
timestamp within 5 minutes), keeps orders and refunds as WeChat does
(same out_trade_no and terms: the same prepay id; same out_refund_no: the same
refund), signs every answer with the platform key, and produces payment
notifications with the resource encrypted under the APIv3 key.  ``faults``
queues misbehaviour for the next answers (see ``_fault``).
"""

from __future__ import annotations

import base64
import collections
import contextlib
import itertools
import json
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterator
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
