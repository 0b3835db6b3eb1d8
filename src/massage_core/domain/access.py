"""Roles, permissions and the acting party.

The permission table is data in code: a role (or admin sub-role) grants a
set of permissions.  Ownership ("my own order") is checked by each use case
on top of the permission; see ``Actor.may`` and the services.
"""

from __future__ import annotations

import enum

from attrs import field, frozen

from massage_core.domain.ids import AccountId


class Role(enum.StrEnum):
    """What an account is on the platform; an account may hold several."""

    CUSTOMER = "customer"
    THERAPIST = "therapist"
    ADMIN = "admin"


class AdminRole(enum.StrEnum):
    """Back-office sub-roles of an admin."""

    SUPPORT = "support"
    FINANCE = "finance"
    AUDITOR = "auditor"
    SUPERADMIN = "superadmin"


class Permission(enum.StrEnum):
    """Everything a use case may check for."""

    OWN_ACCOUNT_READ = "own_account.read"
    OWN_ACCOUNT_MANAGE = "own_account.manage"
    USERS_READ = "users.read"
    USERS_SUSPEND = "users.suspend"
    LOGIN_RECORDS_READ = "login_records.read"
    ROLES_MANAGE = "roles.manage"
    AUDIT_READ = "audit.read"
    KEYS_MANAGE = "keys.manage"
    OWN_SCHEDULE_MANAGE = "own_schedule.manage"
    SCHEDULES_READ = "schedules.read"
    RESERVATIONS_MANAGE = "reservations.manage"
    CATALOG_MANAGE = "catalog.manage"
    THERAPISTS_READ = "therapists.read"
    THERAPISTS_VET = "therapists.vet"
    THERAPISTS_SUSPEND = "therapists.suspend"
    ORDERS_PLACE = "orders.place"
    ORDERS_SERVE = "orders.serve"
    ORDERS_READ = "orders.read"
    ORDERS_MANAGE = "orders.manage"
    JOBS_RUN = "jobs.run"
    CUSTOMER_PROFILES_READ = "customer_profiles.read"
    """The masked view of a customer's profile (age band, "declared conditions: yes/no"); decision 0022."""
    LEDGER_READ = "ledger.read"
    """Every ledger account's balance and entries, and ``ledger verify`` (finance, auditors, superadmins)."""
    OWN_LEDGER_READ = "own_ledger.read"
    """A therapist's own ledger accounts (the per-owner books); decision 0029."""
    INVOICES_MANAGE = "invoices.manage"
    """The invoice queue: list requests, issue and void invoices (finance, superadmin); decision 0030."""
    MONEY_MANAGE = "money.manage"
    """Admin money actions: decide withdrawals and pay them out (finance, superadmin); decision 0033."""
    OWN_WITHDRAWALS_MANAGE = "own_withdrawals.manage"
    """A therapist's own withdrawals: request them and see them; decision 0033."""
    COMPLAINTS_MEDIATE = "complaints.mediate"
    """Every complaint: read, take into mediation and resolve (support, superadmin); decision 0038."""
    FEEDBACK_MANAGE = "feedback.manage"
    """The feedback queue: read every item and reply (support, superadmin); decision 0038."""
    REVIEWS_MODERATE = "reviews.moderate"
    """The review moderation queue (approve, reject, mask) and therapists' flags of customers; decision 0037."""
    SANCTIONS_READ = "sanctions.read"
    """Every therapist's sanctions and appeals (support, auditors, superadmins); decision 0039."""
    SANCTIONS_MANAGE = "sanctions.manage"
    """Impose sanctions and decide appeals -- never one's own (support, superadmins); decision 0039."""
    OWN_SANCTIONS_MANAGE = "own_sanctions.manage"
    """A therapist's own sanctions: see them and appeal them once; decision 0039."""
    QUALITY_READ = "quality.read"
    """Any therapist's quality score and the rankings (support, auditors, superadmins); decision 0039."""
    OWN_QUALITY_READ = "own_quality.read"
    """A therapist's own quality score; decision 0039."""
    ANNOUNCEMENTS_MANAGE = "announcements.manage"
    """Send announcements and training notices, list them and read their stats (support, superadmin); 0044."""
    SUPPORT_DUTY = "support.duty"
    """Go on and off SOS duty, see who is on duty (support, superadmin); decision 0044."""
    OUTBOX_MANAGE = "outbox.manage"
    """Run the notification dispatcher, list the outbox and retry dead messages (superadmins); decision 0041."""


