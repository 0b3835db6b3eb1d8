"""The named constructors pass the payout provider, the channels and the virtual-number provider through."""

from __future__ import annotations

from pathlib import Path

from conftest import fast_hasher
from massage_core.adapters.crypto.keyring import KeyRing
from massage_core.adapters.memory.clock import FixedClock
from massage_core.adapters.memory.notifiers import SandboxSmsNotifier
from massage_core.adapters.memory.payouts import SandboxPayoutGateway
from massage_core.adapters.memory.virtual_numbers import SandboxVirtualNumbers
from massage_core.adapters.sql.migrate import upgrade
from massage_core.bootstrap import Platform
from massage_core.domain.notifications import Channel
from order_kit import START


def test_in_memory_and_from_url_use_the_given_adapters(tmp_path: Path) -> None:
    clock = FixedClock(START)
    payouts, numbers = SandboxPayoutGateway(), SandboxVirtualNumbers(clock, pool=("+8617100009999",))
    channels = {Channel.SMS: SandboxSmsNotifier()}
    memory = Platform.in_memory(clock=clock, hasher=fast_hasher(), payout_gateway=payouts, virtual_numbers=numbers,
                                notifiers=channels)
    assert (memory.payout_gateway, memory.virtual_numbers, dict(memory.notifiers)) == (payouts, numbers, channels)
    url = f"sqlite:///{tmp_path / 'p.db'}"
    upgrade(url)
    sql = Platform.from_url(url, keyring=KeyRing.generate(), clock=clock, hasher=fast_hasher(),
                            payout_gateway=payouts, virtual_numbers=numbers, notifiers=channels)
    try:
        assert (sql.payout_gateway, sql.virtual_numbers, dict(sql.notifiers)) == (payouts, numbers, channels)
    finally:
        sql.close()
    default = Platform.in_memory(clock=clock, hasher=fast_hasher())
    assert isinstance(default.payout_gateway, SandboxPayoutGateway) and set(default.notifiers) == {Channel.SMS,
                                                                                                   Channel.PUSH}
