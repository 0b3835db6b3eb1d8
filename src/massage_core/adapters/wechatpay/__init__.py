"""WeChat Pay API v3 (直连商户 / direct merchant): a ``PaymentGateway`` adapter.

``WeChatPayGateway(config, clock)`` signs every request, verifies every
answer and callback with the platform keys named by their serial, decrypts
callback resources with the APIv3 key, and maps WeChat's states and error
codes to the port's.  See docs/decisions/0026-wechat-pay.md.

Modules: ``config`` (merchant settings and keys), ``signing`` (RSA
SHA256withRSA and AEAD_AES_256_GCM), ``transport`` (HTTP over http.client),
``client`` (signed calls, verified answers), ``wire`` (WeChat JSON <-> domain
values), ``callbacks`` (notification verification), ``bills`` (trade bills for reconciliation, decision 35)
and ``gateway``.
"""

from __future__ import annotations

from massage_core.adapters.wechatpay.config import WeChatPayConfig
from massage_core.adapters.wechatpay.gateway import WeChatPayGateway
from massage_core.adapters.wechatpay.transport import HttpResponse, HttpTransport, StdlibTransport

__all__ = ["HttpResponse", "HttpTransport", "StdlibTransport", "WeChatPayConfig", "WeChatPayGateway"]
