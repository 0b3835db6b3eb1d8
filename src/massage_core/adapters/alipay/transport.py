"""HTTP to the Alipay gateway: one form-encoded POST (or a bill's GET), the raw answer back, every failure as
``payment.unavailable``.

The standard library is enough (``urllib``).  Anything but a 200 answer of at
most ``MAX_RESPONSE_BYTES`` -- a refused connection, a timeout, TLS trouble,
a 4xx/5xx, an oversized body -- raises ``PaymentError`` with code
``payment.unavailable``: nothing is known to have changed at Alipay, and
every call the gateway makes is safe to retry.
"""

from __future__ import annotations

import abc
import socket
import urllib.error
import urllib.request
from collections.abc import Mapping
from http.client import HTTPException
from urllib.parse import urlencode

from massage_core.domain.errors import PaymentError

MAX_RESPONSE_BYTES = 256 * 1024


def unavailable(what: str) -> PaymentError:
    return PaymentError(f"Alipay is unavailable: {what}", code="payment.unavailable")


class Transport(abc.ABC):
    """Sends one form-encoded POST and returns the response body (tests may plug in their own)."""

    @abc.abstractmethod
    def post_form(self, url: str, form: Mapping[str, str]) -> bytes:
        """POST ``form`` (UTF-8, ``application/x-www-form-urlencoded``) to ``url``; the 200 body or PaymentError."""

    def get(self, url: str, max_bytes: int) -> bytes:
        """GET ``url`` (a bill download) and return the 200 body of at most ``max_bytes``, or PaymentError
        ``payment.unavailable``.  A transport that cannot download raises ``payment.unsupported``."""
        raise PaymentError(f"{type(self).__name__} cannot download bills", code="payment.unsupported")


class UrllibTransport(Transport):
    """``urllib.request`` with a timeout (urllib has one timeout; the larger of connect and read is used)."""

    def __init__(self, *, connect_timeout: float = 5.0, read_timeout: float = 15.0) -> None:
        self._timeout = max(connect_timeout, read_timeout)

    def post_form(self, url: str, form: Mapping[str, str]) -> bytes:
        data = urlencode(dict(form), encoding="utf-8").encode("ascii")
        request = urllib.request.Request(
            url,
            data=data,
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310 - https checked
                status = response.status
                body: bytes = response.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            raise unavailable(f"HTTP {exc.code}") from None
        except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, HTTPException, OSError) as exc:
            raise unavailable(type(exc).__name__) from None
        if status != 200:
            raise unavailable(f"HTTP {status}")
        if len(body) > MAX_RESPONSE_BYTES:
            raise unavailable("response too large")
        return body

    def get(self, url: str, max_bytes: int) -> bytes:
        request = urllib.request.Request(url, method="GET", headers={"Accept": "application/octet-stream, */*"})
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310 - URL checked
                status = response.status
                body: bytes = response.read(max_bytes + 1)
        except urllib.error.HTTPError as exc:
            raise unavailable(f"HTTP {exc.code}") from None
        except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, HTTPException, OSError) as exc:
            raise unavailable(type(exc).__name__) from None
        if status != 200:
            raise unavailable(f"HTTP {status}")
        if len(body) > max_bytes:
            raise unavailable("download too large")
        return body
