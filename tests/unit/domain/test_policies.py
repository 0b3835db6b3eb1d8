"""Throttle and one-time-code policies and the audit chain, on hand-computed cases."""

from datetime import timedelta

import attrs
import pendulum

from massage_core.domain.audit import AuditEntry, AuditOutcome, AuditRecord, verify_chain
from massage_core.domain.authentication import OneTimeCodePolicy, ThrottlePolicy
from massage_core.domain.ids import AuditEntryId

T0 = pendulum.datetime(2026, 3, 1, tz="UTC")


def test_throttle_locks_after_five_failures_until_the_oldest_leaves_the_window() -> None:
    policy = ThrottlePolicy()
    fails = [T0 + timedelta(minutes=i) for i in range(5)]
    assert policy.retry_after(fails[:4], T0 + timedelta(minutes=5)) == 0
    wait = policy.retry_after(fails, T0 + timedelta(minutes=5))
    assert wait == 10 * 60 + 1
    assert policy.retry_after(fails, T0 + timedelta(minutes=15)) == 0


def test_code_resend_waits() -> None:
    policy = OneTimeCodePolicy()
    assert policy.resend_wait([], T0) == 0
    assert policy.resend_wait([T0], T0 + timedelta(seconds=30)) == 31
    sent = [T0 + timedelta(minutes=2 * i) for i in range(5)]
    assert policy.resend_wait(sent, T0 + timedelta(minutes=10)) == 50 * 60 + 1


def _chain(n: int) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    for i in range(n):
        record = AuditRecord("acc_x", f"action{i}", "t", AuditOutcome.OK, (("k", str(i)),))
        entries.append(AuditEntry.chain(AuditEntryId(f"aud_{i}"), record, T0 + timedelta(seconds=i),
                                        entries[-1] if entries else None))
    return entries


def test_chain_detects_edit_delete_reorder_insert_and_cut_tail() -> None:
    chain = _chain(5)
    head = (chain[-1].sequence, chain[-1].hash)
    assert verify_chain(chain, head).ok
    edited = list(chain)
    edited[2] = attrs.evolve(edited[2], action="something else")
    assert verify_chain(edited, head).broken_at == 3
    assert verify_chain(chain[:2] + chain[3:], head).broken_at == 4
    assert verify_chain([chain[0], chain[2], chain[1], chain[3], chain[4]], head).broken_at == 3
    forged = AuditEntry.chain(AuditEntryId("aud_f"), AuditRecord("x", "y", "z", AuditOutcome.OK), T0, chain[1])
    report = verify_chain(chain[:2] + [forged] + chain[2:], head)
    assert (report.broken_at, report.broken_id) == (3, "aud_2")
    assert verify_chain(chain[:4], head).broken_at == 5
