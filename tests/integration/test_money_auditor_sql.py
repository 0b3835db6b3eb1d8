"""The money auditor (``tests/unit/test_money_auditor.py``) on SQLite: the same random payments, visits,
cancellations, refunds, adjustments, withdrawals, payouts, replays and timers, audited after every step through
the ledger's reads, on ``Platform.from_url`` over a fresh migrated SQLite file per example."""

from __future__ import annotations

import itertools
import shutil
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.adapters.crypto.passwords import Argon2idPasswordHasher
from massage_core.adapters.memory.clock import FixedClock
from massage_core.bootstrap import Platform

sys.path.append(str(Path(__file__).resolve().parents[1] / "unit"))
from test_money_auditor import POLICIES, MoneyAuditor  # noqa: E402

EXAMPLES, STEPS = 15, 25


def test_the_money_auditor_on_sqlite(sqlite_template: Path, tmp_path: Path) -> None:
    files = itertools.count()
    keyring = KeyRing.generate()

    class OnSqlite(MoneyAuditor):
        def make_platform(self, clock: FixedClock) -> Platform:
            path = tmp_path / f"audit-{next(files)}.db"
            shutil.copyfile(sqlite_template, path)
            return Platform.from_url(f"sqlite:///{path}", keyring=keyring, clock=clock,
                                     hasher=Argon2idPasswordHasher.for_tests(), policies=POLICIES)

    run_state_machine_as_test(OnSqlite, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
