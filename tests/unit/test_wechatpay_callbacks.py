"""WeChat Pay payment notifications: verification, replays, idempotency and a mutation fuzz.

Callbacks are made by the stub (independent code: ``cryptography`` directly)
without serving HTTP: ``parse_callback`` needs no network.
"""

from __future__ import annotations

import base64
import json
import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.wechatpay import WeChatPayGateway, callbacks
from massage_core.domain.errors import PaymentError
from massage_core.domain.payments import PaymentMethod, PaymentNotice, PaymentStatus
from payment_contract import ORDER, OTHER_ORDER, PRICE, payment_error
from wechatpay_kit import APP_APPID, APPID, MCHID, OPENID, START, clock, config, keys, make_stub, offline  # noqa: F401
from wechatpay_stub import WeChatPayStub, beijing

Callback = tuple[dict[str, str], bytes]
PAID_AT = beijing(START.timestamp())


@pytest.fixture
def maker(clock: FixedClock) -> WeChatPayStub:
    return make_stub(clock)


def transaction(**changes: Any) -> dict[str, Any]:
    """A paid JSAPI transaction as WeChat encrypts it into a notification; None removes a key."""
    data: dict[str, Any] = {
        "appid": APPID, "mchid": MCHID, "out_trade_no": ORDER, "transaction_id": "4200000000000000000000000001",
        "trade_type": "JSAPI", "trade_state": "SUCCESS", "trade_state_desc": "支付成功", "bank_type": "OTHERS",
        "attach": "", "success_time": PAID_AT, "payer": {"openid": OPENID},
        "amount": {"total": PRICE.fen, "payer_total": PRICE.fen, "currency": "CNY", "payer_currency": "CNY"},
    }
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    return data


def sealed_body(plaintext: bytes, *, key: bytes | None = None, associated: str = "transaction",
                nonce: str = "0123456789ab", **outer: Any) -> bytes:
    """A notification body around ``plaintext`` (encrypted as given), with ``outer`` fields replaced."""
    sealed = AESGCM(key or config().apiv3_key).encrypt(nonce.encode(), plaintext, associated.encode())
    body: dict[str, Any] = {
        "id": "EV-0001", "create_time": PAID_AT, "resource_type": "encrypt-resource",
        "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功",
        "resource": {"original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
                     "ciphertext": base64.b64encode(sealed).decode(), "associated_data": associated, "nonce": nonce},
    }
    body.update(outer)
    return json.dumps(body, ensure_ascii=False).encode()


# -- accepted notifications ---------------------------------------------------------


def test_paid_notification_is_decrypted_and_mapped(offline: WeChatPayGateway, maker: WeChatPayStub) -> None:
    notice = offline.parse_callback(*maker.notification(transaction()))
    assert notice == PaymentNotice(method=PaymentMethod.WECHAT, provider_transaction_id="4200000000000000000000000001",
                                   order_reference=ORDER, amount=PRICE, status=PaymentStatus.PAID, paid_at=START)
    app = offline.parse_callback(*maker.notification(transaction(appid=APP_APPID, trade_type="APP")))
    assert app.order_reference == ORDER and offline.accepted_notices == 2


@pytest.mark.parametrize(("state", "status"), [("CLOSED", PaymentStatus.CLOSED), ("REVOKED", PaymentStatus.CLOSED),
                                               ("PAYERROR", PaymentStatus.FAILED)])
def test_unpaid_outcomes_are_announced(offline: WeChatPayGateway, maker: WeChatPayStub, state: str,
                                       status: PaymentStatus) -> None:
    notice = offline.parse_callback(*maker.notification(transaction(trade_state=state, success_time=None)))
    assert (notice.status, notice.paid_at) == (status, None)


def test_notification_signed_under_the_certificate_serial(offline: WeChatPayGateway, maker: WeChatPayStub) -> None:
    headers, body = maker.notification(transaction(), serial=keys().platform_cert_serial)
    assert offline.parse_callback(headers, body).order_reference == ORDER


