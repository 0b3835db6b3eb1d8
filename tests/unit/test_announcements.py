"""Announcements and training notices (issue 7; decision 0044): targeting, receipts, stats and access."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import Kit, Person
from massage_core.domain.access import Actor
from massage_core.domain.errors import NotFound, PermissionDenied, ValidationError
from massage_core.domain.ids import AccountId
from massage_core.domain.outbox import OutboxState
from massage_core.domain.therapist_values import ServiceArea
from order_kit import LAT, LNG
from search_support import Shop
from catalog_support import make_profile

SYSTEM = Actor.system()
BEIJING = (39.9042, 116.4074)
HANGZHOU_EDGE = (30.2741, 120.1551)


def _therapist(kit: Kit, where: tuple[float, float] | None, level: str | None) -> Person:
    person = kit.therapist()
    if where is not None:
        with kit.platform.deps.uow() as uow:
            stored = uow.therapists.add(make_profile(person.account_id, area=ServiceArea(where[0], where[1], 8)))
            uow.therapists.save(stored.with_level(level, stored.created_at) if level else stored)
            uow.commit()
    return person


@pytest.fixture
def people(kit: Kit, shop: Shop) -> dict[str, Person]:
    """Two customers, four therapists (Shanghai senior and junior, Beijing senior, one without a profile), a
    suspended customer, and staff."""
    found = {
        "c1": kit.customer_by_phone(), "c2": kit.customer_by_phone(),
        "sh_senior": _therapist(kit, (LAT, LNG), "senior"),
        "sh_junior": _therapist(kit, (LAT + 0.1, LNG - 0.1), "junior"),
        "bj_senior": _therapist(kit, BEIJING, "senior"),
        "bare": _therapist(kit, None, None),
        "gone": kit.customer_by_phone(),
        "support": kit.support(),
    }
    kit.platform.users.suspend(SYSTEM, found["gone"].account_id, "left")
    return found


def _targets(kit: Kit, ident: str) -> set[str]:
    return {who for (a, who) in kit.tables.announcement_receipts if a == ident}


def ids(people: dict[str, Person], *names: str) -> set[str]:
    return {people[n].account_id for n in names}


def test_targeting_by_role_city_and_level(kit: Kit, people: dict[str, Person]) -> None:
    send = kit.platform.announcements.send
    support = people["support"].actor
    cases = [
        ({"audience": "customers"}, ("c1", "c2")),
        ({"audience": "therapists"}, ("sh_senior", "sh_junior", "bj_senior", "bare")),
        ({"audience": "both"}, ("c1", "c2", "sh_senior", "sh_junior", "bj_senior", "bare")),
        ({"audience": "therapists", "city": "shanghai"}, ("sh_senior", "sh_junior")),
        ({"audience": "therapists", "city": "beijing"}, ("bj_senior",)),
        ({"audience": "therapists", "levels": ["senior"]}, ("sh_senior", "bj_senior")),
        ({"audience": "therapists", "city": "shanghai", "levels": ["senior", "expert"]}, ("sh_senior",)),
        ({"audience": "therapists", "city": "hangzhou"}, ()),
    ]
    for options, expected in cases:
        sent = send(support, "培训通知", "周六上午十点线上培训。", kind="training", **options)
        assert _targets(kit, sent.id) == ids(people, *expected), options
        assert sent.targeted == len(expected)


def test_each_recipient_gets_the_rendered_message_on_their_channels(kit: Kit, people: dict[str, Person]) -> None:
    sent = kit.platform.announcements.send(people["support"].actor, "春节安排", "春节期间照常接单。",
                                           audience="therapists", city="shanghai")
    messages = [m for m in kit.tables.outbox.values() if m.dedupe_key.startswith(f"announcement:{sent.id}|")]
    assert {(m.recipient, m.channel.value) for m in messages} == {
        (who, channel) for who in ids(people, "sh_senior", "sh_junior") for channel in ("inbox", "push")}
    assert {(m.subject, m.body, m.category.value) for m in messages} == {("春节安排", "春节期间照常接单。", "announcements")}


def test_send_is_audited_with_its_reach(kit: Kit, people: dict[str, Person]) -> None:
    sent = kit.platform.announcements.send(people["support"].actor, "T", "text", audience="customers")
    [entry] = [e for e in kit.audit_entries() if e.action == "announcements.send"]
    assert entry.target == sent.id and dict(entry.details)["targeted"] == "2"
    assert entry.actor == people["support"].account_id


@pytest.mark.parametrize(("options", "code"), [
    ({"audience": "customers", "city": "shanghai"}, "announcement.audience"),
    ({"audience": "both", "levels": ["senior"]}, "announcement.audience"),
    ({"audience": "everyone"}, "announcement.audience"),
    ({"kind": "memo"}, "announcement.kind"),
    ({"audience": "therapists", "city": "atlantis"}, "quality.city"),
    ({"audience": "therapists", "levels": ["grandmaster"]}, "announcement.levels"),
    ({"title": ""}, "announcement.title"),
    ({"title": "x" * 101}, "announcement.title"),
    ({"title": "two\nlines"}, "announcement.title"),
    ({"text": " "}, "announcement.text"),
    ({"text": "x" * 2001}, "announcement.text"),
])
def test_bad_announcements_are_refused_and_nothing_is_written(kit: Kit, people: dict[str, Person],
                                                              options: dict[str, object], code: str) -> None:
    args: dict[str, object] = {"title": "T", "text": "text"}
    args.update(options)
    title, text = args.pop("title"), args.pop("text")
    before = len(kit.tables.outbox)
    with pytest.raises(ValidationError) as raised:
        kit.platform.announcements.send(people["support"].actor, title, text, **args)  # type: ignore[arg-type]
    assert raised.value.code == code
    assert not kit.tables.announcements and len(kit.tables.outbox) == before


def test_read_receipts_and_stats(kit: Kit, people: dict[str, Person], ) -> None:
    service = kit.platform.announcements
    admin = people["support"].actor
    sent = service.send(admin, "T", "text", audience="customers")
    first = service.mark_read(people["c1"].actor, sent.id)
    assert first.read_at is not None and first.account_id == people["c1"].account_id
    kit.clock.advance(dt.timedelta(hours=1))
    again = service.mark_read(people["c1"].actor, sent.id)
    assert again.read_at == first.read_at  # the first reading counts
    stats = service.stats(admin, sent.id)
    assert (stats.targeted, stats.delivered, stats.read, stats.unread) == (2, 0, 1, 1)
    assert service.not_read(admin, sent.id) == (people["c2"].account_id,)
    assert service.not_read(admin, sent.id, offset=1) == ()


def test_delivered_counts_inbox_messages_sent(kit: Kit, people: dict[str, Person]) -> None:
    service = kit.platform.announcements
    admin = people["support"].actor
    sent = service.send(admin, "T", "text", audience="customers")
    now = kit.clock.now()
    with kit.platform.deps.uow() as uow:
        claimed = uow.outbox.claim_due(now, now + dt.timedelta(minutes=1), 100)
        for message in claimed:
            if message.recipient == people["c1"].account_id:
                uow.outbox.save(message.delivered(now))  # both channels of c1
            elif message.channel.value == "push":
                uow.outbox.save(message.delivered(now))  # only c2's push: not in c2's inbox yet
        uow.commit()
    assert service.stats(admin, sent.id).delivered == 1
    assert {m.state for m in kit.tables.outbox.values()} == {OutboxState.SENT, OutboxState.PENDING}


def test_who_has_not_read_is_paged_in_id_order(kit: Kit, people: dict[str, Person]) -> None:
    service = kit.platform.announcements
    admin = people["support"].actor
    sent = service.send(admin, "T", "text", audience="both")
    service.mark_read(people["bare"].actor, sent.id)
    everyone = sorted(ids(people, "c1", "c2", "sh_senior", "sh_junior", "bj_senior"))
    pages = [service.not_read(admin, sent.id, offset=o, limit=2) for o in (0, 2, 4)]
    assert [list(p) for p in pages] == [everyone[0:2], everyone[2:4], everyone[4:]]


def test_mine_lists_my_announcements_newest_first_with_read_times(kit: Kit, people: dict[str, Person]) -> None:
    service = kit.platform.announcements
    admin = people["support"].actor
    older = service.send(admin, "Old", "text", audience="customers")
    kit.clock.advance(dt.timedelta(minutes=5))
    newer = service.send(admin, "New", "text", audience="both")
    service.send(admin, "Not mine", "text", audience="therapists")
    service.mark_read(people["c1"].actor, older.id)
    mine = service.mine(people["c1"].actor)
    assert [(m.announcement.id, m.read_at is not None) for m in mine] == [(newer.id, False), (older.id, True)]
    assert [m.announcement.id for m in service.mine(people["c1"].actor, unread_only=True)] == [newer.id]
    assert service.get(people["c1"].actor, newer.id).title == "New"
    assert [a.id for a in service.list(admin)][:2] == [
        a.id for a in service.list(admin, limit=2)]


def test_someone_elses_announcement_looks_missing_and_is_audited(kit: Kit, people: dict[str, Person]) -> None:
    service = kit.platform.announcements
    sent = service.send(people["support"].actor, "T", "text", audience="therapists")
    customer = people["c1"]
    for call in (service.mark_read, service.get):
        with pytest.raises(NotFound):
            call(customer.actor, sent.id)
    with pytest.raises(NotFound):
        service.mark_read(customer.actor, "ann_0000000000000000000000000Z")
    denied = [(e.action, e.actor) for e in kit.denied_entries()]
    assert ("announcements.mark_read", customer.account_id) in denied
    assert ("announcements.get", customer.account_id) in denied
    assert kit.tables.announcement_receipts.get((sent.id, AccountId(customer.account_id))) is None


@pytest.mark.parametrize("who", ["c1", "sh_senior"])
def test_only_managers_send_and_read_stats(kit: Kit, people: dict[str, Person], who: str) -> None:
    service = kit.platform.announcements
    sent = service.send(people["support"].actor, "T", "text", audience="both")
    person = people[who]
    for call, args in ((service.send, ("T", "text")), (service.stats, (sent.id,)),
                       (service.not_read, (sent.id,)), (service.list, ())):
        with pytest.raises(PermissionDenied):
            call(person.actor, *args)  # type: ignore[operator]
    denied = {e.action for e in kit.denied_entries() if e.actor == person.account_id}
    assert {"announcements.send", "announcements.stats", "announcements.not_read", "announcements.list"} <= denied
    finance = kit.finance()
    with pytest.raises(PermissionDenied):
        service.send(finance.actor, "T", "text")
