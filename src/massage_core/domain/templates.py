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
    "withdrawal.decided": {
        "zh-CN": T("提现进度", "您的提现 {amount} {outcome}。"),
        "en": T("Withdrawal update", "Your withdrawal of {amount}: {outcome}."),
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
