"""What gets sent (issue 7, decision 0043): each use case writes its notifications to the outbox in its own unit of
work -- exactly the expected recipients x channels, rendered in zh-CN with the right values, nothing for a refused
or rolled-back action, nothing twice on a replay, and no full phone number, address or real name in any body."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest

from conftest import Kit, Person
from massage_core.adapters.memory.payouts import SandboxPayoutGateway
from massage_core.domain import postings
from massage_core.domain.ids import AccountId, ServiceId
from massage_core.domain.errors import Conflict, InvalidTransition, PaymentError, ValidationError
from massage_core.domain.money import Money
from massage_core.domain.notifications import Category, Channel, Urgency
from massage_core.domain.outbox import OutboxMessage
from order_kit import LAT, LNG, SENIOR_TUINA, START, SYSTEM, advance, book, gateway, make_public, pay
from search_support import Shop

ADDRESS = "上海市黄浦区南京东路100号5楼502室"
ORDERS = {Channel.INBOX, Channel.PUSH, Channel.SMS}
"""The default channels of the orders category."""


def outbox(kit: Kit) -> list[OutboxMessage]:
    found: list[OutboxMessage] = []
    with kit.platform.deps.uow() as uow:
        while page := uow.outbox.list(offset=len(found), limit=50):
            found.extend(page)
    return found


def sent(kit: Kit, key: str) -> dict[tuple[str, Channel], OutboxMessage]:
    """The messages of one business key, by (recipient, channel); a duplicate dedupe key fails the test."""
    found = [m for m in outbox(kit) if m.dedupe_key.split("|")[0] == key]
    by = {(m.recipient, m.channel): m for m in found}
    assert len(by) == len(found), found
    return by


def only(kit: Kit, key: str, recipient: str) -> OutboxMessage:
    """The inbox message of ``key`` for ``recipient`` (its body is the same on every channel)."""
    messages = sent(kit, key)
    bodies = {m.body for (who, _), m in messages.items() if who == recipient}
    assert len(bodies) == 1, messages
    return messages[(recipient, Channel.INBOX)]


def keys(kit: Kit) -> Counter[str]:
    return Counter(m.dedupe_key.split("|")[0] for m in outbox(kit))


def booked(kit: Kit, shop: Shop, therapist: Person, customer: Person, **changes: Any) -> str:
    return book(kit.platform, customer.actor, therapist.account_id, shop.tuina, address=ADDRESS, **changes).id


def service_name(kit: Kit, shop: Shop) -> str:
    with kit.platform.deps.uow() as uow:
        return uow.catalog_services.get(ServiceId(shop.tuina)).name


def assert_private(kit: Kit, customer: Person) -> None:
    """No body or subject holds the customer's phone, the visit's address or the therapist's real name."""
    assert customer.phone is not None
    national = customer.phone.removeprefix("+86")
    for message in outbox(kit):
        for text in (message.subject, message.body):
            assert national not in text and ADDRESS not in text and ADDRESS[6:] not in text
            assert "王小红" not in text


# -- orders ------------------------------------------------------------------------------------------------------


