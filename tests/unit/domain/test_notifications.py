"""Preferences and quiet hours: inbox always on, safety on every channel, quiet hours in the recipient's zone
(wrapping midnight, across DST), urgent messages never wait."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from massage_core.domain.errors import ValidationError
from massage_core.domain.notifications import (
    DEFAULT_CHANNELS,
    Category,
    Channel,
    Preferences,
    QuietHours,
    Urgency,
)

SHANGHAI = "Asia/Shanghai"
NEW_YORK = "America/New_York"


def at(text: str, zone_name: str = SHANGHAI) -> pendulum.DateTime:
    return pendulum.parse(text, tz=zone_name).in_timezone("UTC")  # type: ignore[union-attr]


def test_defaults_and_choices_keep_the_inbox_and_safety_on_everything() -> None:
    assert Preferences().channels_for(Category.ORDERS) == DEFAULT_CHANNELS[Category.ORDERS]
    chosen = Preferences(channels={"promotions": [], "orders": ["sms"], "safety": []})
    assert chosen.channels_for(Category.PROMOTIONS) == {Channel.INBOX}
    assert chosen.channels_for(Category.ORDERS) == {Channel.INBOX, Channel.SMS}
    assert chosen.channels_for(Category.SAFETY) == set(Channel)
    assert chosen.channels_for(Category.MONEY) == DEFAULT_CHANNELS[Category.MONEY]


@pytest.mark.parametrize("channels", [{"orders": "sms"}, {"nightly": ["sms"]}, {"orders": ["pigeon"]}, ["sms"], 3])
def test_bad_channel_choices_are_refused(channels: object) -> None:
    with pytest.raises(ValidationError) as refused:
        Preferences(channels=channels)  # type: ignore[arg-type]
    assert refused.value.code == "notification.channels"


@pytest.mark.parametrize("text", ["22:00", "22:00-22:00", "25:00-08:00", "late-early", 2200, "22:00-08:00-09:00"])
def test_bad_quiet_hours_are_refused(text: object) -> None:
    with pytest.raises(ValidationError) as refused:
        Preferences(quiet_hours=text)  # type: ignore[arg-type]
    assert refused.value.code == "notification.quiet_hours"


def test_none_means_no_quiet_hours_and_a_bad_zone_is_refused() -> None:
    assert Preferences(quiet_hours=None).deliver_at(at("2026-11-25T23:30"), Urgency.NORMAL) == at("2026-11-25T23:30")
    with pytest.raises(ValidationError) as refused:
        Preferences(zone_name="Mars/Olympus")
    assert refused.value.code == "time.zone"


@pytest.mark.parametrize(("local_now", "expected"), [
    ("2026-11-25T21:59", "2026-11-25T21:59"),   # before the window: at once
    ("2026-11-25T22:00", "2026-11-26T08:00"),   # the window starts: wait for the morning
    ("2026-11-25T23:30", "2026-11-26T08:00"),
    ("2026-11-26T03:00", "2026-11-26T08:00"),   # after midnight: the same morning
    ("2026-11-26T08:00", "2026-11-26T08:00"),   # the window has ended
])
def test_quiet_hours_wrapping_midnight(local_now: str, expected: str) -> None:
    prefs = Preferences(quiet_hours="22:00-08:00", zone_name=SHANGHAI)
    assert prefs.deliver_at(at(local_now), Urgency.NORMAL) == at(expected)
    assert prefs.deliver_at(at(local_now), Urgency.URGENT) == at(local_now)


def test_quiet_hours_inside_one_day() -> None:
    prefs = Preferences(quiet_hours="12:30-14:00", zone_name=SHANGHAI)
    assert prefs.deliver_at(at("2026-11-25T13:00"), Urgency.NORMAL) == at("2026-11-25T14:00")
    assert prefs.deliver_at(at("2026-11-25T11:00"), Urgency.NORMAL) == at("2026-11-25T11:00")


def test_quiet_hours_are_read_in_the_recipients_zone() -> None:
    now = at("2026-11-25T23:00", SHANGHAI)  # 10:00 in New York
    assert Preferences(quiet_hours="22:00-08:00", zone_name=NEW_YORK).deliver_at(now, Urgency.NORMAL) == now
    assert Preferences(quiet_hours="22:00-08:00", zone_name=SHANGHAI).deliver_at(now, Urgency.NORMAL) \
        == at("2026-11-26T08:00", SHANGHAI)


def test_quiet_hours_across_dst_in_new_york() -> None:
    prefs = Preferences(quiet_hours="22:00-02:30", zone_name=NEW_YORK)
    spring = prefs.deliver_at(at("2026-03-07T23:00", NEW_YORK), Urgency.NORMAL)
    assert spring == pendulum.datetime(2026, 3, 8, 7, 30)  # 02:30 does not exist: 03:30 EDT
    autumn = Preferences(quiet_hours="22:00-01:30", zone_name=NEW_YORK)
    assert autumn.deliver_at(at("2026-10-31T23:00", NEW_YORK), Urgency.NORMAL) \
        == pendulum.datetime(2026, 11, 1, 6, 30)  # 01:30 happens twice: the later one (EST)
    assert Preferences(quiet_hours="22:00-08:00", zone_name=NEW_YORK).deliver_at(
        at("2026-03-07T23:00", NEW_YORK), Urgency.NORMAL) == pendulum.datetime(2026, 3, 8, 12, 0)


minutes = st.integers(min_value=0, max_value=24 * 60 - 1)


@given(start=minutes, end=minutes, offset=st.integers(min_value=0, max_value=400 * 24 * 60),
       zone_name=st.sampled_from([SHANGHAI, NEW_YORK, "Europe/London", "Australia/Lord_Howe"]))
def test_a_normal_message_is_never_released_inside_quiet_hours(start: int, end: int, offset: int,
                                                                zone_name: str) -> None:
    if start == end:
        return
    quiet = QuietHours(dt.time(start // 60, start % 60), dt.time(end // 60, end % 60))
    now = pendulum.datetime(2026, 1, 1) + dt.timedelta(minutes=offset)
    released = Preferences(quiet_hours=quiet, zone_name=zone_name).deliver_at(now, Urgency.NORMAL)
    assert now <= released <= now + dt.timedelta(hours=26)
    wall = released.in_timezone(zone_name).time()
    assert not quiet.contains(wall)
    if not quiet.contains(now.in_timezone(zone_name).time()):
        assert released == now
