"""``massage demo``: the marketplace at work, told as a story on the embedded database."""

from __future__ import annotations

import secrets
from pathlib import Path

import click

from massage_cli.context import CliContext
from massage_cli.demo_orders import ShiftedClock, order_story
from massage_cli.demo_therapists import therapist_story
from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.adapters.memory.identity import SandboxIdentityProvider
from massage_core.adapters.memory.payments import SandboxPaymentGateway
from massage_core.adapters.memory.sms import SandboxCodeSender
from massage_core.adapters.sql.engine import make_engine
from massage_core.adapters.sql.migrate import current_revision, upgrade
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor
from massage_core.domain.accounts import Provider
from massage_core.domain.contact import PhoneNumber
from massage_core.domain.errors import AuthenticationFailed, Conflict, Throttled
from massage_core.domain.identity_documents import check_digit
from massage_core.domain.time import local
from massage_core.services.views import LoginResult

ADMIN_EMAIL = "founder@massage.example"
ADMIN_PASSWORD = "demo superadmin passphrase"


def say(step: str, text: str) -> None:
    click.echo(click.style(f"[{step}] ", fg="cyan", bold=True) + text)


def _prepare(obj: CliContext) -> KeyRing:
    engine = make_engine(obj.db_url)
    try:
        before = current_revision(engine)
        upgrade(engine)
        after = current_revision(engine)
    finally:
        engine.dispose()
    say("setup", f"database {obj.db_url}: " + (f"migrated to {after}" if before != after else f"at {after}"))
    if not Path(obj.key_file).exists():
        KeyRing.generate().save(obj.key_file)
        say("setup", f"no key ring yet: generated {obj.key_file} (personal data is encrypted with it)")
    return obj.keyring()


def _admin(platform: Platform) -> LoginResult:
    try:
        platform.users.create_superadmin(Actor.system(), ADMIN_EMAIL, ADMIN_PASSWORD, display_name="Founder")
        say("admin", f"created the first superadmin {ADMIN_EMAIL}")
    except Conflict:
        say("admin", "a superadmin exists already")
    return platform.accounts.login_with_password(ADMIN_EMAIL, ADMIN_PASSWORD, ip="10.0.0.1", device="back office")


@click.command()
@click.pass_obj
def demo(obj: CliContext) -> None:
    """Build sample accounts and walk through logins, privacy, suspension and the audit log."""
    ring = _prepare(obj)
    sms = SandboxCodeSender()
    clock = ShiftedClock()
    gateway = SandboxPaymentGateway(clock)
    platform = Platform.from_url(obj.db_url, keyring=ring, code_sender=sms, clock=clock, payment_gateway=gateway)
    wechat = platform.deps.identity_provider
    assert isinstance(wechat, SandboxIdentityProvider)
    try:
        admin = _admin(platform).actor

        phone = f"139 {secrets.randbelow(10**4):04d} {secrets.randbelow(10**4):04d}"
        platform.accounts.request_login_code(phone)
        code = sms.last_code_for(PhoneNumber.parse(phone)) or ""
        say("sms", f"Li Na asks for a login code; the sandbox SMS gateway delivered {code} to {phone}")
        li = platform.accounts.login_with_code(phone, code, ip="203.0.113.7", device="Android 15")
        say("customer", f"Li Na logged in by phone ({'new account' if li.new_account else 'welcome back'}) "
            f"as {li.account_id}")
        body = f"110101199003{1 + secrets.randbelow(28):02d}{secrets.randbelow(1000):03d}"
        view = platform.accounts.update_profile(li.actor, li.account_id, real_name="李娜",
                                                id_number=body + check_digit(body), address="北京市朝阳区建国路88号")
        say("privacy", f"her profile as support sees it: {view.phone}, {view.real_name}, {view.id_number}, "
            f"{view.address} (stored encrypted, bound to its row)")

        try:
            wang = platform.accounts.register_with_password("wang.wei@example.com", "桃花潭水深千尺不及汪伦送我情",
                                                            display_name="Wang Wei")
            say("customer", "Wang Wei registered with email and a Chinese passphrase")
        except Conflict:
            wang = platform.accounts.login_with_password("wang.wei@example.com", "桃花潭水深千尺不及汪伦送我情")
            say("customer", "Wang Wei logged in with email and password")

        auth_code = wechat.issue(Provider.WECHAT, "wx-openid-customer-zhao")
        zhao = platform.accounts.login_with_identity("wechat", auth_code, ip="198.51.100.4", device="iPhone")
        say("customer", f"Zhao signed in with WeChat ({'new account' if zhao.new_account else 'welcome back'}, "
            f"{zhao.account_id}); an Alipay login works the same way")

        intruder = f"nobody-{secrets.token_hex(3)}@example.com"
        wrong = 0
        for _ in range(6):
            try:
                platform.accounts.login_with_password(intruder, "guess-123456")
            except AuthenticationFailed:
                wrong += 1
            except Throttled as exc:
                say("security", f"an intruder guessing passwords for {intruder} fails {wrong} times, then is "
                    f"locked out for {exc.retry_after_seconds} s (the same answers whether or not the account "
                    "exists)")

        found = platform.users.search(admin, phone="+86 " + phone)
        say("support", f"support looks up {phone}: {found[0].id} {found[0].phone} (masked)")
        records = platform.users.login_records(admin, li.account_id, limit=3)
        for r in records:
            say("support", f"  login {local(r.at):%Y-%m-%d %H:%M} {r.method} {r.outcome} from {r.ip} {r.device}")

        platform.users.suspend(admin, wang.account_id, "chargeback fraud under review")
        try:
            platform.accounts.authenticate(wang.token)
        except AuthenticationFailed:
            say("support", "Wang Wei is suspended: his session stopped working at once")
        platform.users.reactivate(admin, wang.account_id)
        say("support", "after review Wang Wei is reactivated")

        therapist, service = therapist_story(platform, admin, sms, say)
        order_story(platform, li.actor, therapist, service, clock, gateway, say, admin)

        books = platform.ledger.verify(admin)
        say("ledger", f"ledger verified: {books.entries} entries, "
            f"{'no problems' if books.ok else f'{len(books.problems)} problem(s)'}")
        report = platform.audit.verify(admin)
        say("audit", f"operation log verified: {report.checked} entries, chain "
            f"{'intact' if report.ok else f'BROKEN at #{report.broken_at}'}")
        say("done", f"{obj.db_url} now holds these accounts; try `massage --token <token> users list` "
            f"after `massage admin login --email {ADMIN_EMAIL}` (password: {ADMIN_PASSWORD!r})")
    finally:
        platform.close()