# -- refused notifications ------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (transaction(appid="wx0ther0ther0ther0"), "payment.mismatch"),
        (transaction(mchid="1900000999"), "payment.mismatch"),
        (transaction(trade_state="NOTPAY"), "payment.malformed"),
        (transaction(trade_state="BOGUS"), "payment.malformed"),
        (transaction(trade_state=None), "payment.malformed"),
        (transaction(success_time=None), "payment.malformed"),
        (transaction(success_time="2026-01-05T10:00:00"), "payment.malformed"),
        (transaction(success_time="yesterday"), "payment.malformed"),
        (transaction(transaction_id=None), "payment.malformed"),
        (transaction(transaction_id=""), "payment.malformed"),
        (transaction(transaction_id=42), "payment.malformed"),
        (transaction(out_trade_no="bad ref"), "payment.malformed"),
        (transaction(amount={"total": "19800", "currency": "CNY"}), "payment.malformed"),
        (transaction(amount={"total": 0, "currency": "CNY"}), "payment.malformed"),
        (transaction(amount={"total": -1, "currency": "CNY"}), "payment.malformed"),
        (transaction(amount={"total": 100, "currency": "USD"}), "payment.malformed"),
        (transaction(amount={"total": True, "currency": "CNY"}), "payment.malformed"),
        (transaction(amount=19800), "payment.malformed"),
        ([transaction()], "payment.malformed"),
    ],
)
def test_signed_notification_with_bad_content_is_refused(
    offline: WeChatPayGateway, maker: WeChatPayStub, data: Any, code: str
) -> None:
    body = sealed_body(json.dumps(data).encode())
    with payment_error(code):
        offline.parse_callback(maker.signed_headers(body), body)
    assert offline.accepted_notices == 0


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"not json", "payment.malformed"),
        (b"\xff\xfe", "payment.malformed"),
        (b"[]", "payment.malformed"),
        (sealed_body(b"not json inside"), "payment.malformed"),
        (sealed_body(b"{}", resource_type="plain"), "payment.malformed"),
        (sealed_body(b"{}", event_type="REFUND.SUCCESS"), "payment.malformed"),
        (sealed_body(b"{}", resource={"algorithm": "AES_128_CBC", "ciphertext": "AA==", "nonce": "n"}),
         "payment.malformed"),
        (sealed_body(b"{}", resource={"algorithm": "AEAD_AES_256_GCM", "ciphertext": "not base64!", "nonce": "n"}),
         "payment.malformed"),
        (sealed_body(b"{}", resource={"algorithm": "AEAD_AES_256_GCM", "ciphertext": "AAAA", "nonce": ""}),
         "payment.malformed"),
        (sealed_body(json.dumps(transaction()).encode(), key=b"k" * 32), "payment.signature"),
        (b" " * (16 * 1024 + 1), "payment.malformed"),
    ],
)
def test_signed_but_unreadable_body_is_refused(
    offline: WeChatPayGateway, maker: WeChatPayStub, body: bytes, code: str
) -> None:
    with payment_error(code):
        offline.parse_callback(maker.signed_headers(body), body)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"Wechatpay-Timestamp": None}, "payment.malformed"),
        ({"Wechatpay-Timestamp": "soon"}, "payment.malformed"),
        ({"Wechatpay-Timestamp": "-1"}, "payment.malformed"),
        ({"Wechatpay-Timestamp": "1" * 13}, "payment.malformed"),
        ({"Wechatpay-Nonce": None}, "payment.malformed"),
        ({"Wechatpay-Nonce": "has space"}, "payment.malformed"),
        ({"Wechatpay-Nonce": "x" * 65}, "payment.malformed"),
        ({"Wechatpay-Signature": None}, "payment.signature"),
        ({"Wechatpay-Signature": "not base64!"}, "payment.signature"),
        ({"Wechatpay-Signature": "签名"}, "payment.signature"),
        ({"Wechatpay-Serial": None}, "payment.signature"),
        ({"Wechatpay-Serial": "PUB_KEY_ID_UNKNOWN"}, "payment.signature"),
        ({"Wechatpay-Signature-Type": "WECHATPAY2-SM2-WITH-SM3"}, "payment.signature"),
    ],
)
def test_bad_headers_are_refused(
    offline: WeChatPayGateway, maker: WeChatPayStub, change: dict[str, str | None], code: str
) -> None:
    headers, body = maker.notification(transaction())
    for name, value in change.items():
        if value is None:
            del headers[name]
        else:
            headers[name] = value
    with payment_error(code):
        offline.parse_callback(headers, body)


def test_signature_by_another_key_is_refused(offline: WeChatPayGateway, maker: WeChatPayStub) -> None:
    with payment_error("payment.signature"):
        offline.parse_callback(*maker.notification(transaction(), key=keys().attacker))


@pytest.mark.parametrize("headers", [None, [("a", "b")], {"a": 1}, {1: "a"}])
def test_headers_of_the_wrong_type_are_refused(offline: WeChatPayGateway, headers: object) -> None:
    with payment_error("payment.malformed"):
        offline.parse_callback(headers, b"{}")  # type: ignore[arg-type]


def test_body_of_the_wrong_type_is_refused(offline: WeChatPayGateway, maker: WeChatPayStub) -> None:
    headers, body = maker.notification(transaction())
    with payment_error("payment.malformed"):
        offline.parse_callback(headers, body.decode())  # type: ignore[arg-type]


