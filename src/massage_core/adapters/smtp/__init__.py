"""E-mail notifications over SMTP: a ``Notifier`` adapter for the ``email`` channel (decision 42).

``SmtpSettings`` (``settings``) says where the server is and how to talk to it, from code or from the
``MASSAGE_SMTP_*`` environment variables; ``SmtpEmailNotifier`` (``notifier``) composes and submits one
message per delivery with the standard library's ``smtplib``.
"""

from __future__ import annotations

from massage_core.adapters.smtp.notifier import SmtpEmailNotifier, message_id
from massage_core.adapters.smtp.settings import ENV_VARS, SmtpSettings

__all__ = ["ENV_VARS", "SmtpEmailNotifier", "SmtpSettings", "message_id"]
