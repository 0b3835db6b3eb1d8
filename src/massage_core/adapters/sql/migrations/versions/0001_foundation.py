"""Foundation: accounts, identities, sessions, login records, one-time codes, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-01-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from massage_core.adapters.sql.types import UtcInstant

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create the foundation tables and the audit head row."""
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("created_at", UtcInstant(), nullable=False),
        sa.Column("roles", sa.String(200), nullable=False),
        sa.Column("admin_roles", sa.String(200), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("real_name_enc", sa.Text(), nullable=True),
        sa.Column("id_number_enc", sa.Text(), nullable=True),
        sa.Column("id_number_idx", sa.String(64), nullable=True),
        sa.Column("address_enc", sa.Text(), nullable=True),
        sa.Column("phone_enc", sa.Text(), nullable=True),
        sa.Column("phone_idx", sa.String(64), nullable=True),
        sa.Column("email_enc", sa.Text(), nullable=True),
        sa.Column("email_idx", sa.String(64), nullable=True),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("suspended_reason", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("id_number_idx", name=op.f("uq_accounts_id_number_idx")),
        sa.UniqueConstraint("phone_idx", name=op.f("uq_accounts_phone_idx")),
        sa.UniqueConstraint("email_idx", name=op.f("uq_accounts_email_idx")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_accounts_version_positive")),
    )
    op.create_index(op.f("ix_accounts_created_at_id"), "accounts", ["created_at", "id"])

    op.create_table(
        "account_identities",
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("subject_enc", sa.Text(), nullable=False),
        sa.Column("subject_idx", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_identities_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "provider", name=op.f("pk_account_identities")),
        sa.UniqueConstraint("provider", "subject_idx", name=op.f("uq_account_identities_provider_subject_idx")),
    )

    op.create_table(
        "sessions",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("token_hash", sa.String(128), nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("created_at", UtcInstant(), nullable=False),
        sa.Column("expires_at", UtcInstant(), nullable=False),
        sa.Column("revoked_at", UtcInstant(), nullable=True),
        sa.Column("ip_enc", sa.Text(), nullable=True),
        sa.Column("device_enc", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_sessions_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_sessions_token_hash")),
    )
    op.create_index(op.f("ix_sessions_account_id_created_at"), "sessions", ["account_id", "created_at"])

    op.create_table(
        "login_records",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("at", UtcInstant(), nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("subject_key", sa.String(128), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("account_id", sa.String(40), nullable=True),
        sa.Column("ip_enc", sa.Text(), nullable=True),
        sa.Column("device_enc", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_login_records_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_records")),
    )
    op.create_index(op.f("ix_login_records_subject_key_at"), "login_records", ["subject_key", "at"])
    op.create_index(op.f("ix_login_records_account_id_at"), "login_records", ["account_id", "at"])

    op.create_table(
        "one_time_codes",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("subject_key", sa.String(128), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("code_hash", sa.String(128), nullable=False),
        sa.Column("created_at", UtcInstant(), nullable=False),
        sa.Column("expires_at", UtcInstant(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("consumed_at", UtcInstant(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_one_time_codes")),
    )
    op.create_index(op.f("ix_one_time_codes_subject_key_created_at"), "one_time_codes", ["subject_key", "created_at"])

    op.create_table(
        "audit_log",
        sa.Column("sequence", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("at", UtcInstant(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("sequence", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("id", name=op.f("uq_audit_log_id")),
    )

    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_head_single_row")),
    )
    op.bulk_insert(head, [{"id": 1, "sequence": 0, "hash": ""}])


def downgrade() -> None:
    """Drop every foundation table."""
    op.drop_table("audit_head")
    op.drop_table("audit_log")
    op.drop_index(op.f("ix_one_time_codes_subject_key_created_at"), table_name="one_time_codes")
    op.drop_table("one_time_codes")
    op.drop_index(op.f("ix_login_records_account_id_at"), table_name="login_records")
    op.drop_index(op.f("ix_login_records_subject_key_at"), table_name="login_records")
    op.drop_table("login_records")
    op.drop_index(op.f("ix_sessions_account_id_created_at"), table_name="sessions")
    op.drop_table("sessions")
    op.drop_table("account_identities")
    op.drop_index(op.f("ix_accounts_created_at_id"), table_name="accounts")
    op.drop_table("accounts")