def test_conflicting_duplicate_headers_are_refused(offline: WeChatPayGateway, maker: WeChatPayStub) -> None:
    headers, body = maker.notification(transaction())
    with payment_error("payment.malformed"):
        offline.parse_callback({**headers, "wechatpay-nonce": "another"}, body)
    same = {**headers, "WECHATPAY-NONCE": headers["Wechatpay-Nonce"]}
    assert offline.parse_callback(same, body).order_reference == ORDER


@pytest.mark.parametrize("seconds", [301, -301])
def test_stale_notifications_are_refused(offline: WeChatPayGateway, maker: WeChatPayStub, seconds: int) -> None:
    stamp = int(START.timestamp()) + seconds
    with payment_error("payment.stale"):
        offline.parse_callback(*maker.notification(transaction(), timestamp=stamp))
    assert offline.parse_callback(*maker.notification(transaction(), timestamp=stamp - (1 if seconds > 0 else -1)))


# -- replays -----------------------------------------------------------------------------


def test_nonce_reused_with_other_content_is_refused(offline: WeChatPayGateway, maker: WeChatPayStub) -> None:
    original = maker.notification(transaction(), nonce="N0NCE")
    first = offline.parse_callback(*original)
    for changed in (transaction(amount={"total": 1, "currency": "CNY"}), transaction(out_trade_no=OTHER_ORDER)):
        with payment_error("payment.replay"):
            offline.parse_callback(*maker.notification(changed, nonce="N0NCE"))
    later = maker.notification(transaction(), nonce="N0NCE", timestamp=int(START.timestamp()) + 1)
    with payment_error("payment.replay"):
        offline.parse_callback(*later)
    assert offline.parse_callback(*original) == first and offline.accepted_notices == 1