def test_an_orders_life_tells_each_party_once_on_their_channels(kit: Kit, shop: Shop, therapist: Person,
                                                               customer: Person) -> None:
    p = kit.platform
    order = booked(kit, shop, therapist, customer)
    assert outbox(kit) == []  # placing an unpaid order tells nobody
    headers, body = gateway(p).simulate_payment(order)
    for _ in range(3):  # the provider delivers the same notice three times
        p.orders.payment_callback(headers, body)
    offered = sent(kit, f"order:{order}:offer:1")
    assert set(offered) == {(therapist.account_id, c) for c in ORDERS}
    message = offered[(therapist.account_id, Channel.SMS)]
    assert (message.subject, message.category, message.urgency) == ("新订单", Category.ORDERS, Urgency.URGENT)
    assert message.body == f"新订单 {order}：{service_name(kit, shop)}，2026-01-06 10:00 上门，距您约 0.0 km。"
    advance(p, order, therapist.actor, customer.actor, "finished")
    accepted = sent(kit, f"order:{order}:accept")
    assert set(accepted) == {(customer.account_id, c) for c in ORDERS}
    assert accepted[(customer.account_id, Channel.INBOX)].body == \
        f"王** 已接下订单 {order}，将于 2026-01-06 10:00 上门。"
    departed = only(kit, f"order:{order}:depart", customer.account_id)
    assert (departed.body, departed.urgency) == ("王** 已出发，预计 2026-01-06 10:00 到达。", Urgency.URGENT)
    arrived = only(kit, f"order:{order}:arrive", customer.account_id)
    assert (arrived.body, arrived.urgency) == (f"王** 已到达，请开门。订单 {order}。", Urgency.URGENT)
    finished = only(kit, f"order:{order}:finish", customer.account_id)
    assert finished.body == f"订单 {order} 已完成，欢迎评价本次服务。"
    assert keys(kit) == {f"order:{order}:offer:1": 3, f"order:{order}:accept": 3, f"order:{order}:depart": 3,
                         f"order:{order}:arrive": 3, f"order:{order}:finish": 3}  # start tells nobody
    p.orders.complete(customer.actor, order)
    assert sum(keys(kit).values()) == 15
    assert_private(kit, customer)


def test_a_cancellation_tells_both_parties_the_fee_and_the_refund(kit: Kit, shop: Shop, therapist: Person,
                                                                  customer: Person) -> None:
    p = kit.platform
    order = booked(kit, shop, therapist, customer)
    pay(p, order)
    p.orders.accept(therapist.actor, order)
    view = p.orders.cancel(customer.actor, order, "plans changed")
    settled = p.orders.get(SYSTEM, order)
    assert view.refunded.fen > 0
    fee = Money(SENIOR_TUINA) - view.refunded
    cancelled = sent(kit, f"order:{order}:cancel")
    assert set(cancelled) == {(who, c) for who in (customer.account_id, therapist.account_id) for c in ORDERS}
    assert {m.urgency for m in cancelled.values()} == {Urgency.URGENT}
    assert {m.body for m in cancelled.values()} == {f"订单 {order} 已取消，取消费 {fee}，退款 {view.refunded}。"}
    refunded = sent(kit, f"order:{order}:refunded")
    assert set(refunded) == {(customer.account_id, c) for c in ORDERS}
    assert refunded[(customer.account_id, Channel.INBOX)].body == \
        f"订单 {order} 已退款 {settled.refunded}，将原路返回。"
    assert_private(kit, customer)


