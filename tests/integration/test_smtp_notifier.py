"""The SMTP e-mail notifier against a real local aiosmtpd server (issue 7, acceptance 3; decision 42)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import attrs
import pendulum
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from aiosmtpd.smtp import SMTP as SMTPServer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from massage_core.adapters.crypto.passwords import Argon2idPasswordHasher
from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.smtp import SmtpEmailNotifier, SmtpSettings, message_id
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor
from massage_core.domain.errors import ValidationError
from massage_core.domain.ids import AccountId
from massage_core.domain.notifications import Category, Channel, Urgency
from massage_core.domain.outbox import OutboxMessage, RetryPolicy, dedupe_key
from massage_core.domain.templates import render
from massage_core.ports.notifiers import DeliveryFailed
from massage_core.services.base import Policies
from massage_core.services.notifications import DispatchReport, OutboxView
from massage_core.services.notify import Note, enqueue

SENDER = "noreply@massage.example.cn"
TO = "li.na@example.com"
USER, PASSWORD = "mailer", "s3cret-pass-42"
RECIPIENT = "acc_01HZY3M4T7Q8R9S0V1W2X3Y4Z5"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Recorder:
    """An aiosmtpd handler that keeps every envelope; can refuse a recipient or the data."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.rcpt_answer: str | None = None
        self.data_answer: str | None = None

    async def handle_RCPT(self, server: SMTPServer, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if self.rcpt_answer is not None:
            return self.rcpt_answer.format(address=address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        if self.data_answer is not None:
            return self.data_answer
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def received(self) -> list[EmailMessage]:
        return [email.message_from_bytes(e.original_content or b"", policy=email.policy.default)  # type: ignore[misc]
                for e in self.envelopes]


def _authenticator(server: SMTPServer, session: Session, envelope: Envelope, mechanism: str,
                   auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() \
        and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def _start(handler: Recorder, **kwargs: Any) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port(), **kwargs)
    controller.start()
    return controller


@pytest.fixture
def server(recorder: Recorder) -> Iterator[Controller]:
    controller = _start(recorder)
    yield controller
    controller.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1, and its key (PEM files)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(ski, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def _server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(certificate[0]), str(certificate[1]))
    return context


def _settings(port: int, **overrides: Any) -> SmtpSettings:
    options: dict[str, Any] = {"host": "127.0.0.1", "port": port, "starttls": False, "sender": SENDER,
                               "sender_name": "到家按摩", "timeout_seconds": 3.0, "helo_name": "client.test"}
    options.update(overrides)
    return SmtpSettings(**options)


def _message(event_key: str = "order:ord_01HZY3M4T7Q8R9S0V1W2X3Y4Z5:accepted") -> OutboxMessage:
    at = pendulum.datetime(2026, 3, 1, 6, 30, tz="UTC")
    shown = render("order.accepted", "zh-CN",
                   {"therapist": "王师傅", "order": "M20260301-0007", "start": at.add(hours=2)}, "Asia/Shanghai")
    return OutboxMessage(id="out_1", dedupe_key=dedupe_key(event_key, RECIPIENT, Channel.EMAIL),
                         recipient=RECIPIENT, channel=Channel.EMAIL, category=Category.ORDERS,
                         urgency=Urgency.URGENT, subject=shown.subject, body=shown.body, created_at=at, due_at=at)


CLOCK = FixedClock(pendulum.datetime(2026, 3, 1, 6, 31, 5, tz="UTC"))


def test_chinese_subject_and_body_arrive_intact(server: Controller, recorder: Recorder) -> None:
    message = _message()
    SmtpEmailNotifier(_settings(server.port), CLOCK).send(message, TO)
    [envelope] = recorder.envelopes
    assert envelope.mail_from == SENDER and envelope.rcpt_tos == [TO]
    raw = envelope.original_content or b""
    raw.decode("ascii")  # 7-bit clean: no 8BITMIME or SMTPUTF8 needed on the way
    head, body = raw.split(b"\r\n\r\n", 1)
    assert b"=?utf-8?" in head  # RFC 2047 encoded words for the Chinese subject and display name
    assert f"X-Massage-Dedupe: {message.dedupe_key}".encode() in head.split(b"\r\n")
    assert body and max(len(line) for line in body.split(b"\r\n")) <= 76  # RFC 2045 base64 lines
    [mail] = recorder.received()
    assert message.subject == "技师已接单"
    assert mail["Subject"] == message.subject
    assert mail.get_content().replace("\r\n", "\n").rstrip("\n") == message.body  # text travels with CRLF
    assert "王师傅" in mail.get_content() and "16:30" in mail.get_content()  # rendered in Asia/Shanghai
    assert mail.get_content_type() == "text/plain" and mail.get_content_charset() == "utf-8"
    sender = mail["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == ("到家按摩", SENDER)
    assert [a.addr_spec for a in mail["To"].addresses] == [TO]
    assert mail["Date"].datetime == CLOCK.now()
    assert mail["X-Massage-Dedupe"] == message.dedupe_key
    assert mail["Auto-Submitted"] == "auto-generated"


def test_message_id_is_stable_per_dedupe_key(server: Controller, recorder: Recorder) -> None:
    notifier = SmtpEmailNotifier(_settings(server.port), CLOCK)
    first, other = _message(), _message("order:ord_01HZY3M4T7Q8R9S0V1W2X3Y4Z5:departed")
    notifier.send(first, TO)
    notifier.send(first, TO)  # a dispatcher that crashed before marking it sent delivers it again
    notifier.send(other, TO)
    ids = [mail["Message-ID"] for mail in recorder.received()]
    assert ids[0] == ids[1] == message_id(first.dedupe_key, "massage.example.cn")
    assert ids[2] != ids[0] and ids[2].endswith("@massage.example.cn>")
    assert all(RECIPIENT not in value for value in ids)


def test_starttls_with_login(recorder: Recorder, certificate: tuple[Path, Path]) -> None:
    controller = _start(recorder, tls_context=_server_tls(certificate), require_starttls=True,
                        authenticator=_authenticator, auth_required=True)
    try:
        good = _settings(controller.port, host="localhost", starttls=True, username=USER, password=PASSWORD,
                         ca_file=str(certificate[0]))
        SmtpEmailNotifier(good, CLOCK).send(_message(), TO)
        assert len(recorder.envelopes) == 1
        wrong = _settings(controller.port, host="localhost", starttls=True, username=USER, password="wrong-one",
                          ca_file=str(certificate[0]))
        with pytest.raises(DeliveryFailed) as refused:
            SmtpEmailNotifier(wrong, CLOCK).send(_message(), TO)
        assert "login" in str(refused.value) and "535" in str(refused.value)
        assert "wrong-one" not in str(refused.value) and TO not in str(refused.value)
        untrusted = _settings(controller.port, host="localhost", starttls=True, username=USER, password=PASSWORD)
        with pytest.raises(DeliveryFailed, match="certificate is not trusted"):
            SmtpEmailNotifier(untrusted, CLOCK).send(_message(), TO)
        assert len(recorder.envelopes) == 1
    finally:
        controller.stop()


def test_implicit_tls(recorder: Recorder, certificate: tuple[Path, Path]) -> None:
    controller = _start(recorder, ssl_context=_server_tls(certificate))
    try:
        settings = _settings(controller.port, host="localhost", ssl=True, ca_file=str(certificate[0]))
        SmtpEmailNotifier(settings, CLOCK).send(_message(), TO)
        [mail] = recorder.received()
        assert mail["Subject"] == "技师已接单"
    finally:
        controller.stop()


def test_starttls_required_but_not_offered(server: Controller, recorder: Recorder) -> None:
    with pytest.raises(DeliveryFailed, match="starttls"):
        SmtpEmailNotifier(_settings(server.port, starttls=True), CLOCK).send(_message(), TO)
    assert recorder.envelopes == []


def test_refused_connection_is_a_delivery_failure() -> None:
    with pytest.raises(DeliveryFailed) as failed:
        SmtpEmailNotifier(_settings(_free_port()), CLOCK).send(_message(), TO)
    assert str(failed.value) == "[notification.delivery] SMTP connect failed: the connection was refused"


def test_a_server_that_never_greets_times_out() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        settings = _settings(silent.getsockname()[1], timeout_seconds=0.3)
        with pytest.raises(DeliveryFailed, match="did not answer in time"):
            SmtpEmailNotifier(settings, CLOCK).send(_message(), TO)


@pytest.mark.parametrize(("rcpt", "data", "reason"), [
    (None, "554 5.6.0 Message rejected as spam", "SMTP send failed: the server answered 554"),
    ("550 5.1.1 <{address}>: Recipient address rejected", None,
     "SMTP send failed: the server refused the recipient (550)"),
    (None, "451 4.3.0 Try again later", "SMTP send failed: the server answered 451"),
])
def test_a_server_refusal_is_a_delivery_failure(server: Controller, recorder: Recorder, rcpt: str | None,
                                                data: str | None, reason: str) -> None:
    recorder.rcpt_answer, recorder.data_answer = rcpt, data
    with pytest.raises(DeliveryFailed) as failed:
        SmtpEmailNotifier(_settings(server.port), CLOCK).send(_message(), TO)
    assert failed.value.message == reason
    assert TO not in str(failed.value)


def test_wrong_channel_or_address_is_refused_before_connecting() -> None:
    notifier = SmtpEmailNotifier(_settings(_free_port()), CLOCK)
    with pytest.raises(DeliveryFailed) as bad_address:
        notifier.send(_message(), "not-an-address")
    assert bad_address.value.code == "notification.address"
    with pytest.raises(DeliveryFailed) as bad_channel:
        notifier.send(attrs.evolve(_message(), channel=Channel.SMS), TO)
    assert bad_channel.value.code == "notification.channel"


def test_header_injection_is_flattened() -> None:
    message = _message()
    mail = SmtpEmailNotifier(_settings(25), CLOCK).compose(attrs.evolve(message, subject="Hi\r\nBcc: x@evil.test"),
                                                            TO)
    assert mail["Subject"] == "Hi Bcc: x@evil.test" and mail["Bcc"] is None



def test_settings_from_the_environment(certificate: tuple[Path, Path]) -> None:
    env = {"MASSAGE_SMTP_HOST": "smtp.example.cn", "MASSAGE_SMTP_SENDER": "NoReply@Massage.example.cn",
           "MASSAGE_SMTP_USERNAME": USER, "MASSAGE_SMTP_PASSWORD": PASSWORD, "MASSAGE_SMTP_SENDER_NAME": "到家按摩",
           "MASSAGE_SMTP_TIMEOUT": "2.5", "MASSAGE_SMTP_CA_FILE": str(certificate[0])}
    settings = SmtpSettings.from_env(env)
    assert (settings.host, settings.port, settings.starttls, settings.ssl) == ("smtp.example.cn", 587, True, False)
    assert (settings.sender, settings.sender_name, settings.timeout_seconds) == (SENDER, "到家按摩", 2.5)
    assert (settings.username, settings.password) == (USER, PASSWORD)
    assert PASSWORD not in repr(settings) and PASSWORD not in repr(SmtpEmailNotifier(settings, CLOCK))
    implicit = SmtpSettings.from_env({**env, "MASSAGE_SMTP_SSL": "true"})
    assert (implicit.port, implicit.starttls, implicit.ssl) == (465, False, True)
    assert SmtpSettings.from_env({"MASSAGE_SMTP_HOST": "localhost", "MASSAGE_SMTP_SENDER": SENDER,
                                  "MASSAGE_SMTP_STARTTLS": "no", "MASSAGE_SMTP_PORT": "2525"}).port == 2525


@pytest.mark.parametrize(("change", "field"), [
    ({"MASSAGE_SMTP_HOST": ""}, "MASSAGE_SMTP_HOST"),
    ({"MASSAGE_SMTP_SENDER": "nobody"}, "MASSAGE_SMTP_SENDER"),
    ({"MASSAGE_SMTP_PORT": "smtp"}, "MASSAGE_SMTP_PORT"),
    ({"MASSAGE_SMTP_PORT": "70000"}, "MASSAGE_SMTP_PORT"),
    ({"MASSAGE_SMTP_TIMEOUT": "0"}, "MASSAGE_SMTP_TIMEOUT"),
    ({"MASSAGE_SMTP_STARTTLS": "maybe"}, "MASSAGE_SMTP_STARTTLS"),
    ({"MASSAGE_SMTP_SSL": "1", "MASSAGE_SMTP_STARTTLS": "1"}, "MASSAGE_SMTP_SSL"),
    ({"MASSAGE_SMTP_PASSWORD": ""}, "MASSAGE_SMTP_USERNAME"),
    ({"MASSAGE_SMTP_STARTTLS": "false"}, "MASSAGE_SMTP_STARTTLS"),  # credentials in clear to a remote host
    ({"MASSAGE_SMTP_CA_FILE": "/nonexistent/ca.pem"}, "MASSAGE_SMTP_CA_FILE"),
    ({"MASSAGE_SMTP_SENDER_NAME": "a\r\nBcc: x@evil.test"}, "MASSAGE_SMTP_SENDER_NAME"),
])
def test_bad_settings_name_the_variable(change: dict[str, str], field: str) -> None:
    env = {"MASSAGE_SMTP_HOST": "smtp.example.cn", "MASSAGE_SMTP_SENDER": SENDER, "MASSAGE_SMTP_USERNAME": USER,
           "MASSAGE_SMTP_PASSWORD": PASSWORD, **change}
    with pytest.raises(ValidationError) as bad:
        SmtpSettings.from_env(env)
    assert bad.value.code == "smtp.config" and bad.value.field == field
    assert PASSWORD not in str(bad.value)


def test_a_refused_connection_is_retried_with_backoff_and_finally_parked_as_dead(recorder: Recorder) -> None:
    clock = FixedClock(pendulum.datetime(2026, 3, 1, 6, 0, tz="UTC"))
    port = _free_port()  # nothing listens here until the end of the test
    platform = Platform.in_memory(
        clock=clock, hasher=Argon2idPasswordHasher.for_tests(),
        policies=Policies(outbox_retry=RetryPolicy(base_seconds=30, factor=2, cap_seconds=3600, max_attempts=3)),
        notifiers={Channel.EMAIL: SmtpEmailNotifier(_settings(port, timeout_seconds=2.0), clock)})
    system = Actor.system()
    admin = platform.users.create_superadmin(system, TO, "Blue-Harbour-Lantern-42")
    with platform.deps.uow() as uow:
        note = Note(event="vetting.approved", key=f"vetting:{admin.id}:approved", recipients=(AccountId(admin.id),),
                    values={}, category=Category.ACCOUNT)
        assert enqueue(uow, platform.deps, note, clock.now()) == 2  # the inbox and e-mail
        uow.commit()

    def email() -> OutboxView:
        [view] = [v for v in platform.notifications.outbox(system) if v.channel == "email"]
        return view

    assert platform.notifications.dispatch(system) == DispatchReport(sent=1, retried=1, dead=0)  # inbox sent
    first = email()
    assert (first.state, first.attempts) == ("pending", 1)
    assert first.last_error == "SMTP connect failed: the connection was refused"
    assert first.due_at == clock.now() + dt.timedelta(seconds=30)
    clock.advance(dt.timedelta(seconds=29))
    assert platform.notifications.dispatch(system) == DispatchReport()  # not due yet
    clock.advance(dt.timedelta(seconds=1))
    assert platform.notifications.dispatch(system) == DispatchReport(retried=1)
    second = email()
    assert second.attempts == 2 and second.due_at == clock.now() + dt.timedelta(seconds=60)  # the backoff doubles
    clock.advance(dt.timedelta(seconds=60))
    assert platform.notifications.dispatch(system) == DispatchReport(dead=1)
    dead = email()
    assert (dead.state, dead.attempts, dead.last_error) == ("dead", 3, first.last_error)
    clock.advance(dt.timedelta(days=1))
    assert platform.notifications.dispatch(system) == DispatchReport()  # a dead message stays parked
    assert recorder.envelopes == []

    controller = Controller(recorder, hostname="127.0.0.1", port=port)  # the server is back; an admin retries
    controller.start()
    try:
        platform.notifications.retry(system, dead.id)
        assert platform.notifications.dispatch(system) == DispatchReport(sent=1)
    finally:
        controller.stop()
    [mail] = recorder.received()
    assert mail["Subject"] == "审核通过"
    assert mail["X-Massage-Dedupe"] == f"vetting:{admin.id}:approved|{admin.id}|email"
    assert email().state == "sent"


def test_a_ca_file_without_certificates_is_refused_at_start(tmp_path: Path) -> None:
    junk = tmp_path / "ca.pem"
    junk.write_text("not a certificate\n")
    settings = _settings(587, starttls=True, ca_file=str(junk))
    with pytest.raises(ValidationError) as bad:
        SmtpEmailNotifier(settings, CLOCK)
    assert (bad.value.code, bad.value.field) == ("smtp.config", "ca_file")