def role_permissions(role: Role) -> frozenset[Permission]:
    """Permissions that a plain role grants."""
    table: dict[Role, frozenset[Permission]] = {
        Role.CUSTOMER: frozenset({Permission.OWN_ACCOUNT_READ, Permission.OWN_ACCOUNT_MANAGE,
                                  Permission.ORDERS_PLACE}),
        Role.THERAPIST: frozenset({Permission.OWN_ACCOUNT_READ, Permission.OWN_ACCOUNT_MANAGE,
                                   Permission.OWN_SCHEDULE_MANAGE, Permission.ORDERS_SERVE,
                                   Permission.OWN_LEDGER_READ, Permission.OWN_WITHDRAWALS_MANAGE,
                                   Permission.OWN_SANCTIONS_MANAGE, Permission.OWN_QUALITY_READ}),
        Role.ADMIN: frozenset({Permission.OWN_ACCOUNT_READ, Permission.OWN_ACCOUNT_MANAGE}),
    }
    return table[role]


def admin_permissions(admin_role: AdminRole) -> frozenset[Permission]:
    """Permissions that an admin sub-role grants on top of the admin role."""
    support = frozenset({Permission.USERS_READ, Permission.USERS_SUSPEND, Permission.LOGIN_RECORDS_READ,
                         Permission.THERAPISTS_READ, Permission.THERAPISTS_VET, Permission.THERAPISTS_SUSPEND,
                         Permission.SCHEDULES_READ, Permission.RESERVATIONS_MANAGE,
                         Permission.ORDERS_READ, Permission.ORDERS_MANAGE, Permission.CUSTOMER_PROFILES_READ,
                         Permission.REVIEWS_MODERATE, Permission.SANCTIONS_READ, Permission.SANCTIONS_MANAGE,
                         Permission.QUALITY_READ, Permission.COMPLAINTS_MEDIATE, Permission.FEEDBACK_MANAGE,
                         Permission.ANNOUNCEMENTS_MANAGE, Permission.SUPPORT_DUTY})
    table: dict[AdminRole, frozenset[Permission]] = {
        AdminRole.SUPPORT: support,
        AdminRole.FINANCE: frozenset({Permission.USERS_READ, Permission.INVOICES_MANAGE, Permission.LEDGER_READ,
                                      Permission.MONEY_MANAGE}),
        AdminRole.AUDITOR: frozenset({Permission.USERS_READ, Permission.LOGIN_RECORDS_READ, Permission.AUDIT_READ,
                                      Permission.THERAPISTS_READ, Permission.SCHEDULES_READ,
                                      Permission.LEDGER_READ, Permission.SANCTIONS_READ, Permission.QUALITY_READ}),
        AdminRole.SUPERADMIN: support
        | frozenset({Permission.ROLES_MANAGE, Permission.AUDIT_READ, Permission.KEYS_MANAGE,
                     Permission.CATALOG_MANAGE, Permission.JOBS_RUN, Permission.INVOICES_MANAGE,
                     Permission.LEDGER_READ, Permission.MONEY_MANAGE, Permission.OUTBOX_MANAGE}),
    }
    return table[admin_role]


@frozen
class Actor:
    """Who is acting: an authenticated account (with its roles), the system, or nobody."""

    account_id: AccountId | None
    roles: frozenset[Role] = field(factory=frozenset)
    admin_roles: frozenset[AdminRole] = field(factory=frozenset)
    is_system: bool = False

    @classmethod
    def anonymous(cls) -> Actor:
        """Nobody logged in: may browse public data and log in, nothing else."""
        return cls(account_id=None)

    @classmethod
    def system(cls) -> Actor:
        """The platform itself (timers, CLI bootstrap); holds every permission."""
        return cls(account_id=None, is_system=True)

    @property
    def is_authenticated(self) -> bool:
        return self.account_id is not None

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles and bool(self.admin_roles)

    def permissions(self) -> frozenset[Permission]:
        """Every permission this actor holds through its roles."""
        if self.is_system:
            return frozenset(Permission)
        granted: set[Permission] = set()
        for role in self.roles:
            granted |= role_permissions(role)
        if Role.ADMIN in self.roles:
            for sub in self.admin_roles:
                granted |= admin_permissions(sub)
        return frozenset(granted)

    def may(self, permission: Permission) -> bool:
        """True when any role of the actor grants ``permission``."""
        return permission in self.permissions()

    def owns(self, account_id: AccountId) -> bool:
        """True when the object belongs to this very account."""
        return self.account_id is not None and self.account_id == account_id

    @property
    def label(self) -> str:
        """A short name for audit entries."""
        if self.is_system:
            return "system"
        return self.account_id or "anonymous"
