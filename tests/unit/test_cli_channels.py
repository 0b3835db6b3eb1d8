"""The CLI's channels: the sandboxes always, SMTP e-mail only when MASSAGE_SMTP_HOST is configured."""

from __future__ import annotations

import pytest

from massage_cli.context import channels
from massage_core.adapters.smtp import SmtpEmailNotifier
from massage_core.domain.errors import ValidationError
from massage_core.domain.notifications import Channel


def test_without_smtp_settings_there_is_no_email_channel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MASSAGE_SMTP_HOST", raising=False)
    assert set(channels()) == {Channel.SMS, Channel.PUSH}


def test_smtp_settings_from_the_environment_add_email(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASSAGE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("MASSAGE_SMTP_PORT", "2525")
    monkeypatch.setenv("MASSAGE_SMTP_STARTTLS", "false")
    monkeypatch.setenv("MASSAGE_SMTP_SENDER", "noreply@massage.example")
    found = channels()
    assert set(found) == {Channel.SMS, Channel.PUSH, Channel.EMAIL}
    assert isinstance(found[Channel.EMAIL], SmtpEmailNotifier)


def test_incomplete_smtp_settings_are_refused_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASSAGE_SMTP_HOST", "127.0.0.1")
    monkeypatch.delenv("MASSAGE_SMTP_SENDER", raising=False)
    with pytest.raises(ValidationError) as refused:
        channels()
    assert refused.value.code == "smtp.config"
