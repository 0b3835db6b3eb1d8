"""HTTP for the WeChat Pay adapter: one request, one answer, no redirects, bounded size.

``HttpTransport`` is the seam tests use to put a stub in front of the
adapter; ``StdlibTransport`` is the real one (``http.client`` with the
system's TLS trust store).  Any failure to get an answer -- refused or
reset connection, DNS, TLS, timeout, an oversized or broken answer -- is a
``PaymentError`` with code ``payment.unavailable``.
"""

from __future__ import annotations

import http.client
import ssl
from collections.abc import Mapping
from typing import Protocol
from urllib.parse import urlsplit

from attrs import field, frozen

from massage_core.domain.errors import PaymentError

MAX_ANSWER_BYTES = 1024 * 1024


def unavailable(what: str) -> PaymentError:
    return PaymentError(f"WeChat Pay is unavailable: {what}", code="payment.unavailable")


def _lower_keys(value: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): text for name, text in value.items()}


@frozen
class HttpResponse:
    """An HTTP answer; header names are lower-cased."""

    status: int
    headers: Mapping[str, str] = field(converter=_lower_keys)
    body: bytes


class HttpTransport(Protocol):
    """Sends one HTTP request to an absolute URL and returns the answer, whatever its status."""

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float, *,
             max_bytes: int = MAX_ANSWER_BYTES) -> HttpResponse:
        """Raise PaymentError ``payment.unavailable`` when no complete answer of at most ``max_bytes`` arrives
        (the adapter raises ``max_bytes`` only to download bills)."""
        ...


class StdlibTransport:
    """``http.client`` over TLS (plain HTTP is only allowed by the config for loopback stubs)."""

    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        self._context = context or ssl.create_default_context()

    def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float, *,
             max_bytes: int = MAX_ANSWER_BYTES) -> HttpResponse:
        parts = urlsplit(url)
        host = parts.hostname or ""
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(host, parts.port, timeout=timeout, context=self._context)
        else:
            connection = http.client.HTTPConnection(host, parts.port, timeout=timeout)
        try:
            connection.request(method, target, body=body if body else None, headers=dict(headers))
            answer = connection.getresponse()
            data = answer.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise unavailable("answer too large")
            return HttpResponse(status=answer.status, headers=dict(answer.getheaders()), body=data)
        except (OSError, http.client.HTTPException) as exc:  # timeouts, refused, reset, TLS, bad status line
            raise unavailable(type(exc).__name__) from None
        finally:
            connection.close()
