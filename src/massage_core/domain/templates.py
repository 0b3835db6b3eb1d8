"""Message templates per event and locale (zh-CN by default, en), rendered for one recipient.

A template names its placeholders; rendering demands exactly those values, formats money as yuan and
instants as wall-clock time in the recipient's zone, and refuses anything else -- a message never goes
out with a hole or with data the template did not ask for.  What a value may reveal (a masked phone, a
district instead of the full address) is decided by the caller, who only passes what the recipient may see.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Mapping

from attrs import frozen

from massage_core.domain.errors import ValidationError
from massage_core.domain.money import Money
from massage_core.domain.time import DEFAULT_ZONE, local

LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"
VALUE_MAX = 1000

Value = str | int | Money | dt.datetime


@frozen
class Template:
    """A subject and a body in one locale, with ``{name}`` placeholders."""

    subject: str
    body: str

    def fields(self) -> frozenset[str]:
        """The placeholder names the subject and body use."""
        parser = string.Formatter()
        return frozenset(name for text in (self.subject, self.body)
                         for _, name, _, _ in parser.parse(text) if name)


@frozen
class Rendered:
    """A message ready for a channel."""

    subject: str
    body: str


T = Template
TEMPLATES: Mapping[str, Mapping[str, Template]] = {
    "order.offered": {
        "zh-CN": T("新订单", "新订单 {order}：{service}，{start} 上门，距您约 {distance}。"),
        "en": T("New order", "New order {order}: {service} at {start}, about {distance} from you."),
    },
    "order.accepted": {
        "zh-CN": T("技师已接单", "{therapist} 已接下订单 {order}，将于 {start} 上门。"),
        "en": T("Order accepted", "{therapist} accepted order {order} and will arrive at {start}."),
    },
    "order.rejected": {
        "zh-CN": T("订单未被接受", "订单 {order} 未被技师接受，我们正在为您重新安排。"),
        "en": T("Order not accepted", "Order {order} was not accepted; we are finding another therapist."),
    },
    "order.departed": {
        "zh-CN": T("技师已出发", "{therapist} 已出发，预计 {eta} 到达。"),
        "en": T("On the way", "{therapist} has set off and should arrive at {eta}."),
    },
    "order.arrived": {
        "zh-CN": T("技师已到达", "{therapist} 已到达，请开门。订单 {order}。"),
        "en": T("Therapist arrived", "{therapist} has arrived for order {order}."),
    },
    "order.finished": {
        "zh-CN": T("服务已完成", "订单 {order} 已完成，欢迎评价本次服务。"),
        "en": T("Service finished", "Order {order} is finished; we would love your review."),
    },
    "order.cancelled": {
        "zh-CN": T("订单已取消", "订单 {order} 已取消，取消费 {fee}，退款 {refund}。"),
        "en": T("Order cancelled", "Order {order} was cancelled; fee {fee}, refund {refund}."),
    },
    "order.refunded": {
        "zh-CN": T("退款成功", "订单 {order} 已退款 {amount}，将原路返回。"),
        "en": T("Refunded", "{amount} was refunded for order {order} to your original payment method."),
    },
    "order.payment_expiring": {
        "zh-CN": T("订单即将失效", "订单 {order} 尚未支付，请在 {deadline} 前完成支付。"),
        "en": T("Payment due", "Order {order} is unpaid; please pay before {deadline}."),
    },
    "order.reminder": {
        "zh-CN": T("服务提醒", "订单 {order} 将于 {start} 开始（{service}）。"),
        "en": T("Reminder", "Order {order} starts at {start} ({service})."),
    },
    "chat.message": {
        "zh-CN": T("新消息", "订单 {order} 有新的聊天消息，请打开应用查看。"),
        "en": T("New message", "You have a new chat message about order {order}; open the app to read it."),
    },
    "order.no_show": {
        "zh-CN": T("订单已按爽约处理", "订单 {order} 已按爽约处理，扣费 {fee}，退款 {refund}。"),
        "en": T("No-show recorded", "Order {order} was closed as a no-show; fee {fee}, refund {refund}."),
    },
    "withdrawal.approved": {
        "zh-CN": T("提现已批准", "您的提现 {amount} 已批准，将尽快打款。"),
        "en": T("Withdrawal approved", "Your withdrawal of {amount} was approved and will be paid out soon."),
    },
    "withdrawal.paid": {
        "zh-CN": T("提现已到账", "您的提现 {amount} 已打款，实际到账 {net}。"),
        "en": T("Withdrawal paid", "Your withdrawal of {amount} was paid out; {net} was sent to you."),
    },
    "withdrawal.failed": {
        "zh-CN": T("提现打款失败", "您的提现 {amount} 打款失败，款项已退回可提现余额。"),
        "en": T("Withdrawal failed", "The payout of your withdrawal of {amount} failed; the money is back in "
                                     "your available balance."),
    },
    "withdrawal.rejected": {
        "zh-CN": T("提现未通过", "您的提现 {amount} 未通过：{reason}。款项已退回可提现余额。"),
        "en": T("Withdrawal rejected", "Your withdrawal of {amount} was rejected: {reason}. The money is back in "
                                       "your available balance."),
    },
    "vetting.approved": {
        "zh-CN": T("审核通过", "恭喜，您的技师资料已审核通过，现在可以接单了。"),
        "en": T("You are approved", "Congratulations: your therapist profile was approved; you can take orders now."),
    },
    "vetting.rejected": {
        "zh-CN": T("审核未通过", "您的技师资料未通过审核：{reasons}。修改后可重新提交。"),
        "en": T("Not approved", "Your therapist profile was not approved: {reasons}. You may correct it and "
                                "submit again."),
    },
    "certificate.expiring": {
        "zh-CN": T("证书即将过期", "您的证书 {certificate} 将于 {expires_on} 过期，请及时更新，以免认证被暂停。"),
        "en": T("Certificate expiring", "Your certificate {certificate} expires on {expires_on}; renew it to keep "
                                        "your badge."),
    },
    "review.published": {
        "zh-CN": T("评价已发布", "您对订单 {order} 的评价已通过审核。"),
        "en": T("Review published", "Your review of order {order} passed moderation."),
    },
    "review.rejected": {
        "zh-CN": T("评价未通过审核", "您对订单 {order} 的评价未通过审核：{reason}。"),
        "en": T("Review rejected", "Your review of order {order} was rejected: {reason}."),
    },
    "reply.published": {
        "zh-CN": T("回复已发布", "您对订单 {order} 评价的回复已通过审核。"),
        "en": T("Reply published", "Your reply to the review of order {order} passed moderation."),
    },
    "reply.rejected": {
        "zh-CN": T("回复未通过审核", "您对订单 {order} 评价的回复未通过审核：{reason}。"),
        "en": T("Reply rejected", "Your reply to the review of order {order} was rejected: {reason}."),
    },
    "complaint.filed": {
        "zh-CN": T("您收到一条投诉", "订单 {order} 收到投诉 {complaint}，请在 {due} 前回复。"),
        "en": T("A complaint about you", "Complaint {complaint} about order {order}: please answer before {due}."),
    },
    "complaint.answered": {
        "zh-CN": T("投诉已回复", "技师已回复您的投诉 {complaint}（订单 {order}）。"),
        "en": T("Complaint answered", "The therapist answered your complaint {complaint} about order {order}."),
    },
    "complaint.mediation": {
        "zh-CN": T("投诉进入调解", "投诉 {complaint}（订单 {order}）已由平台介入调解。"),
        "en": T("Complaint in mediation", "Complaint {complaint} about order {order} is now mediated by the "
                                          "platform."),
    },
    "complaint.resolved": {
        "zh-CN": T("投诉已处理", "投诉 {complaint}（订单 {order}）已处理完毕，请在投诉详情中查看结果。"),
        "en": T("Complaint resolved", "Complaint {complaint} about order {order} was resolved; see its details "
                                      "for the outcome."),
    },
    "complaint.withdrawn": {
        "zh-CN": T("投诉已撤回", "顾客已撤回投诉 {complaint}（订单 {order}）。"),
        "en": T("Complaint withdrawn", "The customer withdrew complaint {complaint} about order {order}."),
    },
    "sanction.deduction": {
        "zh-CN": T("处罚通知", "您被扣款 {amount}，原因：{reason}。可在 {days} 天内申诉。"),
        "en": T("Penalty", "A deduction of {amount} was imposed on you: {reason}. You may appeal within {days} "
                           "days."),
    },
    "sanction.warning": {
        "zh-CN": T("警告通知", "您收到一次警告，原因：{reason}。可在 {days} 天内申诉。"),
        "en": T("Warning", "You received a warning: {reason}. You may appeal within {days} days."),
    },
    "sanction.suspension": {
        "zh-CN": T("停单通知", "您的接单资格已被暂停，原因：{reason}。可在 {days} 天内申诉。"),
        "en": T("Suspension", "You are suspended from taking orders: {reason}. You may appeal within {days} days."),
    },
    "appeal.upheld": {
        "zh-CN": T("申诉成功", "您对处罚 {sanction} 的申诉已被支持，处罚已撤销。"),
        "en": T("Appeal upheld", "Your appeal against {sanction} was upheld; the sanction is reversed."),
    },
    "appeal.rejected": {
        "zh-CN": T("申诉未通过", "您对处罚 {sanction} 的申诉未被支持：{reason}。"),
        "en": T("Appeal rejected", "Your appeal against {sanction} was rejected: {reason}."),
    },
    "announcement": {
        "zh-CN": T("{title}", "{text}"),
        "en": T("{title}", "{text}"),
    },
    "sos.alert": {
        "zh-CN": T("紧急求助", "订单 {order} 于 {at} 发出紧急求助，请立即处理。"),
        "en": T("SOS", "Order {order} raised an SOS at {at}; act now."),
    },
}
"""Every template, by event type then locale; every event has every locale (a test checks)."""


def _format(value: object, zone_name: str, locale: str) -> str:
    if isinstance(value, Money):
        return str(value)
    if isinstance(value, dt.datetime):
        shown = local(value, zone_name)
        return shown.format("YYYY-MM-DD HH:mm") if locale == "zh-CN" else shown.format("ddd D MMM HH:mm", "en")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValidationError(f"a template value cannot be a {type(value).__name__}", code="template.values")
    text = str(value)
    if len(text) > VALUE_MAX or any(ch in text for ch in "\r\x00"):
        raise ValidationError(f"template values are texts of at most {VALUE_MAX} characters", code="template.values")
    return text


def render(event: str, locale: str, values: Mapping[str, Value], zone_name: str = DEFAULT_ZONE) -> Rendered:
    """Render ``event`` in ``locale`` (unknown locales fall back to zh-CN) for a recipient in ``zone_name``.

    Raises ValidationError ``template.event`` for an unknown event, ``template.values`` when the values are
    not exactly the template's placeholders or one cannot be shown, ``time.zone`` for an unknown zone.
    """
    by_locale = TEMPLATES.get(event) if isinstance(event, str) else None
    if by_locale is None:
        raise ValidationError(f"no template for event {event!r}", code="template.event")
    locale = locale if locale in LOCALES else DEFAULT_LOCALE
    template = by_locale[locale]
    wanted = template.fields()
    if not isinstance(values, Mapping) or set(values) != wanted:
        raise ValidationError(f"{event} needs exactly {sorted(wanted)}", code="template.values")
    shown = {name: _format(value, zone_name, locale) for name, value in values.items()}
    return Rendered(template.subject.format_map(shown), template.body.format_map(shown))
