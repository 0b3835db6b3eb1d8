"""Reviews on SQLite and PostgreSQL (decision 0037): the round trip of reviews, replies, moderation and the
therapist's feedback; the private note and flag reason encrypted at rest; one review per order even when the
customer submits twice at the same moment; the rating fed to the search index."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from massage_core.adapters.memory.clock import FixedClock
from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor, AdminRole, Role
from massage_core.domain.errors import Conflict, IntegrityError
from massage_core.domain.ids import AccountId
from massage_core.domain.reviews import ModerationState, Tag
from massage_core.domain.search import Rating
from order_support import happy_path
from search_support import shop, therapist as public_therapist
from storage_support import make_account

NOTE = "Secret-note-7f3a: customer was drunk"
REASON = "Flag-reason-91c2: threatened me"
SYSTEM = Actor.system()


def parties(platform: Platform) -> tuple[Actor, Actor, Actor]:
    """(a customer, a public therapist, a support admin)."""
    catalogue = shop(platform.deps.uow)
    therapist_id = public_therapist(platform.deps.uow, 31.23, 121.47, services=(catalogue.tuina,))
    customer, support = make_account(), make_account()
    with platform.deps.uow() as uow:
        uow.accounts.add(customer)
        uow.accounts.add(support)
        uow.commit()
    return (Actor(customer.id, roles=frozenset({Role.CUSTOMER})),
            Actor(AccountId(therapist_id), roles=frozenset({Role.THERAPIST})),
            Actor(support.id, roles=frozenset({Role.ADMIN}), admin_roles=frozenset({AdminRole.SUPPORT})))


def completed(platform: Platform, customer: Actor, therapist: Actor) -> str:
    """A completed order, stored straight through the repository (completed 70 minutes after its start)."""
    assert customer.account_id is not None and therapist.account_id is not None
    done = happy_path(customer.account_id, therapist.account_id)[8]
    with platform.deps.uow() as uow:
        uow.orders.add(done)
        uow.commit()
    return done.id


def test_round_trip(platform: Platform, clock: FixedClock) -> None:
    customer, therapist, support = parties(platform)
    reviews = platform.reviews
    order = completed(platform, customer, therapist)
    made = reviews.submit(customer, order, attitude=5, skill=4, pressure=2, text="call 138 0013 8000",
                          tags=["relaxing", "too_soft"])
    assert (made.state, made.findings, made.tags) == (ModerationState.PENDING, ("phone",),
                                                      (Tag.RELAXING, Tag.TOO_SOFT))
    assert [r.id for r in reviews.queue(support)] == [made.id]
    feedback = reviews.rate_customer(therapist, order, 2, NOTE)
    flagged = reviews.flag_customer(therapist, order, REASON)
    assert (flagged.stars, flagged.note, flagged.flag_reason, flagged.version) == (2, NOTE, REASON, 2)
    assert feedback.version == 1
    [seen] = reviews.flags(support)
    assert seen == flagged
    masked = reviews.mask(support, made.id)
    assert (masked.text, masked.state, masked.masked) == ("call *************", ModerationState.APPROVED, True)
    answered = reviews.reply(therapist, made.id, "thanks, wechat: lily_8899")
    assert answered.reply is not None and answered.reply.state is ModerationState.PENDING
    reviews.reject(support, made.id, "contact details", reply=True)
    [mine] = reviews.mine(customer)
    assert (mine.id, mine.text, mine.visible, mine.reply) == (made.id, "call *************", True, None)
    [about] = reviews.about_me(therapist)
    assert about.reply is not None and (about.reply.state, about.reply.reason) == (ModerationState.REJECTED,
                                                                                   "contact details")
    full = reviews.get(support, made.id)
    assert (full.findings, full.reply and full.reply.findings) == (("phone",), ("contact_id",))
    assert [r.id for r in reviews.for_therapist(SYSTEM, str(therapist.account_id))] == [made.id]
    rating = reviews.rating(SYSTEM, str(therapist.account_id))
    assert (rating.count, rating.attitude, rating.plain) == (1, 3.75, 3.667)  # (17.5 + 5) / 6; 11 / 3
    with platform.deps.uow() as uow:
        assert uow.locator.rating(AccountId(str(therapist.account_id))) == Rating(3.667, 1)
    assert reviews.queue(support) == []


def test_the_blind_and_the_rating_job_on_sql(platform: Platform, clock: FixedClock) -> None:
    customer, therapist, _ = parties(platform)
    order = completed(platform, customer, therapist)
    made = platform.reviews.submit(customer, order, attitude=3, skill=3, pressure=3)
    tid = str(therapist.account_id)
    assert platform.reviews.for_therapist(SYSTEM, tid) == []
    clock.set(made.submitted_at + dt.timedelta(days=30))
    assert [r.id for r in platform.reviews.for_therapist(SYSTEM, tid)] == [made.id]
    assert platform.reviews.release_due(SYSTEM) == 1
    assert platform.reviews.release_due(SYSTEM) == 0
    with platform.deps.uow() as uow:
        assert uow.locator.rating(AccountId(tid)) == Rating(3.0, 1)


def test_private_feedback_is_encrypted_at_rest(platform: Platform, sql_backend: object) -> None:
    customer, therapist, _ = parties(platform)
    order = completed(platform, customer, therapist)
    platform.reviews.rate_customer(therapist, order, 1, NOTE)
    platform.reviews.flag_customer(therapist, order, REASON)
    with platform.engine.connect() as connection:
        [(note, reason)] = connection.execute(text("SELECT note_enc, flag_reason_enc FROM customer_feedback")).all()
    assert NOTE not in note and REASON not in reason and note != reason
    url = str(platform.engine.url)
    if url.startswith("sqlite"):
        path = Path(platform.engine.url.database or "")
        stored = b"".join(p.read_bytes() for p in sorted(path.parent.glob(path.name + "*")))
        assert stored and NOTE.encode() not in stored and REASON.encode() not in stored
    with platform.engine.begin() as connection:  # a token moved to another column no longer opens
        connection.execute(text("UPDATE customer_feedback SET note_enc = flag_reason_enc"))
    with pytest.raises(IntegrityError) as err:
        platform.reviews.flags(Actor.system())
    assert err.value.code == "crypto.decrypt"


def test_a_concurrent_double_submit_stores_one_review(platform: Platform) -> None:
    customer, therapist, _ = parties(platform)
    order = completed(platform, customer, therapist)
    contenders = 6
    start = threading.Barrier(contenders)
    outcomes: list[str] = []
    lock = threading.Lock()

    def submit() -> None:
        start.wait()
        try:
            platform.reviews.submit(customer, order, attitude=4, skill=4, pressure=4, text="nice")
            outcome = "ok"
        except Conflict as conflict:
            outcome = conflict.code
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=submit) for _ in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok"] + ["review.duplicate"] * (contenders - 1)
    assert len(platform.reviews.mine(customer)) == 1
    with platform.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM reviews")).scalar_one() == 1
