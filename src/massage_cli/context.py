"""Settings shared by every command and the lazily built Platform."""

from __future__ import annotations

import os
from pathlib import Path

import attrs

from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.adapters.files.media_store import FilesystemMediaStore
from massage_core.adapters.memory.clock import SystemClock
from massage_core.adapters.smtp import SmtpEmailNotifier, SmtpSettings
from massage_core.bootstrap import DEFAULT_MEDIA_DIR, DEFAULT_URL, Platform, sandbox_notifiers
from massage_core.domain.notifications import Channel
from massage_core.ports.notifiers import Notifier
from massage_core.domain.access import Actor
from massage_core.domain.errors import MassageError, ValidationError

DEFAULT_KEY_FILE = "massage-keys.json"


@attrs.define
class CliContext:
    """What the global options said, plus the platform once something needs it."""

    db_url: str = DEFAULT_URL
    key_file: str = DEFAULT_KEY_FILE
    output: str = "table"
    debug: bool = False
    token: str | None = None
    _platform: Platform | None = None

    def keyring(self) -> KeyRing:
        """The key ring from MASSAGE_KEYS (JSON) or the key file; a clear error when neither exists."""
        if os.environ.get("MASSAGE_KEYS"):
            return KeyRing.load(None)
        if not Path(self.key_file).exists():
            raise ValidationError(
                f"no key ring at {self.key_file}: run `massage keys generate` or set MASSAGE_KEYS",
                code="keys.missing",
            )
        return KeyRing.load(self.key_file)

    def platform(self) -> Platform:
        """The platform on ``db_url`` with the configured key ring (built once); e-mail goes out through SMTP
        when ``MASSAGE_SMTP_HOST`` is set (the ``MASSAGE_SMTP_*`` variables, ``adapters.smtp.ENV_VARS``)."""
        if self._platform is None:
            media = FilesystemMediaStore(os.environ.get("MASSAGE_MEDIA_DIR") or DEFAULT_MEDIA_DIR)
            self._platform = Platform.from_url(self.db_url, keyring=self.keyring(), media_store=media,
                                               notifiers=channels())
        return self._platform

    def reset_platform(self) -> None:
        """Forget the platform (after the key ring changed)."""
        if self._platform is not None:
            self._platform.close()
        self._platform = None

    def actor(self) -> Actor:
        """The admin acting through ``--token`` / MASSAGE_TOKEN."""
        if not self.token:
            raise MassageError("this command needs an admin session: `massage admin login` then pass --token "
                               "or set MASSAGE_TOKEN", code="auth.required")
        return self.platform().accounts.authenticate(self.token)


def channels() -> dict[Channel, Notifier]:
    """The sandbox SMS and push channels, plus SMTP e-mail when ``MASSAGE_SMTP_HOST`` is set."""
    found = sandbox_notifiers()
    if os.environ.get("MASSAGE_SMTP_HOST"):
        found[Channel.EMAIL] = SmtpEmailNotifier(SmtpSettings.from_env(), SystemClock())
    return found
