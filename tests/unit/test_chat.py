"""Order chat (T7, decision 0045): the window, who may write and read, mediators' audited reads, masking before
storage, the rate limit, paging, unread counts and the call number."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import Kit, MakeKit, Person
from massage_core.domain.access import Actor
from massage_core.domain.audit import AuditOutcome
from massage_core.domain.errors import Conflict, NotFound, PermissionDenied, Throttled, ValidationError
from massage_core.services.base import Policies
from order_kit import advance, book, catalogue, make_public, pay
from search_support import Shop

HOUR = dt.timedelta(hours=1)
PHONE_DIGITS = "13800138000"


def order_in(kit: Kit, shop: Shop, customer: Person, therapist: Person, state: str) -> str:
    order = book(kit.platform, customer.actor, therapist.account_id, shop.tuina).id
    if state == "pending_payment":
        return order
    pay(kit.platform, order)
    if state != "awaiting_acceptance":
        advance(kit.platform, order, therapist.actor, customer.actor, state)
    return order


@pytest.fixture
def accepted(kit: Kit, shop: Shop, customer: Person, therapist: Person) -> str:
    return order_in(kit, shop, customer, therapist, "accepted")


def stored_texts(kit: Kit, order: str) -> list[str]:
    return [m.text for m in kit.tables.chat_messages.get(order, ())]


# -- the window ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["pending_payment", "awaiting_acceptance"])
def test_the_chat_opens_only_when_a_therapist_accepts(kit: Kit, shop: Shop, customer: Person, therapist: Person,
                                                     state: str) -> None:
    order = order_in(kit, shop, customer, therapist, state)
    with pytest.raises(Conflict) as err:
        kit.platform.chat.send(customer.actor, order, "hello")
    assert err.value.code == "chat.not_open"


@pytest.mark.parametrize("state", ["accepted", "departed", "arrived", "in_service", "finished"])
def test_both_parties_chat_while_the_visit_is_on(kit: Kit, shop: Shop, customer: Person, therapist: Person,
                                                  state: str) -> None:
    order = order_in(kit, shop, customer, therapist, state)
    kit.platform.chat.send(customer.actor, order, "I am at the gate")
    kit.platform.chat.send(therapist.actor, order, "coming down")
    assert [(m.seq, m.party.value) for m in kit.platform.chat.messages(customer.actor, order)] == [
        (1, "customer"), (2, "therapist")]


def test_the_chat_closes_the_configured_hours_after_completion(make_kit: MakeKit) -> None:
    kit = make_kit(policies=Policies(chat_after_completion_hours=3))
    shop = catalogue(kit.platform)
    therapist = kit.therapist()
    make_public(kit.platform, therapist.account_id, shop)
    customer = kit.customer_by_phone()
    order = order_in(kit, shop, customer, therapist, "completed")
    kit.clock.advance(3 * HOUR - dt.timedelta(seconds=1))
    kit.platform.chat.send(customer.actor, order, "thanks again")
    kit.clock.advance(dt.timedelta(seconds=1))
    for actor in (customer.actor, therapist.actor):
        with pytest.raises(Conflict) as err:
            kit.platform.chat.send(actor, order, "one more thing")
        assert err.value.code == "chat.closed"
    assert [m.text for m in kit.platform.chat.messages(therapist.actor, order)] == ["thanks again"]


def test_the_default_window_is_24_hours(kit: Kit, shop: Shop, customer: Person, therapist: Person) -> None:
    order = order_in(kit, shop, customer, therapist, "completed")
    kit.clock.advance(24 * HOUR - dt.timedelta(seconds=1))
    kit.platform.chat.send(therapist.actor, order, "hope you feel better")
    kit.clock.advance(dt.timedelta(seconds=1))
    with pytest.raises(Conflict):
        kit.platform.chat.send(therapist.actor, order, "late")


def test_a_late_dispute_or_its_dismissal_does_not_reopen_a_closed_chat(kit: Kit, shop: Shop, customer: Person,
                                                                        therapist: Person) -> None:
    order = order_in(kit, shop, customer, therapist, "completed")
    kit.clock.advance(30 * HOUR)
    kit.platform.orders.dispute(customer.actor, order, "the massage was far too short")
    for act in (lambda: kit.platform.chat.send(customer.actor, order, "call me"),
                lambda: kit.platform.chat.call_number(therapist.actor, order)):
        with pytest.raises(Conflict) as err:
            act()
        assert err.value.code == "chat.closed"
    kit.clock.advance(HOUR)
    kit.platform.orders.dismiss_dispute(kit.superadmin().actor, order, "the visit took its full time")
    with pytest.raises(Conflict) as err:
        kit.platform.chat.send(therapist.actor, order, "told you")
    assert err.value.code == "chat.closed"


def test_a_dispute_right_after_the_visit_keeps_the_window_of_the_visit(kit: Kit, shop: Shop, customer: Person,
                                                                       therapist: Person) -> None:
    order = order_in(kit, shop, customer, therapist, "finished")
    kit.platform.orders.dispute(customer.actor, order, "the therapist left early")
    kit.clock.advance(24 * HOUR - dt.timedelta(seconds=1))
    kit.platform.chat.send(customer.actor, order, "why did you leave?")
    kit.clock.advance(dt.timedelta(seconds=1))
    with pytest.raises(Conflict):
        kit.platform.chat.send(customer.actor, order, "late")


def test_a_cancelled_order_closes_the_chat_at_once(kit: Kit, accepted: str, customer: Person,
                                                   therapist: Person) -> None:
    kit.platform.chat.send(customer.actor, accepted, "sorry, I must cancel")
    kit.platform.orders.cancel(customer.actor, accepted, "plans changed")
    with pytest.raises(Conflict) as err:
        kit.platform.chat.send(therapist.actor, accepted, "ok")
    assert err.value.code == "chat.closed"
    assert len(kit.platform.chat.messages(therapist.actor, accepted)) == 1  # the history stays readable


# -- who may write and read -----------------------------------------------------------------------------


def test_nobody_but_the_two_parties_writes_or_reads(kit: Kit, shop: Shop, accepted: str) -> None:
    stranger, other_therapist = kit.customer_by_phone(), kit.therapist()
    make_public(kit.platform, other_therapist.account_id, shop)
    chat = kit.platform.chat
    for person in (stranger, other_therapist):
        for call in (lambda a: chat.send(a, accepted, "hi"), lambda a: chat.messages(a, accepted),
                     lambda a: chat.unread(a, accepted), lambda a: chat.mark_read(a, accepted),
                     lambda a: chat.call_number(a, accepted)):
            with pytest.raises(NotFound):
                call(person.actor)
    for kind in ("finance", "auditor"):
        with pytest.raises(PermissionDenied):
            chat.messages(kit.admin(kind).actor, accepted)
    with pytest.raises(PermissionDenied):
        chat.send(Actor.anonymous(), accepted, "hi")
    with pytest.raises(ValidationError) as err:
        chat.send(Actor.system(), accepted, "hi")
    assert err.value.code == "actor.no_account"
    denied = kit.denied_entries()
    assert {e.action for e in denied} >= {"chat.send", "chat.messages", "chat.unread", "chat.mark_read",
                                          "chat.call_number"}


def test_a_missing_order_and_somebody_elses_look_the_same(kit: Kit, accepted: str) -> None:
    stranger = kit.customer_by_phone()
    missing = "ord_0000000000000000000000ZZZZ"
    errors = []
    for order in (accepted, missing):
        with pytest.raises(NotFound) as err:
            kit.platform.chat.messages(stranger.actor, order)
        errors.append(err.value)
    assert [(e.kind, e.message.replace(e.ident, "<id>")) for e in errors] == [("order", "order <id> not found")] * 2


def test_mediators_read_only_while_a_complaint_is_live_and_every_read_is_audited(
        kit: Kit, shop: Shop, customer: Person, therapist: Person) -> None:
    order = order_in(kit, shop, customer, therapist, "completed")
    kit.platform.chat.send(customer.actor, order, "you left your towel")
    support, root = kit.support(), kit.superadmin()
    with pytest.raises(NotFound):
        kit.platform.chat.messages(support.actor, order)
    complaint = kit.platform.complaints.file(customer.actor, order, "conduct", "rude on the phone")
    for admin in (support, root):
        before = len(kit.audit_entries())
        assert [m.text for m in kit.platform.chat.messages(admin.actor, order)] == ["you left your towel"]
        [entry] = [e for e in kit.audit_entries()[before:] if e.action == "chat.messages"]
        assert (entry.actor, entry.target, entry.outcome) == (admin.account_id, order, AuditOutcome.OK)
        assert dict(entry.details) == {"complaint": complaint.id, "count": "1"}
    with pytest.raises(PermissionDenied):  # mediators read, never write
        kit.platform.chat.send(support.actor, order, "hello")
    kit.platform.complaints.withdraw(customer.actor, complaint.id)
    with pytest.raises(NotFound):
        kit.platform.chat.messages(support.actor, order)


# -- masking --------------------------------------------------------------------------------------------

MASKED = [
    ("call 13800138000 ok", PHONE_DIGITS, "phone"),
    ("电话 138 0013 8000", "0013", "phone"),
    ("+86 138-0013-8000", "0013", "phone"),
    ("１３８００１３８０００", "１３８００", "phone"),
    ("一三八零零一三八零零零", "一三八零零", "phone"),
    ("幺三八 零零幺三 八零零零", "幺三八", "phone"),
    ("1 3 8 0 0 1 3 8 0 0 0", "1 3 8 0 0", "phone"),
    ("138.0013.8000", "138.0013", "phone"),
    ("0755-8888 1234", "8888", "phone"),
    ("微信同号 13800138000", PHONE_DIGITS, "phone"),
    ("加我微信 abc_123456", "abc_123456", "contact_id"),
    ("vx: mas5sage99", "mas5sage99", "contact_id"),
    ("wx号 tina-8888", "tina-8888", "contact_id"),
    ("威信 hello_2024", "hello_2024", "contact_id"),
    ("加V：lin_8899", "lin_8899", "contact_id"),
    ("QQ 123456789", "123456789", "contact_id"),
    ("扣扣 12345678", "12345678", "contact_id"),
    ("mail me a.b@example.com", "a.b@example.com", "email"),
    ("see https://evil.example/x", "evil.example", "link"),
    ("www.example.cn", "example.cn", "link"),
    ("要不要大保健", "大保健", "sensitive"),
]


@pytest.mark.parametrize(("text", "secret", "kind"), MASKED, ids=[m[0] for m in MASKED])
def test_contact_details_are_masked_before_storage(kit: Kit, accepted: str, customer: Person,
                                                   text: str, secret: str, kind: str) -> None:
    sent = kit.platform.chat.send(customer.actor, accepted, text)
    assert secret not in sent.text and "*" in sent.text
    assert sent.findings == (kind,) and sent.masked
    [stored] = kit.tables.chat_messages[accepted]
    assert stored.text == sent.text and secret not in stored.text
    assert all(secret not in repr(m) for m in kit.tables.chat_messages.values())


def test_a_clean_message_is_stored_as_written(kit: Kit, accepted: str, therapist: Person) -> None:
    sent = kit.platform.chat.send(therapist.actor, accepted, "  I will be there at 10, see you  ")
    assert (sent.text, sent.findings, sent.masked) == ("I will be there at 10, see you", (), False)
    assert stored_texts(kit, accepted) == ["I will be there at 10, see you"]


@pytest.mark.parametrize("text", ["", "   ", "x" * 501, None])
def test_a_message_must_be_1_to_500_characters(kit: Kit, accepted: str, customer: Person, text: object) -> None:
    with pytest.raises(ValidationError) as err:
        kit.platform.chat.send(customer.actor, accepted, text)  # type: ignore[arg-type]
    assert err.value.code == "chat.text"
    assert stored_texts(kit, accepted) == []


# -- rate limit, paging, unread --------------------------------------------------------------------------


def test_at_most_30_messages_a_minute_per_sender(kit: Kit, accepted: str, customer: Person,
                                                 therapist: Person) -> None:
    chat = kit.platform.chat
    for n in range(30):
        chat.send(customer.actor, accepted, f"message {n}")
    with pytest.raises(Throttled) as err:
        chat.send(customer.actor, accepted, "one too many")
    assert err.value.code == "chat.rate_limited"
    chat.send(therapist.actor, accepted, "the other party is not limited by it")
    kit.clock.advance(dt.timedelta(seconds=59))
    with pytest.raises(Throttled):
        chat.send(customer.actor, accepted, "still too soon")
    kit.clock.advance(dt.timedelta(seconds=1))
    assert chat.send(customer.actor, accepted, "a minute later").seq == 32


def test_pages_count_back_from_the_newest_and_show_it_last(kit: Kit, accepted: str, customer: Person) -> None:
    chat = kit.platform.chat
    for n in range(1, 8):
        chat.send(customer.actor, accepted, f"m{n}")
    assert [m.text for m in chat.messages(customer.actor, accepted, limit=3)] == ["m5", "m6", "m7"]
    assert [m.text for m in chat.messages(customer.actor, accepted, offset=3, limit=3)] == ["m2", "m3", "m4"]
    assert [m.text for m in chat.messages(customer.actor, accepted, offset=6, limit=3)] == ["m1"]
    assert chat.messages(customer.actor, accepted, offset=7) == []
    with pytest.raises(ValidationError) as err:
        chat.messages(customer.actor, accepted, limit=0)
    assert err.value.code == "page.limit"


def test_unread_counts_per_party_and_mark_read(kit: Kit, accepted: str, customer: Person,
                                               therapist: Person) -> None:
    chat = kit.platform.chat
    for text in ("are you close?", "the door code is 4#", "second floor"):
        chat.send(customer.actor, accepted, text)
    assert (chat.unread(therapist.actor, accepted), chat.unread(customer.actor, accepted)) == (3, 0)
    assert chat.mark_read(therapist.actor, accepted) == 0
    assert chat.unread(therapist.actor, accepted) == 0
    chat.send(therapist.actor, accepted, "five minutes")
    assert (chat.unread(therapist.actor, accepted), chat.unread(customer.actor, accepted)) == (0, 1)
    chat.send(customer.actor, accepted, "ok")
    assert (chat.unread(therapist.actor, accepted), chat.unread(customer.actor, accepted)) == (1, 0)


# -- the call number -------------------------------------------------------------------------------------


def test_both_parties_dial_one_number_bound_lazily_and_once(kit: Kit, shop: Shop, accepted: str,
                                                            customer: Person, therapist: Person) -> None:
    assert kit.tables.number_bindings == {}
    first = kit.platform.chat.call_number(customer.actor, accepted)
    again = kit.platform.chat.call_number(therapist.actor, accepted)
    assert first.number == again.number and first.expires_at == again.expires_at > kit.clock.now()
    assert len(kit.tables.number_bindings) == 1
    assert first.number not in (customer.phone, therapist.phone)


def test_the_call_number_follows_the_chat_window_and_is_released_when_the_order_ends(
        kit: Kit, accepted: str, customer: Person, therapist: Person) -> None:
    number = kit.platform.chat.call_number(customer.actor, accepted).number
    assert kit.platform.chat.release_ended(Actor.system()) == 0  # the visit is still on
    kit.platform.orders.cancel(customer.actor, accepted, "plans changed")
    with pytest.raises(Conflict) as err:
        kit.platform.chat.call_number(therapist.actor, accepted)
    assert err.value.code == "chat.closed"
    report = kit.platform.jobs.run_due(Actor.system())
    assert report.chat_numbers.fired == 1
    assert kit.tables.number_bindings[accepted].released_at == kit.clock.now()
    assert number in kit.platform.virtual_numbers.free()  # type: ignore[attr-defined]
    assert kit.platform.chat.release_ended(Actor.system()) == 0  # once


def test_release_needs_jobs_run(kit: Kit, accepted: str) -> None:
    with pytest.raises(PermissionDenied):
        kit.platform.chat.release_ended(kit.support().actor)


# -- the nudge to the other party --------------------------------------------------------------------------


def chat_notes(kit: Kit) -> list[tuple[str, str]]:
    """(event key, recipient) of every chat notification in the outbox, once per key and recipient."""
    found = {(m.dedupe_key.split("|")[0], m.recipient) for m in kit.tables.outbox.values()
             if m.dedupe_key.startswith("chat:")}
    return sorted(found)


def test_the_other_party_is_nudged_once_per_unread_burst_without_the_text(kit: Kit, accepted: str,
                                                                          customer: Person,
                                                                          therapist: Person) -> None:
    chat = kit.platform.chat
    for text in ("are you close?", "my number is 13800138000", "second floor"):
        chat.send(customer.actor, accepted, text)
    assert chat_notes(kit) == [(f"chat:{accepted}:1", therapist.account_id)]
    inbox = [m for m in kit.tables.outbox.values() if m.dedupe_key.startswith("chat:") and m.channel.value == "inbox"]
    assert [m.body for m in inbox] == [f"订单 {accepted} 有新的聊天消息，请打开应用查看。"]
    assert all(PHONE_DIGITS not in m.body and "close" not in m.body for m in kit.tables.outbox.values())
    chat.mark_read(therapist.actor, accepted)
    chat.send(therapist.actor, accepted, "five minutes")
    chat.send(customer.actor, accepted, "ok")
    assert chat_notes(kit) == sorted([(f"chat:{accepted}:1", therapist.account_id),
                                      (f"chat:{accepted}:4", customer.account_id),
                                      (f"chat:{accepted}:5", therapist.account_id)])
