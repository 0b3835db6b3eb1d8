"""E-mail over SMTP with the standard library (``smtplib``, ``email``, ``ssl``).

One connection per message: connect (implicit TLS or plain), EHLO, STARTTLS and EHLO again when
configured, AUTH when credentials are set, one ``MAIL``/``RCPT``/``DATA`` transaction, QUIT.  The message
is text/plain in UTF-8 (7bit when it is ASCII, else base64 or quoted-printable: no 8BITMIME needed), its
subject and display name RFC 2047 encoded.  ``Message-ID`` is derived from the outbox message's dedupe key, so a second
delivery of the same message carries the same id (mail systems and clients fold it into the first) and
``X-Massage-Dedupe`` names the key itself.  Every smtplib, socket and TLS error becomes ``DeliveryFailed``
with a short reason naming the step and the reply code -- never the server's text (it may quote the
address), the address or the password.  A failure after the server accepted the data (QUIT) is ignored:
the message is delivered.
"""

from __future__ import annotations

import email.policy
import hashlib
import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from massage_core.adapters.smtp.settings import SmtpSettings
from massage_core.domain.contact import Email
from massage_core.domain.errors import ValidationError
from massage_core.domain.notifications import Channel
from massage_core.domain.outbox import OutboxMessage
from massage_core.ports.clock import Clock
from massage_core.ports.notifiers import DeliveryFailed, Notifier

BODY_POLICY = email.policy.SMTP.clone(cte_type="7bit")
"""Encodes the body: CRLF line ends, 7bit or base64 lines of at most 76 characters (RFC 2045)."""
POLICY = email.policy.SMTP.clone(cte_type="7bit", max_line_length=998)
"""Writes the message: headers in RFC 2047 encoded words, folded only past RFC 5322's hard limit of 998
characters, so the dedupe key stays readable in its header."""
DEDUPE_HEADER = "X-Massage-Dedupe"


def message_id(dedupe_key: str, domain: str) -> str:
    """The ``Message-ID`` of every delivery of the message with ``dedupe_key``: ``<hash@domain>``."""
    digest = hashlib.sha256(dedupe_key.encode("utf-8")).hexdigest()[:40]
    try:
        host = domain.encode("idna").decode("ascii")
    except UnicodeError:
        host = "massage.invalid"
    return f"<{digest}@{host}>"


def _one_line(text: str) -> str:
    return " ".join(text.split())


class SmtpEmailNotifier(Notifier):
    """Delivers ``email`` messages through the SMTP server of ``settings``; ``clock`` dates them."""

    channel = Channel.EMAIL

    def __init__(self, settings: SmtpSettings, clock: Clock) -> None:
        """Keep the settings and build the TLS context once (the system's CAs or ``settings.ca_file``);
        ValidationError ``smtp.config`` when ``ca_file`` holds no certificate."""
        self.settings = settings
        self._clock = clock
        try:
            self._tls = ssl.create_default_context(cafile=settings.ca_file) if settings.encrypted else None
        except ssl.SSLError:
            raise ValidationError("ca_file holds no usable PEM certificate", code="smtp.config",
                                  field="ca_file") from None

    def __repr__(self) -> str:
        return f"SmtpEmailNotifier({self.settings!r})"

    def compose(self, message: OutboxMessage, address: str) -> EmailMessage:
        """The e-mail ``send`` would hand to the server for ``message`` to ``address``; DeliveryFailed when
        the message is not an e-mail or the address is not an e-mail address."""
        return self._compose(message, _recipient(message, address))

    def send(self, message: OutboxMessage, address: str) -> None:
        """Deliver ``message`` to the e-mail ``address``; DeliveryFailed with a short reason otherwise."""
        to = _recipient(message, address)
        mail = self._compose(message, to)
        client = self._connect()
        try:
            client.send_message(mail, from_addr=self.settings.sender, to_addrs=[to])
        except (OSError, UnicodeError) as exc:
            client.close()
            raise DeliveryFailed(_reason("send", exc)) from exc
        try:
            client.quit()
        except OSError:
            client.close()

    def _compose(self, message: OutboxMessage, to: str) -> EmailMessage:
        settings = self.settings
        mail = EmailMessage(policy=BODY_POLICY)
        mail["From"] = Address(display_name=_one_line(settings.sender_name), addr_spec=settings.sender)
        mail["To"] = Address(addr_spec=to)
        mail["Subject"] = _one_line(message.subject)
        mail["Date"] = format_datetime(self._clock.now())
        mail["Message-ID"] = message_id(message.dedupe_key, settings.sender_domain)
        mail[DEDUPE_HEADER] = message.dedupe_key
        mail["Auto-Submitted"] = "auto-generated"
        mail.set_content(message.body, subtype="plain", charset="utf-8")
        mail.policy = POLICY
        return mail

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        try:
            if settings.ssl:
                client: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, settings.helo_name,
                                                        timeout=settings.timeout_seconds, context=self._tls)
            else:
                client = smtplib.SMTP(settings.host, settings.port, settings.helo_name,
                                      timeout=settings.timeout_seconds)
        except (OSError, UnicodeError) as exc:
            raise DeliveryFailed(_reason("connect", exc)) from exc
        step = "hello"
        try:
            client.ehlo()
            if settings.starttls:
                step = "starttls"
                client.starttls(context=self._tls)
                client.ehlo()
            if settings.username is not None and settings.password is not None:
                step = "login"
                client.login(settings.username, settings.password)
        except (OSError, UnicodeError) as exc:
            client.close()
            raise DeliveryFailed(_reason(step, exc)) from exc
        return client


def _recipient(message: OutboxMessage, address: str) -> str:
    if message.channel is not Channel.EMAIL:
        raise DeliveryFailed(f"a {message.channel} message cannot go by e-mail", code="notification.channel")
    try:
        return Email.parse(address).address
    except ValidationError:
        raise DeliveryFailed("the recipient's e-mail address is not valid", code="notification.address") from None


def _reason(step: str, exc: BaseException) -> str:
    """A short, safe description of ``exc`` raised during ``step``: no server text, address or secret."""
    return f"SMTP {step} failed: {_what(exc)}"


def _what(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPServerDisconnected) and isinstance(exc.__context__, OSError):
        exc = exc.__context__  # smtplib reports a timeout or a reset while reading a reply as a disconnect
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _text in exc.recipients.values()})
        return f"the server refused the recipient ({', '.join(map(str, codes))})"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"the server refused the sender ({exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"the server refused the credentials ({exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"the server answered {exc.smtp_code}"
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return "the server does not offer a needed extension"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "the server closed the connection"
    if isinstance(exc, smtplib.SMTPException):
        return type(exc).__name__
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "the server's TLS certificate is not trusted"
    if isinstance(exc, ssl.SSLError):
        return "the TLS handshake failed"
    if isinstance(exc, ConnectionRefusedError):
        return "the connection was refused"
    if isinstance(exc, TimeoutError):
        return "the server did not answer in time"
    if isinstance(exc, UnicodeError):
        return "the message could not be encoded"
    return f"the server could not be reached ({type(exc).__name__})"
