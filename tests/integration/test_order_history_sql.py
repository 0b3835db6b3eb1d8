"""One person's order history on SQLite and PostgreSQL: ``orders.list_by_state`` filtered by customer and / or
therapist (newest first, paged, a constant number of statements per page), and ``platform.orders.list_all``
with ``customer`` / ``therapist`` audited as a staff read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor, AdminRole, Role
from massage_core.domain.audit import AuditOutcome
from massage_core.domain.ids import AccountId
from massage_core.domain.order_states import OrderState
from massage_core.ports.unit_of_work import UnitOfWork
from order_support import minutes, paid, placed
from schedule_support import new_therapist
from storage_support import Backend, make_account
from test_sql_hot_path import sent

ALL = list(OrderState)


def stored(new_uow: Callable[[], UnitOfWork]) -> tuple[AccountId, AccountId, AccountId, list[str]]:
    """(customer, therapist, other) and six orders placed a minute apart: customer/therapist (0, paid 2, 5),
    customer/other (1), other/therapist (3), other/None (4)."""
    customer, therapist, other = (new_therapist(new_uow) for _ in range(3))
    pairs = [(customer, therapist), (customer, other), (customer, therapist), (other, therapist), (other, None),
             (customer, therapist)]
    ids: list[str] = []
    with new_uow() as uow:
        for n, (who, whom) in enumerate(pairs):
            order = placed(who, whom, at=minutes(n))
            ids.append(uow.orders.add(paid(order) if n == 2 else order).id)
        uow.commit()
    return customer, therapist, other, ids


def test_the_repository_filters_pages_and_reads_a_page_at_once(sql_backend: Backend) -> None:
    customer, therapist, other, o = stored(sql_backend.new_uow)
    with sql_backend.new_uow() as uow:
        orders = uow.orders

        def ids(states: list[OrderState] = ALL, **kwargs: Any) -> list[str]:
            return [x.id for x in orders.list_by_state(states, **kwargs)]

        assert ids(customer_id=customer) == [o[5], o[2], o[1], o[0]]
        assert ids(therapist_id=therapist) == [o[5], o[3], o[2], o[0]]
        assert ids(customer_id=customer, therapist_id=therapist) == [o[5], o[2], o[0]]
        assert ids([OrderState.PENDING_PAYMENT], customer_id=customer, therapist_id=therapist) == [o[5], o[0]]
        assert ids([OrderState.AWAITING_ACCEPTANCE], therapist_id=therapist) == [o[2]]
        assert ids(customer_id=other) == [o[4], o[3]]
        assert ids(therapist_id=customer) == []
        assert ids(customer_id=customer, offset=1, limit=2) == [o[2], o[1]]
        with sent(uow) as statements:
            page = orders.list_by_state(ALL, customer_id=customer, limit=10)
        assert len(page) == 4 and all(len(x.timeline) >= 1 for x in page)
        reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        assert len(reads) == len(statements) == 2, statements  # the page's rows, then all their steps at once
        assert "customer_id" in reads[0] and "order_timeline" in reads[1]


def test_list_all_by_person_on_sql_is_audited(platform: Platform) -> None:
    customer, therapist, _, o = stored(platform.deps.uow)
    made = make_account(roles=frozenset({Role.ADMIN}), admin_roles=frozenset({AdminRole.SUPPORT}))
    with platform.deps.uow() as uow:
        uow.accounts.add(made)
        uow.commit()
    support = Actor(made.id, roles=frozenset({Role.ADMIN}), admin_roles=frozenset({AdminRole.SUPPORT}))
    page = platform.orders.list_all(support, customer=customer, therapist=therapist, limit=2)
    assert [v.id for v in page.orders] == [o[5], o[2]]
    assert [v.id for v in platform.orders.list_all(support, "awaiting_acceptance", therapist=therapist).orders] == [
        o[2]]
    with platform.deps.uow() as uow:
        written = [(e.action, e.target, e.outcome, dict(e.details)) for e in uow.audit.entries()
                   if e.actor == support.label]
    assert written == [
        ("orders.history", customer, AuditOutcome.OK, {"role": "customer", "state": ""}),
        ("orders.history", therapist, AuditOutcome.OK, {"role": "therapist", "state": ""}),
        ("orders.history", therapist, AuditOutcome.OK, {"role": "therapist", "state": "awaiting_acceptance"}),
    ]
