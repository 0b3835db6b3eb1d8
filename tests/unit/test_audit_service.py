"""The audit service: listing, verifying, denied actions, and tampering with the stored chain."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
import pytest

from massage_core.domain.access import Actor
from massage_core.domain.audit import AuditEntry, AuditOutcome, AuditRecord
from massage_core.domain.errors import PermissionDenied
from massage_core.domain.ids import AuditEntryId

if TYPE_CHECKING:
    from conftest import Kit, Person

CHAIN_LENGTH = 8


@pytest.fixture
def auditor(kit: Kit) -> Person:
    """An auditor, with a chain of CHAIN_LENGTH entries behind them (verify itself writes nothing)."""
    auditor = kit.auditor()
    support = kit.support()
    customer = kit.customer_by_phone()
    while len(kit.audit_entries()) < CHAIN_LENGTH:
        kit.platform.users.login_records(support.actor, customer.account_id)
    assert len(kit.audit_entries()) == CHAIN_LENGTH
    assert kit.platform.audit.verify(auditor.actor).ok
    return auditor


def test_an_empty_chain_verifies(kit: Kit) -> None:
    report = kit.platform.audit.verify(Actor.system())
    assert report.ok and report.checked == 0


def test_a_fresh_chain_verifies(kit: Kit, auditor: Person) -> None:
    report = kit.platform.audit.verify(auditor.actor)
    assert report.ok
    assert report.checked == CHAIN_LENGTH
    assert (report.broken_at, report.broken_id, report.reason) == (None, None, "")


def test_entries_are_listed_in_chain_order_and_paged(kit: Kit, auditor: Person) -> None:
    entries = kit.platform.audit.entries(auditor.actor)
    assert [e.sequence for e in entries] == list(range(1, CHAIN_LENGTH + 1))
    assert entries[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in zip(entries, entries[1:]))
    page = kit.platform.audit.entries(auditor.actor, after_sequence=3, limit=2)
    assert [e.sequence for e in page] == [4, 5]


def test_a_denied_authorisation_is_appended(kit: Kit, auditor: Person) -> None:
    customer = kit.customer_by_phone()
    with pytest.raises(PermissionDenied):
        kit.platform.users.search(customer.actor, phone="13800138000")
    entry = kit.platform.audit.entries(auditor.actor, after_sequence=CHAIN_LENGTH)[-1]
    assert (entry.actor, entry.action, entry.target, entry.outcome) == (
        customer.account_id, "users.search", "accounts", AuditOutcome.DENIED)
    assert dict(entry.details) == {"error": "permission_denied"}
    assert entry.at == kit.clock.now()
    assert kit.platform.audit.verify(auditor.actor).ok


def test_anonymous_denials_are_appended(kit: Kit) -> None:
    with pytest.raises(PermissionDenied):
        kit.platform.audit.verify(Actor.anonymous())
    entry = kit.audit_entries()[-1]
    assert (entry.actor, entry.action, entry.outcome) == ("anonymous", "audit.verify", AuditOutcome.DENIED)


@pytest.mark.parametrize("kind", ["customer", "therapist", "support", "finance"])
def test_only_auditors_and_superadmins_read_the_log(kit: Kit, kind: str) -> None:
    person = {"customer": kit.customer_by_phone, "therapist": kit.therapist, "support": kit.support,
              "finance": kit.finance}[kind]()
    for call in (kit.platform.audit.entries, kit.platform.audit.verify):
        before = len(kit.audit_entries())
        with pytest.raises(PermissionDenied):
            call(person.actor)
        assert len(kit.audit_entries()) == before + 1
        assert kit.audit_entries()[-1].outcome is AuditOutcome.DENIED
    assert kit.platform.audit.verify(kit.superadmin().actor).ok


# -- tampering ---------------------------------------------------------------------------------------


def verify(kit: Kit, auditor: Person) -> tuple[int | None, str | None, int]:
    report = kit.platform.audit.verify(auditor.actor)
    assert not report.ok
    assert report.reason
    return report.broken_at, report.broken_id, report.checked


@pytest.mark.parametrize("change", [
    {"target": "acc_00000000000000000000000999"},
    {"action": "users.show"},
    {"actor": "system"},
    {"outcome": AuditOutcome.DENIED},
    {"details": (("by", "forged"),)},
])
def test_editing_a_field_is_detected_at_that_entry(kit: Kit, auditor: Person, change: dict[str, Any]) -> None:
    audit = kit.tables.audit
    original = audit[3]
    audit[3] = attrs.evolve(original, **change)
    assert verify(kit, auditor) == (4, original.id, 3)


def test_editing_and_rehashing_an_entry_is_detected_at_the_next(kit: Kit, auditor: Person) -> None:
    audit = kit.tables.audit
    edited = attrs.evolve(audit[3], target="acc_00000000000000000000000999")
    audit[3] = attrs.evolve(edited, hash=edited.compute_hash())
    assert verify(kit, auditor) == (5, audit[4].id, 4)


def test_deleting_a_middle_entry_is_detected(kit: Kit, auditor: Person) -> None:
    audit = kit.tables.audit
    after = audit[4]
    del audit[3]
    assert verify(kit, auditor) == (5, after.id, 3)


def test_swapping_two_entries_is_detected(kit: Kit, auditor: Person) -> None:
    audit = kit.tables.audit
    audit[2], audit[3] = audit[3], audit[2]
    assert verify(kit, auditor) == (4, audit[2].id, 2)


def test_inserting_a_properly_chained_forged_entry_is_detected(kit: Kit, auditor: Person) -> None:
    audit = kit.tables.audit
    record = AuditRecord("system", "users.set_roles", "acc_00000000000000000000000999", AuditOutcome.OK)
    forged = AuditEntry.chain(AuditEntryId("aud_00000000000000000000000999"), record, kit.clock.now(), audit[2])
    displaced = audit[3]
    audit.insert(3, forged)
    # the forgery itself links up, so the chain breaks at the entry it displaced
    assert verify(kit, auditor) == (4, displaced.id, 4)


def test_inserting_a_crude_forged_entry_is_detected_at_it(kit: Kit, auditor: Person) -> None:
    audit = kit.tables.audit
    forged = attrs.evolve(audit[2], id=AuditEntryId("aud_00000000000000000000000999"), sequence=4,
                          action="users.set_roles")
    audit.insert(3, forged)
    assert verify(kit, auditor) == (4, forged.id, 3)


@pytest.mark.parametrize("cut", [1, 3])
def test_cutting_off_the_tail_is_detected(kit: Kit, auditor: Person, cut: int) -> None:
    audit = kit.tables.audit
    del audit[-cut:]
    assert verify(kit, auditor) == (CHAIN_LENGTH - cut + 1, None, CHAIN_LENGTH - cut)


def test_emptying_the_log_is_detected(kit: Kit, auditor: Person) -> None:
    kit.tables.audit.clear()
    assert verify(kit, auditor) == (1, None, 0)


def test_renumbering_an_entry_is_detected_at_it(kit: Kit, auditor: Person) -> None:
    audit = kit.tables.audit
    renumbered = attrs.evolve(audit[3], sequence=99)
    audit[3] = attrs.evolve(renumbered, hash=renumbered.compute_hash())
    report = kit.platform.audit.verify(auditor.actor)
    assert (report.broken_at, report.broken_id, report.checked) == (99, renumbered.id, 3)
    assert "sequence" in report.reason


def test_the_reports_say_why(kit: Kit, auditor: Person) -> None:
    audit = kit.tables.audit
    audit[5] = attrs.evolve(audit[5], target="forged")
    assert "content" in kit.platform.audit.verify(auditor.actor).reason
    del kit.tables.audit[2]  # (a unit of work may replace the tables object: fetch it again)
    assert "sequence" in kit.platform.audit.verify(auditor.actor).reason
