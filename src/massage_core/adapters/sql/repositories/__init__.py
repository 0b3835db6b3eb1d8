"""SQL repositories: one per port, all bound to one unit of work's connection."""

from massage_core.adapters.sql.repositories.accounts import SqlAccountRepository
from massage_core.adapters.sql.repositories.audit import SqlAuditTrail
from massage_core.adapters.sql.repositories.login_records import SqlLoginRecordRepository
from massage_core.adapters.sql.repositories.one_time_codes import SqlOneTimeCodeRepository
from massage_core.adapters.sql.repositories.sessions import SqlSessionRepository

__all__ = [
    "SqlAccountRepository",
    "SqlAuditTrail",
    "SqlLoginRecordRepository",
    "SqlOneTimeCodeRepository",
    "SqlSessionRepository",
]
