"""Templates: every event in every locale, exact placeholders, money in yuan, times in the recipient's zone."""

from __future__ import annotations

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from massage_core.domain.errors import ValidationError
from massage_core.domain.money import Money
from massage_core.domain.templates import LOCALES, TEMPLATES, render

NOON_UTC = pendulum.datetime(2026, 11, 25, 12)


def test_every_event_has_every_locale_with_the_same_placeholders() -> None:
    for event, by_locale in TEMPLATES.items():
        assert set(by_locale) == set(LOCALES), event
        assert len({t.fields() for t in by_locale.values()}) == 1, event


def test_chinese_is_the_default_and_values_are_shown_for_the_recipient() -> None:
    values = {"order": "ord_1", "therapist": "李师傅", "start": NOON_UTC}
    assert render("order.accepted", "zh-CN", values).body == "李师傅 已接下订单 ord_1，将于 2026-11-25 20:00 上门。"
    assert render("order.accepted", "fr", values) == render("order.accepted", "zh-CN", values)
    english = render("order.accepted", "en", values, "America/New_York")
    assert english.body == "李师傅 accepted order ord_1 and will arrive at Wed 25 Nov 07:00."
    cancelled = render("order.cancelled", "zh-CN", {"order": "ord_1", "fee": Money(2000), "refund": Money(17_800)})
    assert (cancelled.subject, cancelled.body) == ("订单已取消", "订单 ord_1 已取消，取消费 ¥20.00，退款 ¥178.00。")


@pytest.mark.parametrize(("event", "values", "code"), [
    ("order.unknown", {}, "template.event"),
    ("order.arrived", {"order": "ord_1"}, "template.values"),
    ("order.arrived", {"order": "ord_1", "therapist": "李", "phone": "13800138000"}, "template.values"),
    ("order.arrived", {"order": "ord_1", "therapist": 3.5}, "template.values"),
    ("order.arrived", {"order": "ord_1", "therapist": True}, "template.values"),
    ("order.arrived", {"order": "ord_1", "therapist": "x" * 1001}, "template.values"),
    ("order.arrived", {"order": "ord_1", "therapist": pendulum.naive(2026, 1, 1)}, "time.naive"),
])
def test_a_message_never_goes_out_with_a_hole_or_extra_data(event: str, values: dict[str, object],
                                                             code: str) -> None:
    with pytest.raises(ValidationError) as refused:
        render(event, "zh-CN", values)  # type: ignore[arg-type]
    assert refused.value.code == code


@given(text=st.text(max_size=200))
def test_values_are_shown_verbatim_never_interpreted(text: str) -> None:
    rendered = render("announcement", "en", {"title": "t", "text": text.replace("\r", "").replace("\x00", "")})
    assert rendered.body == text.replace("\r", "").replace("\x00", "")
