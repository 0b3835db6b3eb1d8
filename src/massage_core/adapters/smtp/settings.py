"""Where and how the e-mail notifier reaches its SMTP server, checked once at start-up.

The password never appears in ``repr`` (nor in any error).  Credentials are refused over a connection
without TLS unless the server is on the loopback interface (a local relay).  ``SmtpSettings.from_env``
reads the ``MASSAGE_SMTP_*`` environment variables listed in ``ENV_VARS``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from attrs import Factory, field, frozen

from massage_core.domain.contact import Email
from massage_core.domain.errors import ValidationError

SUBMISSION_PORT = 587
"""Message submission with STARTTLS (RFC 6409)."""
IMPLICIT_TLS_PORT = 465
"""Submission over implicit TLS (RFC 8314)."""
PLAIN_PORT = 25
TIMEOUT_MAX = 120.0
_HOST = re.compile(r"^[A-Za-z0-9._:\-\[\]]{1,253}$")
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})

ENV_VARS: Mapping[str, str] = {
    "MASSAGE_SMTP_HOST": "the server's host name or IP address (required)",
    "MASSAGE_SMTP_PORT": "the port; default 465 with SSL, 587 with STARTTLS, 25 without TLS",
    "MASSAGE_SMTP_STARTTLS": "upgrade the connection with STARTTLS: true (default unless SSL) or false",
    "MASSAGE_SMTP_SSL": "implicit TLS from the first byte (port 465): true or false (default)",
    "MASSAGE_SMTP_USERNAME": "the login name, when the server wants AUTH",
    "MASSAGE_SMTP_PASSWORD": "the password (set together with the user name)",
    "MASSAGE_SMTP_SENDER": "the From address, e.g. noreply@example.com (required)",
    "MASSAGE_SMTP_SENDER_NAME": "the From display name, e.g. 到家按摩",
    "MASSAGE_SMTP_TIMEOUT": "seconds to wait for the server, in (0, 120]; default 10",
    "MASSAGE_SMTP_CA_FILE": "a PEM file of certificates to trust instead of the system's",
    "MASSAGE_SMTP_HELO": "the name this client gives in EHLO; default the machine's name",
}
"""Every environment variable ``from_env`` reads, with what it means."""
_ENV_NAMES: Mapping[str, str] = {
    "host": "MASSAGE_SMTP_HOST", "port": "MASSAGE_SMTP_PORT", "starttls": "MASSAGE_SMTP_STARTTLS",
    "ssl": "MASSAGE_SMTP_SSL", "username": "MASSAGE_SMTP_USERNAME", "password": "MASSAGE_SMTP_PASSWORD",
    "sender": "MASSAGE_SMTP_SENDER", "sender_name": "MASSAGE_SMTP_SENDER_NAME",
    "timeout_seconds": "MASSAGE_SMTP_TIMEOUT", "ca_file": "MASSAGE_SMTP_CA_FILE", "helo_name": "MASSAGE_SMTP_HELO",
}


def _bad(message: str, name: str) -> ValidationError:
    return ValidationError(message, code="smtp.config", field=name)


def _check_host(_instance: Any, _attribute: Any, value: Any) -> None:
    if not isinstance(value, str) or not _HOST.fullmatch(value):
        raise _bad("host must be a host name or an IP address", "host")


def _check_port(_instance: Any, _attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise _bad("port must be a whole number from 1 to 65535", "port")


def _check_flag(_instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, bool):
        raise _bad(f"{attribute.name} must be true or false", attribute.name)


def _sender(value: Any) -> Any:
    try:
        return Email.parse(value).address
    except ValidationError:
        raise _bad("sender must be an e-mail address", "sender") from None


def _check_line(limit: int) -> Any:
    def check(_instance: Any, attribute: Any, value: Any) -> None:
        if value is None and attribute.name != "sender_name":
            return
        if not isinstance(value, str) or len(value) > limit or any(c in value for c in "\r\n\0"):
            raise _bad(f"{attribute.name} must be one line of at most {limit} characters", attribute.name)

    return check


def _check_timeout(_instance: Any, _attribute: Any, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= TIMEOUT_MAX:
        raise _bad(f"timeout_seconds must be in (0, {TIMEOUT_MAX:g}]", "timeout_seconds")


def _check_ca_file(_instance: Any, _attribute: Any, value: Any) -> None:
    if value is not None and (not isinstance(value, str) or not os.path.isfile(value)):
        raise _bad("ca_file must name an existing PEM file", "ca_file")


def _check_helo(_instance: Any, _attribute: Any, value: Any) -> None:
    if value is not None and (not isinstance(value, str) or not _HOST.fullmatch(value)):
        raise _bad("helo_name must be a host name", "helo_name")


def _default_port(settings: SmtpSettings) -> int:
    if settings.ssl:
        return IMPLICIT_TLS_PORT
    return SUBMISSION_PORT if settings.starttls else PLAIN_PORT


def _hidden(value: object) -> str:
    return "None" if value is None else "'<hidden>'"


@frozen
class SmtpSettings:
    """An SMTP submission server: ``host`` and ``port``; ``starttls`` (upgrade a plain connection, the
    default) or ``ssl`` (implicit TLS), never both; ``username`` and ``password`` for AUTH, both or
    neither; the From address ``sender`` with an optional display name; ``timeout_seconds`` per network
    operation; ``ca_file`` to trust a private certificate authority; ``helo_name`` for EHLO.

    ValidationError ``smtp.config`` (with ``field``) on any bad value.
    """

    host: str = field(validator=_check_host)
    sender: str = field(converter=_sender)
    starttls: bool = field(default=True, validator=_check_flag)
    ssl: bool = field(default=False, validator=_check_flag)
    port: int = field(default=Factory(_default_port, takes_self=True), validator=_check_port)
    username: str | None = field(default=None, validator=_check_line(254))
    password: str | None = field(default=None, repr=_hidden, validator=_check_line(1024))
    sender_name: str = field(default="", validator=_check_line(100))
    timeout_seconds: float = field(default=10.0, validator=_check_timeout)
    ca_file: str | None = field(default=None, validator=_check_ca_file)
    helo_name: str | None = field(default=None, validator=_check_helo)

    def __attrs_post_init__(self) -> None:
        if self.starttls and self.ssl:
            raise _bad("choose STARTTLS or implicit SSL, not both", "ssl")
        if (self.username is None) != (self.password is None) or self.username == "" or self.password == "":
            raise _bad("give both a user name and a password, or neither", "username")
        if self.username is not None and not self.encrypted and self.host.lower() not in _LOOPBACK:
            raise _bad("credentials need STARTTLS or SSL unless the server is on this machine", "starttls")

    @property
    def encrypted(self) -> bool:
        """Whether the connection is protected by TLS (STARTTLS or implicit)."""
        return self.starttls or self.ssl

    @property
    def sender_domain(self) -> str:
        """The domain of the From address (the right-hand side of generated Message-IDs)."""
        return self.sender.rpartition("@")[2]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmtpSettings:
        """Read ``MASSAGE_SMTP_*`` (see ``ENV_VARS``) from ``environ`` (default ``os.environ``).

        ValidationError ``smtp.config`` with ``field`` naming the variable when one is missing or bad.
        """
        env = os.environ if environ is None else environ

        def text(name: str) -> str | None:
            value = env.get(name)
            return value.strip() if value is not None and value.strip() else None

        def flag(name: str, default: bool) -> bool:
            raw = (env.get(name) or "").strip().lower()
            if not raw:
                return default
            if raw not in _TRUE | _FALSE:
                raise _bad(f"{name} must be true or false", name)
            return raw in _TRUE

        host, sender = text("MASSAGE_SMTP_HOST"), text("MASSAGE_SMTP_SENDER")
        if host is None or sender is None:
            missing = "MASSAGE_SMTP_HOST" if host is None else "MASSAGE_SMTP_SENDER"
            raise _bad(f"set the environment variable {missing}", missing)
        use_ssl = flag("MASSAGE_SMTP_SSL", False)
        options: dict[str, Any] = {"ssl": use_ssl, "starttls": flag("MASSAGE_SMTP_STARTTLS", not use_ssl)}
        for key, parse in (("port", int), ("timeout_seconds", float)):
            raw = text(_ENV_NAMES[key])
            if raw is not None:
                try:
                    options[key] = parse(raw)
                except ValueError:
                    raise _bad(f"{_ENV_NAMES[key]} must be a number", _ENV_NAMES[key]) from None
        for key in ("username", "sender_name", "ca_file", "helo_name"):
            raw = text(_ENV_NAMES[key])
            if raw is not None:
                options[key] = raw
        password = env.get(_ENV_NAMES["password"])
        if password:
            options["password"] = password
        try:
            return cls(host=host, sender=sender, **options)
        except ValidationError as exc:
            exc.field = _ENV_NAMES.get(exc.field or "", exc.field)
            raise
