"""What a booking reads (issue 4, Performance): the therapist's account by its status column alone (no
identities, nothing decrypted), the catalogue and the therapist's children by their ids; a suspended account
still refuses the booking (NotFound ``therapist``)."""

from __future__ import annotations

import attrs
import pendulum
import pytest
from sqlalchemy import event

from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor, Role
from massage_core.domain.accounts import AccountStatus
from massage_core.domain.errors import NotFound
from massage_core.domain.ids import AccountId
from search_support import shop, therapist
from storage_support import make_account

LAT, LNG = 31.2304, 121.4737
START = pendulum.datetime(2026, 1, 6, 10, tz="Asia/Shanghai")  # the day after T0, within the weekly hours


def bookable(platform: Platform) -> tuple[Actor, str, str]:
    service = shop(platform.deps.uow).tuina
    tid = therapist(platform.deps.uow, LAT, LNG, services=(service,))
    platform.schedules.set_weekly_hours(Actor.system(), tid, {day: [("07:00", "21:00")] for day in range(1, 8)})
    platform.schedules.set_online(Actor.system(), tid, True)
    account = make_account()
    with platform.deps.uow() as uow:
        uow.accounts.add(account)
        uow.commit()
    return Actor(account.id, roles=frozenset({Role.CUSTOMER})), tid, service


def test_a_booking_reads_the_therapist_account_status_only(platform: Platform) -> None:
    customer, tid, service = bookable(platform)
    sent: list[str] = []
    event.listen(platform.engine, "before_cursor_execute", lambda *args: sent.append(args[2]))

    def traced(dbapi_connection: object, _record: object) -> None:
        if platform.engine.dialect.name == "sqlite":
            dbapi_connection.set_trace_callback(sent.append)  # type: ignore[attr-defined]

    event.listen(platform.engine, "connect", traced)
    platform.engine.dispose()
    booked = platform.orders.book(customer, therapist=tid, service=service, start=START, lat=LAT, lng=LNG)
    assert booked.state == "pending_payment"
    reads = [s.split("FROM")[1].split()[0] for s in sent if s.lstrip().upper().startswith("SELECT") and "FROM" in s]
    assert "account_identities" not in reads
    assert any("accounts.status" in s and "FROM accounts" in s for s in sent)
    assert not any(s.startswith("SELECT accounts.id") for s in sent)  # the account is not loaded whole


def test_a_suspended_therapist_account_is_still_not_bookable(platform: Platform) -> None:
    customer, tid, service = bookable(platform)
    with platform.deps.uow() as uow:
        account = uow.accounts.get(AccountId(tid))
        uow.accounts.save(attrs.evolve(account, status=AccountStatus.SUSPENDED))
        uow.commit()
    with pytest.raises(NotFound) as refused:
        platform.orders.book(customer, therapist=tid, service=service, start=START, lat=LAT, lng=LNG)
    assert refused.value.kind == "therapist"