def test_a_cancel_the_gateway_refuses_and_an_invalid_step_write_nothing(kit: Kit, shop: Shop, therapist: Person,
                                                                        customer: Person,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    p = kit.platform
    order = booked(kit, shop, therapist, customer)
    with pytest.raises(InvalidTransition):
        p.orders.depart(therapist.actor, order)
    assert outbox(kit) == []
    pay(p, order)
    p.orders.accept(therapist.actor, order)
    before = outbox(kit)

    def refuse(*_: object) -> None:
        raise PaymentError("the gateway is down", code="payment.unavailable")

    monkeypatch.setattr(gateway(p), "refund", refuse)
    with pytest.raises(PaymentError):
        p.orders.cancel(customer.actor, order)
    assert outbox(kit) == before  # the cancel rolled back, and its messages with it
    monkeypatch.undo()
    p.orders.cancel(customer.actor, order)
    assert len(sent(kit, f"order:{order}:cancel")) == 6


def test_a_late_payment_refunded_in_full_tells_the_customer_once(kit: Kit, shop: Shop, therapist: Person,
                                                                 customer: Person) -> None:
    p = kit.platform
    order = booked(kit, shop, therapist, customer)
    headers, body = gateway(p).simulate_payment(order)  # paid at the provider, the callback comes late
    p.orders.cancel(customer.actor, order, "changed my mind")
    for _ in range(2):
        p.orders.payment_callback(headers, body)
    late = sent(kit, f"order:{order}:late_refund")
    assert set(late) == {(customer.account_id, c) for c in ORDERS}
    assert late[(customer.account_id, Channel.INBOX)].body == \
        f"订单 {order} 已退款 {Money(SENIOR_TUINA)}，将原路返回。"
    assert sent(kit, f"order:{order}:cancel") == {}  # the customer cancelled before paying; never offered
    assert sum(keys(kit).values()) == 3


def test_an_admin_cancelling_an_unpaid_order_tells_the_customer_only(kit: Kit, shop: Shop, therapist: Person,
                                                                     customer: Person) -> None:
    order = booked(kit, shop, therapist, customer)
    kit.platform.orders.cancel(kit.support().actor, order, "duplicate booking")
    zero = Money(0)
    assert only(kit, f"order:{order}:cancel", customer.account_id).body == \
        f"订单 {order} 已取消，取消费 {zero}，退款 {zero}。"
    assert {who for who, _ in sent(kit, f"order:{order}:cancel")} == {customer.account_id}


def test_a_rejected_chosen_order_is_cancelled_and_the_customer_told(kit: Kit, shop: Shop, therapist: Person,
                                                                    customer: Person) -> None:
    p = kit.platform
    order = booked(kit, shop, therapist, customer)
    pay(p, order)
    p.orders.reject(therapist.actor, order, "too far")
    assert set(sent(kit, f"order:{order}:cancel")) == {(customer.account_id, c) for c in ORDERS}  # no therapist
    assert set(sent(kit, f"order:{order}:refunded")) == {(customer.account_id, c) for c in ORDERS}
    assert not [k for k in keys(kit) if ":rejected:" in k]  # nobody else is looking: no "finding another" message


def test_a_broadcast_is_offered_to_every_eligible_therapist_with_their_own_distance(
        kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    p = kit.platform
    near = make_public(p, kit.therapist().account_id, shop)
    order = book(p, customer.actor, "any", shop.tuina, dispatch="broadcast", address=ADDRESS,
                 lat=LAT + 0.01, lng=LNG).id
    pay(p, order)
    offered = sent(kit, f"order:{order}:offer:1")
    assert set(offered) == {(who, c) for who in (therapist.account_id, near) for c in ORDERS}
    assert offered[(near, Channel.INBOX)].body.endswith("距您约 1.1 km。")
    p.orders.grab(therapist.actor, order)
    assert set(sent(kit, f"order:{order}:accept")) == {(customer.account_id, c) for c in ORDERS}
    assert_private(kit, customer)


def test_an_acceptance_timeout_redispatches_and_tells_the_customer_and_the_next_therapist(
        kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    p = kit.platform
    second = make_public(p, kit.therapist().account_id, shop)
    order = book(p, customer.actor, "any", shop.tuina, dispatch="auto", address=ADDRESS).id
    pay(p, order)
    first = p.orders.get(SYSTEM, order).therapist_id
    kit.clock.advance(dt.timedelta(minutes=11))
    p.jobs.run_due(SYSTEM)
    p.jobs.run_due(SYSTEM)  # a rerun sends nothing again
    nxt = p.orders.get(SYSTEM, order).therapist_id
    assert {first, nxt} == {therapist.account_id, second}
    assert set(sent(kit, f"order:{order}:offer:2")) == {(nxt, c) for c in ORDERS}
    rejected = only(kit, f"order:{order}:rejected:2", customer.account_id)
    assert rejected.body == f"订单 {order} 未被技师接受，我们正在为您重新安排。"
    assert sum(keys(kit).values()) == 9


def test_reminders_go_to_both_parties_once_per_lead(kit: Kit, shop: Shop, therapist: Person,
                                                    customer: Person) -> None:
    p = kit.platform
    order = booked(kit, shop, therapist, customer)
    pay(p, order)
    p.orders.accept(therapist.actor, order)
    kit.clock.set(START.subtract(minutes=119))
    p.jobs.run_due(SYSTEM)
    p.jobs.run_due(SYSTEM)
    reminded = sent(kit, f"order:{order}:remind:120")
    assert set(reminded) == {(who, c) for who in (customer.account_id, therapist.account_id) for c in ORDERS}
    service = service_name(kit, shop)
    assert {m.body for m in reminded.values()} == {f"订单 {order} 将于 2026-01-06 10:00 开始（{service}）。"}
    kit.clock.set(START.subtract(minutes=29))
    p.jobs.run_due(SYSTEM)
    assert len(sent(kit, f"order:{order}:remind:30")) == 6
    assert sum(1 for k in keys(kit) if ":remind:" in k) == 2


def test_offers_and_reminders_ignore_quiet_hours_and_the_inbox_is_never_held(
        kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    """An offer lapses after ``acceptance_timeout_minutes`` and a reminder is about a visit hours or minutes away:
    held until quiet hours end they would arrive too late, so both are urgent (review R2)."""
    p = kit.platform
    for who in (therapist, customer):
        p.notifications.set_preferences(who.actor, quiet_hours="00:00-23:59")
    order = booked(kit, shop, therapist, customer)
    pay(p, order)
    offered = sent(kit, f"order:{order}:offer:1")
    assert set(offered) == {(therapist.account_id, c) for c in ORDERS}
    assert {(m.urgency, m.due_at) for m in offered.values()} == {(Urgency.URGENT, kit.clock.now())}
    p.orders.accept(therapist.actor, order)
    accepted = sent(kit, f"order:{order}:accept")  # normal: held on the channels that ring, not in the inbox
    assert {c: m.due_at == kit.clock.now() for (_, c), m in accepted.items()} == {
        Channel.INBOX: True, Channel.PUSH: False, Channel.SMS: False}
    kit.clock.set(START.subtract(minutes=29))
    p.jobs.run_due(SYSTEM)
    reminded = sent(kit, f"order:{order}:remind:30")
    assert len(reminded) == 6
    assert {(m.urgency, m.due_at) for m in reminded.values()} == {(Urgency.URGENT, kit.clock.now())}


def test_the_payment_is_about_to_expire_once_then_expires_quietly(kit: Kit, shop: Shop, therapist: Person,
                                                                  customer: Person) -> None:
    p = kit.platform
    order = booked(kit, shop, therapist, customer)
    placed = kit.clock.now()
    kit.clock.advance(dt.timedelta(minutes=9))
    p.jobs.run_due(SYSTEM)
    assert outbox(kit) == []  # more than five minutes left
    kit.clock.advance(dt.timedelta(minutes=2))
    p.jobs.run_due(SYSTEM)
    p.jobs.run_due(SYSTEM)
    warned = sent(kit, f"order:{order}:payment_expiring")
    assert set(warned) == {(customer.account_id, c) for c in ORDERS}
    deadline = placed.add(minutes=15).in_timezone("Asia/Shanghai").format("YYYY-MM-DD HH:mm")
    assert warned[(customer.account_id, Channel.INBOX)].body == f"订单 {order} 尚未支付，请在 {deadline} 前完成支付。"
    kit.clock.advance(dt.timedelta(minutes=5))
    p.jobs.run_due(SYSTEM)
    assert p.orders.get(SYSTEM, order).state.value == "payment_expired"
    assert sum(keys(kit).values()) == 3


# -- money, vetting, reviews, complaints, sanctions ----------------------------------------------------------------


def fund(kit: Kit, therapist: Person, fen: int) -> None:
    with kit.platform.deps.uow() as uow:
        uow.ledger.post(postings.bonus("welcome", AccountId(therapist.account_id), Money(fen), kit.clock.now(),
                                       "welcome"))
        uow.commit()


def test_withdrawals_tell_the_therapist_each_decision(kit: Kit, therapist: Person) -> None:
    p, finance = kit.platform, kit.finance()
    fund(kit, therapist, 90_000)
    paid = p.withdrawals.request(therapist.actor, 20_000)
    failed = p.withdrawals.request(therapist.actor, 30_000)
    rejected = p.withdrawals.request(therapist.actor, 10_000)
    assert outbox(kit) == []  # the therapist's own request tells nobody
    for made in (paid, failed):
        p.withdrawals.approve(finance.actor, made.id)
    p.withdrawals.reject(finance.actor, rejected.id, "bank account name differs")
    with pytest.raises(Conflict):
        p.withdrawals.approve(finance.actor, rejected.id)  # refused: writes nothing
    payouts = p.payout_gateway
    assert isinstance(payouts, SandboxPayoutGateway)
    payouts.fail(failed.id)
    p.withdrawals.pay(finance.actor, paid.id)
    p.withdrawals.pay(finance.actor, failed.id)
    p.withdrawals.pay(finance.actor, paid.id)  # already paid: nothing new
    money = {Channel.INBOX, Channel.PUSH}
    me = therapist.account_id
    assert set(sent(kit, f"withdrawal:{paid.id}:approved")) == {(me, c) for c in money}
    assert only(kit, f"withdrawal:{paid.id}:paid", me).body == "您的提现 ¥200.00 已打款，实际到账 ¥200.00。"
    assert only(kit, f"withdrawal:{failed.id}:failed", me).body == \
        "您的提现 ¥300.00 打款失败，款项已退回可提现余额。"
    assert only(kit, f"withdrawal:{rejected.id}:rejected", me).body == \
        "您的提现 ¥100.00 未通过：bank account name differs。款项已退回可提现余额。"
    assert sum(keys(kit).values()) == 10


def test_vetting_outcomes_and_an_expiring_certificate_tell_the_therapist(kit: Kit, shop: Shop) -> None:
    from therapist_kit import cert, registration

    p, vetter = kit.platform, kit.support()
    person, rejected = kit.customer_by_phone(), kit.customer_by_phone()
    for who in (person, rejected):
        p.therapists.register(who.actor, who.account_id, **registration(
            shop_like(shop), certificates=[cert("2026-01-30", number="CERT-77")]))
        p.therapists.submit(who.actor, who.account_id)
        p.therapists.start_review(vetter.actor, who.account_id)
    p.therapists.reject(vetter.actor, rejected.account_id, ["certificate photo unreadable"])
    p.therapists.accept_documents(vetter.actor, person.account_id)
    p.therapists.run_background_check(vetter.actor, person.account_id)
    p.therapists.record_skill_test(vetter.actor, person.account_id, score=86, pass_mark=70)
    account = {Channel.INBOX, Channel.EMAIL}
    [approved_key] = [k for k in keys(kit) if k.startswith(f"vetting:{person.account_id}:approved:")]
    assert set(sent(kit, approved_key)) == {(person.account_id, c) for c in account}
    [rejected_key] = [k for k in keys(kit) if k.startswith(f"vetting:{rejected.account_id}:rejected:")]
    assert only(kit, rejected_key, rejected.account_id).body == \
        "您的技师资料未通过审核：certificate photo unreadable。修改后可重新提交。"
    p.jobs.run_due(SYSTEM)  # 5 January: the certificate expires within 30 days
    p.jobs.run_due(SYSTEM)
    [expiring] = [k for k in keys(kit) if k.startswith("certificate:")]
    assert only(kit, expiring, person.account_id).body == \
        "您的证书 CERT-77 将于 2026-01-30 过期，请及时更新，以免认证被暂停。"
    assert sum(keys(kit).values()) == 6  # the rejected profile hears nothing about its certificate


def shop_like(shop: Shop) -> Any:
    """``therapist_kit.registration`` reads ``.service`` of its catalogue: the order kit's tuina."""

    class One:
        service = shop.tuina

    return One()


def test_review_moderation_tells_the_author(kit: Kit, shop: Shop, therapist: Person, customer: Person) -> None:
    p = kit.platform
    order = booked(kit, shop, therapist, customer)
    pay(p, order)
    advance(p, order, therapist.actor, customer.actor, "completed")
    held = p.reviews.submit(customer.actor, order, text="great, add me: 138 0013 8000", attitude=5, skill=4,
                            pressure=3)
    clean_order = booked(kit, shop, therapist, customer, start=START.add(hours=3))
    pay(p, clean_order)
    advance(p, clean_order, therapist.actor, customer.actor, "completed")
    before = len(outbox(kit))
    p.reviews.submit(customer.actor, clean_order, text="very good", attitude=5, skill=5, pressure=5)
    assert len(outbox(kit)) == before  # published at once: the author needs no message
    moderator = kit.superadmin()
    p.reviews.mask(moderator.actor, held.id)
    assert only(kit, f"review:{held.id}:review:published", customer.account_id).body == \
        f"您对订单 {order} 的评价已通过审核。"
    p.reviews.reject(moderator.actor, held.id, "contact details are not allowed")
    assert only(kit, f"review:{held.id}:review:rejected", customer.account_id).body == \
        f"您对订单 {order} 的评价未通过审核：contact details are not allowed。"
    assert set(sent(kit, f"review:{held.id}:review:rejected")) == {(customer.account_id, Channel.INBOX)}


def test_complaint_steps_tell_the_parties_concerned(kit: Kit, shop: Shop, therapist: Person,
                                                    customer: Person) -> None:
    p = kit.platform
    order = booked(kit, shop, therapist, customer)
    pay(p, order)
    advance(p, order, therapist.actor, customer.actor, "completed")
    filed = p.complaints.file(customer.actor, order, "service_quality", "Only 40 of the 60 minutes were given.")
    due = filed.answer_due.in_timezone("Asia/Shanghai").format("YYYY-MM-DD HH:mm")
    key = f"complaint:{filed.id}"
    [k_filed] = [k for k in keys(kit) if k.startswith(f"{key}:open:")]
    assert set(sent(kit, k_filed)) == {(therapist.account_id, c) for c in ORDERS}
    assert only(kit, k_filed, therapist.account_id).body == \
        f"订单 {order} 收到投诉 {filed.id}，请在 {due} 前回复。"
    p.complaints.respond(therapist.actor, filed.id, "I gave the full hour.")
    support = kit.support()
    p.complaints.take(support.actor, filed.id)
    p.complaints.resolve(support.actor, filed.id, "no_action", "Both agree it is settled.")
    states = Counter(k.split(":")[2] for k in keys(kit) if k.startswith(key))
    assert states == {"open": 1, "therapist_responded": 1, "under_mediation": 1, "resolved": 1}
    [k_answered] = [k for k in keys(kit) if k.startswith(f"{key}:therapist_responded:")]
    assert {who for who, _ in sent(kit, k_answered)} == {customer.account_id}
    [k_resolved] = [k for k in keys(kit) if k.startswith(f"{key}:resolved:")]
    assert {who for who, _ in sent(kit, k_resolved)} == {customer.account_id, therapist.account_id}


def test_a_sanction_and_its_appeal_decision_tell_the_therapist(kit: Kit, therapist: Person) -> None:
    p = kit.platform
    root, other = kit.superadmin(), kit.another_superadmin()
    with pytest.raises(ValidationError):  # a deduction above the available balance: refused, nothing written
        p.sanctions.impose(root.actor, therapist.account_id, "deduction", "late twice", amount=5_000)
    assert outbox(kit) == []
    made = p.sanctions.impose(root.actor, therapist.account_id, "warning", "rude to a customer")
    account = {Channel.INBOX, Channel.EMAIL}
    imposed = sent(kit, f"sanction:{made.id}:imposed")
    assert set(imposed) == {(therapist.account_id, c) for c in account}
    assert imposed[(therapist.account_id, Channel.INBOX)].body == "您收到一次警告，原因：rude to a customer。可在 7 天内申诉。"
    p.sanctions.appeal(therapist.actor, made.id, "The customer was rude first.")
    assert sum(keys(kit).values()) == 2  # the appeal itself tells nobody yet
    p.sanctions.decide_appeal(other.actor, made.id, False, "the recording shows otherwise")
    assert only(kit, f"sanction:{made.id}:appeal", therapist.account_id).body == \
        f"您对处罚 {made.id} 的申诉未被支持：the recording shows otherwise。"


def test_every_new_template_has_both_locales_with_the_same_placeholders() -> None:
    from massage_core.domain.templates import TEMPLATES

    for event, by_locale in TEMPLATES.items():
        assert set(by_locale) == {"zh-CN", "en"}, event
        assert by_locale["zh-CN"].fields() == by_locale["en"].fields(), event