def test_nonces_are_forgotten_after_the_window_and_memory_is_bounded(
    offline: WeChatPayGateway, maker: WeChatPayStub, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(callbacks, "MAX_NONCES", 5)
    for index in range(8):
        offline.parse_callback(*maker.notification(transaction(transaction_id=f"42{index:026d}")))
    assert len(offline._callbacks._seen) <= 5
    clock.advance(timedelta(minutes=6))
    offline.parse_callback(*maker.notification(transaction()))
    assert len(offline._callbacks._seen) == 1


def fixtures(maker: WeChatPayStub) -> list[Callback]:
    """One callback of each kind WeChat sends for a payment."""
    return [
        maker.notification(transaction()),
        maker.notification(transaction(appid=APP_APPID, trade_type="APP", out_trade_no=OTHER_ORDER)),
        maker.notification(transaction(trade_state="CLOSED", success_time=None)),
        maker.notification(transaction(trade_state="PAYERROR", success_time=None)),
        maker.notification(transaction(trade_state="REFUND")),
    ]


@pytest.mark.parametrize("index", range(5))
def test_every_fixture_replayed_in_sequence_and_concurrently_gives_one_notice(
    offline: WeChatPayGateway, maker: WeChatPayStub, index: int
) -> None:
    headers, body = fixtures(maker)[index]
    first = offline.parse_callback(headers, body)
    assert [offline.parse_callback(headers, body) for _ in range(3)] == [first] * 3
    barrier = threading.Barrier(10)

    def deliver(_: int) -> PaymentNotice:
        barrier.wait()
        return offline.parse_callback(dict(headers), bytes(body))

    with ThreadPoolExecutor(max_workers=10) as pool:
        assert set(pool.map(deliver, range(10))) == {first}
    assert offline.accepted_notices == 1


def test_concurrent_first_deliveries_are_accepted_once(offline: WeChatPayGateway, maker: WeChatPayStub) -> None:
    headers, body = maker.notification(transaction())
    barrier = threading.Barrier(10)

    def deliver(_: int) -> PaymentNotice:
        barrier.wait()
        return offline.parse_callback(headers, body)

    with ThreadPoolExecutor(max_workers=10) as pool:
        assert len(set(pool.map(deliver, range(10)))) == 1
    assert offline.accepted_notices == 1


# -- the mutation fuzz ---------------------------------------------------------------------


def _flip(rng: random.Random, data: bytes) -> bytes:
    index = rng.randrange(len(data))
    return data[:index] + bytes([data[index] ^ (1 << rng.randrange(8))]) + data[index + 1:]


def _flip_text(rng: random.Random, text: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    index = rng.randrange(len(text))
    return text[:index] + rng.choice([c for c in alphabet if c != text[index]]) + text[index + 1:]


def _mutated(rng: random.Random, maker: WeChatPayStub, headers: dict[str, str], body: bytes) -> Callback:
    """One hostile variant of an accepted callback (never a legitimately signed new one)."""
    outer = json.loads(body)
    resource = outer["resource"]
    sealed = base64.b64decode(resource["ciphertext"])
    stamp, nonce = int(headers["Wechatpay-Timestamp"]), headers["Wechatpay-Nonce"]
    op = rng.randrange(14)
    if op == 0:  # body bits
        return headers, _flip(rng, body)
    if op == 1:  # body truncated or extended
        cut = rng.randrange(len(body))
        return headers, (body[:cut] if rng.random() < 0.5 else body + bytes([rng.randrange(256)]))
    if op == 2:  # signature damaged
        return {**headers, "Wechatpay-Signature": _flip_text(rng, headers["Wechatpay-Signature"][:-2]) + "=="}, body
    if op == 3:  # timestamp moved (signed, so refused as signature; or stale)
        return {**headers, "Wechatpay-Timestamp": str(stamp + rng.choice([-1, 1]) * rng.randrange(1, 10**6))}, body
    if op == 4:  # nonce or serial changed
        name = rng.choice(["Wechatpay-Nonce", "Wechatpay-Serial"])
        return {**headers, name: _flip_text(rng, headers[name])}, body
    if op == 5:  # a header dropped (the optional Signature-Type is not signed, so it is not a mutation)
        name = rng.choice(["Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Serial"])
        return {k: v for k, v in headers.items() if k != name}, body
    # Changes inside the resource: GCM tag, ciphertext (amount, ids), resource nonce, associated data.
    part = rng.randrange(5)
    changed = dict(resource)
    if part == 0:  # GCM tag
        changed["ciphertext"] = base64.b64encode(sealed[:-16] + _flip(rng, sealed[-16:])).decode()
    elif part == 1:  # ciphertext bytes (where amount, out_trade_no, transaction_id are)
        changed["ciphertext"] = base64.b64encode(_flip(rng, sealed[:-16]) + sealed[-16:]).decode()
    elif part == 2:
        changed["nonce"] = _flip_text(rng, resource["nonce"])
    elif part == 3:
        changed["associated_data"] = rng.choice(["", "certificate", "transactioN", "transaction "])
    else:  # a plaintext with another amount or ids, encrypted with our key (only WeChat could sign it)
        plain = transaction(amount={"total": rng.randrange(1, 10**6), "currency": "CNY"},
                            out_trade_no=rng.choice([ORDER, OTHER_ORDER]),
                            transaction_id=f"42{rng.randrange(10**20):026d}")
        changed["nonce"] = "fuzznonce012"
        changed["ciphertext"] = base64.b64encode(AESGCM(config().apiv3_key).encrypt(
            b"fuzznonce012", json.dumps(plain).encode(), resource["associated_data"].encode())).decode()
    new_body = json.dumps({**outer, "resource": changed}, ensure_ascii=False).encode()
    how = op % 4
    if how == 0:  # not re-signed
        return headers, new_body
    if how == 1:  # re-signed by an attacker under the platform's serial
        return maker.signed_headers(new_body, timestamp=stamp, key=keys().attacker), new_body
    if how == 2 and part != 4:  # re-signed by the platform, fresh nonce: only a corrupted resource (never valid)
        return maker.signed_headers(new_body, timestamp=stamp), new_body
    return maker.signed_headers(new_body, timestamp=stamp, nonce=nonce), new_body  # platform, same nonce: replay


def test_mutated_callbacks_are_all_refused(offline: WeChatPayGateway, maker: WeChatPayStub) -> None:
    rng = random.Random(20260105)
    originals = [maker.notification(transaction()),
                 maker.notification(transaction(out_trade_no=OTHER_ORDER, amount={"total": 1, "currency": "CNY"}))]
    accepted = [offline.parse_callback(*callback) for callback in originals]
    codes: Counter[str] = Counter()
    cases = 0
    while cases < 3000:
        headers, body = originals[cases % 2]
        mutated_headers, mutated_body = _mutated(rng, maker, dict(headers), body)
        if (mutated_headers, mutated_body) == (headers, body):
            continue
        cases += 1
        try:
            notice = offline.parse_callback(mutated_headers, mutated_body)
        except PaymentError as refused:
            codes[refused.code] += 1
        else:
            pytest.fail(f"mutated callback accepted: {notice} from {mutated_headers} {mutated_body[:200]!r}")
    assert offline.accepted_notices == 2
    assert [offline.parse_callback(*callback) for callback in originals] == accepted
    assert {"payment.signature", "payment.replay", "payment.malformed"} <= set(codes), codes
    assert sum(codes.values()) == 3000
