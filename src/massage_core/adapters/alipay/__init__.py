"""The Alipay open-platform adapter of the PaymentGateway port (RSA2, decision 27).

Build it with an ``AlipayConfig`` and a Clock, and hand it to the platform::

    gateway = AlipayGateway(AlipayConfig(app_id=..., seller_id=..., app_private_key=pem,
                                         alipay_public_key=pem, notify_url=...), clock)
    Platform.from_url(url, payment_gateway=gateway)
"""

from massage_core.adapters.alipay.config import PRODUCTION_GATEWAY, SANDBOX_GATEWAY, AlipayConfig
from massage_core.adapters.alipay.gateway import AlipayGateway
from massage_core.adapters.alipay.transport import Transport, UrllibTransport

__all__ = ["PRODUCTION_GATEWAY", "SANDBOX_GATEWAY", "AlipayConfig", "AlipayGateway", "Transport", "UrllibTransport"]
