"""Signed calls to the Alipay gateway: sign every request, verify every response over its exact JSON text."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from massage_core.adapters.alipay.config import AlipayConfig
from massage_core.adapters.alipay.signing import request_content, response_members, sign, verify
from massage_core.adapters.alipay.transport import Transport, unavailable
from massage_core.adapters.alipay.wire import format_time
from massage_core.domain.errors import PaymentError
from massage_core.ports.clock import Clock

SUCCESS = "10000"
BUSINESS_FAILED = "40004"
SERVICE_UNAVAILABLE = "20000"


class AlipayClient:
    """Builds the common parameters, signs them RSA2, posts them and returns the verified answer."""

    def __init__(self, config: AlipayConfig, clock: Clock, transport: Transport) -> None:
        self._config = config
        self._clock = clock
        self._transport = transport

    def signed(self, method: str, biz: Mapping[str, str], **extra: str | None) -> dict[str, str]:
        """The common parameters plus ``biz_content`` (and ``extra`` when not empty), signed RSA2."""
        params = {
            "app_id": self._config.app_id, "method": method, "format": "JSON", "charset": "utf-8",
            "sign_type": "RSA2", "timestamp": format_time(self._clock.now()), "version": "1.0",
            "biz_content": json.dumps(dict(biz), ensure_ascii=False, separators=(",", ":")),
        }
        params.update({key: value for key, value in extra.items() if value})
        params["sign"] = sign(self._config.private_key, request_content(params))
        return params

    def call(self, method: str, biz: Mapping[str, str]) -> tuple[str, str, dict[str, Any]]:
        """Send a signed request; (code, sub_code, verified response content); unavailable for anything unusable."""
        body = self._transport.post_form(self._config.gateway_url, self.signed(method, biz))
        try:
            members = response_members(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise unavailable("response is not a JSON object") from None
        raw, content = members.get(method.replace(".", "_") + "_response", (None, None))
        signature = members.get("sign", (None, None))[1]
        if raw is None or not isinstance(content, dict):
            raise unavailable("response lacks the " + method + " answer")
        code, sub_code = content.get("code"), content.get("sub_code", "")
        if signature is None and code != SUCCESS:
            raise unavailable(f"unsigned error response {code} {sub_code}"[:120])
        if not isinstance(signature, str) or not verify(self._config.public_key, raw, signature):
            raise unavailable(f"the answer to {method} does not verify with the Alipay public key")
        if code == SUCCESS:
            return SUCCESS, "", content
        if code == BUSINESS_FAILED and isinstance(sub_code, str) and sub_code:
            return BUSINESS_FAILED, sub_code, content
        if code == SERVICE_UNAVAILABLE:
            raise unavailable(f"{code} {sub_code}"[:120])
        # 20001 / 40001 / 40002 / 40006: our credentials, parameters or permissions -- retrying will not help
        raise PaymentError(f"Alipay refused {method}: {code} {sub_code} {content.get('sub_msg', '')}"[:200],
                           code="payment.refused")

