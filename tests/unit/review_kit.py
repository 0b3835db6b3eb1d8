"""Builders for the review tests: completed orders through the order kit, reviews, and refusal checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from conftest import Kit, Person
from massage_core.domain.access import Actor
from massage_core.domain.errors import MassageError
from massage_core.domain.ids import AccountId
from massage_core.domain.search import Rating
from massage_core.services.review_views import ReviewView
from order_kit import advance, book, pay
from search_support import Shop

SCORES = {"attitude": 5, "skill": 4, "pressure": 3}
PHONE_TEXT = "great massage, add me: 138 0013 8000"


def order_in(kit: Kit, shop: Shop, customer: Person, therapist: Person, state: str = "completed") -> str:
    """A fresh order of ``customer`` with ``therapist``, moved to ``state`` along the happy path."""
    order = book(kit.platform, customer.actor, therapist.account_id, shop.tuina).id
    pay(kit.platform, order)
    advance(kit.platform, order, therapist.actor, customer.actor, state)
    return order


def submit(kit: Kit, customer: Person, order: str, text: str = "very good", **changes: Any) -> ReviewView:
    args: dict[str, Any] = dict(SCORES)
    args.update(changes)
    made: ReviewView = kit.platform.reviews.submit(customer.actor, order, text=text, **args)
    return made


def refused(error: type[MassageError], code: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    with pytest.raises(error) as err:
        fn(*args, **kwargs)
    assert type(err.value) is error and err.value.code == code, repr(err.value)


def later(kit: Kit, **delta: float) -> None:
    kit.clock.advance(dt.timedelta(**delta))


def search_rating(kit: Kit, therapist: Person) -> Rating | None:
    with kit.platform.deps.uow() as uow:
        return uow.locator.rating(AccountId(therapist.account_id))


SYSTEM = Actor.system()
