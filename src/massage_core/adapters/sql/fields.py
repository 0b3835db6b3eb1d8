"""Encrypted columns: the registry of every one, and the codec the repositories use.

Each encrypted value is bound to (table, logical column, row id) through
the cipher's associated data, so a token copied to another row or column
fails to decrypt with ``IntegrityError``.  ``ENCRYPTED_FIELDS`` lists every
encrypted column; key rotation and the privacy tests walk it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from attrs import frozen
from sqlalchemy import Column, Table

from massage_core.adapters.sql.tables import account_identities, accounts, login_records, sessions
from massage_core.adapters.sql.tables_complaints import complaint_steps, platform_feedback, platform_feedback_replies
from massage_core.adapters.sql.tables_customers import customer_profiles
from massage_core.adapters.sql.tables_invoices import invoices
from massage_core.adapters.sql.tables_notifications import inbox_items, outbox_messages
from massage_core.adapters.sql.tables_orders import order_timeline, orders
from massage_core.adapters.sql.tables_sanctions import sanction_appeals, sanctions
from massage_core.adapters.sql.tables_reviews import customer_feedback
from massage_core.adapters.sql.tables_chat import chat_messages
from massage_core.adapters.sql.tables_therapists import therapist_profiles
from massage_core.ports.cipher import FieldCipher, FieldContext

PHONE_INDEX = "phone"
EMAIL_INDEX = "email"
ID_NUMBER_INDEX = "id_number"


@frozen
class EncryptedField:
    """One encrypted column: where it is, the name bound into its tokens, and how to name its row."""

    table: Table
    column: str
    context_column: str
    key_columns: tuple[str, ...]

    @property
    def sql_column(self) -> Column[Any]:
        """The column object holding the tokens."""
        return self.table.c[self.column]

    @property
    def key_sql_columns(self) -> tuple[Column[Any], ...]:
        """The primary-key columns identifying a row."""
        return tuple(self.table.c[name] for name in self.key_columns)

    def row_id(self, key: Sequence[Any]) -> str:
        """The row id bound into tokens: the key values joined with ':'."""
        return ":".join(str(part) for part in key)

    def context(self, key: Sequence[Any]) -> FieldContext:
        """The cipher context of this column in the row with primary key ``key``."""
        return FieldContext(self.table.name, self.context_column, self.row_id(key))


ACCOUNT_REAL_NAME = EncryptedField(accounts, "real_name_enc", "real_name", ("id",))
ACCOUNT_ID_NUMBER = EncryptedField(accounts, "id_number_enc", "id_number", ("id",))
ACCOUNT_ADDRESS = EncryptedField(accounts, "address_enc", "address", ("id",))
ACCOUNT_PHONE = EncryptedField(accounts, "phone_enc", "phone", ("id",))
ACCOUNT_EMAIL = EncryptedField(accounts, "email_enc", "email", ("id",))
IDENTITY_SUBJECT = EncryptedField(account_identities, "subject_enc", "subject", ("account_id", "provider"))
SESSION_IP = EncryptedField(sessions, "ip_enc", "ip", ("id",))
SESSION_DEVICE = EncryptedField(sessions, "device_enc", "device", ("id",))
LOGIN_IP = EncryptedField(login_records, "ip_enc", "ip", ("id",))
LOGIN_DEVICE = EncryptedField(login_records, "device_enc", "device", ("id",))
THERAPIST_REAL_NAME = EncryptedField(therapist_profiles, "real_name_enc", "real_name", ("account_id",))
THERAPIST_ID_NUMBER = EncryptedField(therapist_profiles, "id_number_enc", "id_number", ("account_id",))
CUSTOMER_BIRTH = EncryptedField(customer_profiles, "birth_enc", "birth", ("account_id",))
CUSTOMER_CONDITIONS = EncryptedField(customer_profiles, "conditions_enc", "conditions", ("account_id",))
CUSTOMER_HEALTH_NOTE = EncryptedField(customer_profiles, "health_note_enc", "health_note", ("account_id",))
ORDER_STEP_NOTE = EncryptedField(order_timeline, "note_enc", "note", ("order_id", "position"))
ORDER_ADDRESS = EncryptedField(orders, "address_enc", "address", ("id",))
INVOICE_TITLE_NAME = EncryptedField(invoices, "title_name_enc", "title_name", ("id",))
INVOICE_EMAIL = EncryptedField(invoices, "email_enc", "email", ("id",))
SANCTION_REASON = EncryptedField(sanctions, "reason_enc", "reason", ("id",))
APPEAL_TEXT = EncryptedField(sanction_appeals, "text_enc", "text", ("sanction_id",))
APPEAL_DECISION = EncryptedField(sanction_appeals, "decision_enc", "decision", ("sanction_id",))
CUSTOMER_FEEDBACK_NOTE = EncryptedField(customer_feedback, "note_enc", "note", ("order_id",))
FLAG_REASON = EncryptedField(customer_feedback, "flag_reason_enc", "flag_reason", ("order_id",))
COMPLAINT_STEP_NOTE = EncryptedField(complaint_steps, "note_enc", "note", ("complaint_id", "position"))
FEEDBACK_TEXT = EncryptedField(platform_feedback, "text_enc", "text", ("id",))
FEEDBACK_REPLY_TEXT = EncryptedField(platform_feedback_replies, "text_enc", "text", ("feedback_id", "position"))
CHAT_TEXT = EncryptedField(chat_messages, "text_enc", "text", ("order_id", "seq"))
OUTBOX_SUBJECT = EncryptedField(outbox_messages, "subject_enc", "subject", ("id",))
OUTBOX_BODY = EncryptedField(outbox_messages, "body_enc", "body", ("id",))
INBOX_SUBJECT = EncryptedField(inbox_items, "subject_enc", "subject", ("id",))
INBOX_BODY = EncryptedField(inbox_items, "body_enc", "body", ("id",))

ENCRYPTED_FIELDS: tuple[EncryptedField, ...] = (
    ACCOUNT_REAL_NAME,
    ACCOUNT_ID_NUMBER,
    ACCOUNT_ADDRESS,
    ACCOUNT_PHONE,
    ACCOUNT_EMAIL,
    IDENTITY_SUBJECT,
    SESSION_IP,
    SESSION_DEVICE,
    LOGIN_IP,
    LOGIN_DEVICE,
    THERAPIST_REAL_NAME,
    THERAPIST_ID_NUMBER,
    CUSTOMER_BIRTH,
    CUSTOMER_CONDITIONS,
    CUSTOMER_HEALTH_NOTE,
    ORDER_STEP_NOTE,
    ORDER_ADDRESS,
    INVOICE_TITLE_NAME,
    INVOICE_EMAIL,
    SANCTION_REASON,
    APPEAL_TEXT,
    APPEAL_DECISION,
    CUSTOMER_FEEDBACK_NOTE,
    FLAG_REASON,
    COMPLAINT_STEP_NOTE,
    FEEDBACK_TEXT,
    FEEDBACK_REPLY_TEXT,
    CHAT_TEXT,
    OUTBOX_SUBJECT,
    OUTBOX_BODY,
    INBOX_SUBJECT,
    INBOX_BODY,
)


class FieldCodec:
    """Encrypts and decrypts registered fields, and computes blind indexes, with one cipher."""

    def __init__(self, cipher: FieldCipher) -> None:
        """Use ``cipher`` for every field."""
        self.cipher = cipher

    def seal(self, field: EncryptedField, key: Sequence[Any], value: str) -> str | None:
        """The token for ``value`` (None for the empty string: nothing to hide, nothing stored)."""
        if value == "":
            return None
        return self.cipher.encrypt(value, field.context(key))

    def open(self, field: EncryptedField, key: Sequence[Any], token: str | None) -> str:
        """The plaintext of ``token`` ("" for NULL); IntegrityError when it does not belong here."""
        if token is None:
            return ""
        return self.cipher.decrypt(token, field.context(key))

    def index(self, kind: str, normalised: str) -> str:
        """The blind index of ``normalised`` in the domain ``kind``."""
        return self.cipher.blind_index(kind, normalised)
