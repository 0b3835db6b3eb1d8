"""What the admins' deductions and bonuses share (earnings adjustments, sanctions, complaint penalties): the
refusal of an amount above the available balance, which names the balance only to ``ledger.read`` holders
(support imposes sanctions and resolves complaints without reading the ledger), and the replay of a retried
request (decision 0032)."""

from __future__ import annotations

from collections.abc import Iterable

from massage_core.domain import idempotency
from massage_core.domain.access import Actor, Permission
from massage_core.domain.errors import ValidationError
from massage_core.domain.ledger import JournalEntry
from massage_core.domain.money import Money
from massage_core.ports.unit_of_work import UnitOfWork


def exceeds_available(actor: Actor, available: Money, code: str) -> ValidationError:
    """The ValidationError ``code`` (field ``amount``) for a deduction above ``available``: the figure is in the
    message only when ``actor`` may read the ledger."""
    if actor.may(Permission.LEDGER_READ):
        message = f"the therapist's available balance is {available}"
    else:
        message = "the amount is more than the therapist's available balance"
    return ValidationError(message, code=code, field="amount")


def replayed(uow: UnitOfWork, entry: JournalEntry, keys: Iterable[str], request: str) -> JournalEntry | None:
    """What the request ``request`` posted before under one of ``keys`` (the keys its id may have made): None
    when nothing, the stored entry when it is ``entry`` again (same key, lines and memo); Conflict
    ``request.reused`` when it is another posting."""
    for key in keys:
        stored = uow.ledger.entry(key)
        if stored is None:
            continue
        if stored.same_posting(entry) and stored.memo == entry.memo:
            return stored
        raise idempotency.reused(request)
    return None
