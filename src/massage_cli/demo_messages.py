"""The messages chapter of ``massage demo``: the order chat with a phone number masked before it is stored, a
virtual number to call, a training notice to therapists, and the outbox dispatcher delivering what every step
of the story wrote -- then what Li Na and Chen Jing find in their inboxes.

Rerunnable: the chat is on the order the reviews chapter just completed; the inboxes show the newest items.
"""

from __future__ import annotations

from collections.abc import Callable

from massage_core.bootstrap import Platform
from massage_core.domain.access import Actor
from massage_core.domain.errors import MassageError

SHOWN = 3


def chat_story(platform: Platform, customer: Actor, therapist: Actor, order: str,
               say: Callable[[str, str], None]) -> None:
    """Li Na and Chen Jing chat about the accepted visit; Li Na gets a virtual number to call."""
    chat = platform.chat
    sent = chat.send(customer, order, "谢谢！下次想直接约，我的电话 138 0013 8000")
    chat.send(therapist, order, "不客气～请在平台下单预约，我们不能私下联系哦")
    seen = chat.messages(therapist, order)
    say("chat", f"Li Na writes in the order chat; the screener masks the {', '.join(sent.findings)} before it is "
        f"stored, so Chen Jing reads: '{seen[-2].text}'; {len(seen)} messages, {chat.unread(customer, order)} "
        f"unread for Li Na")
    try:
        number = chat.call_number(customer, order)
        say("call", f"to call, Li Na dials the virtual number {number.number} (bound to this order, released "
            f"when it ends); nobody sees the other's real phone")
    except MassageError as refused:
        say("call", f"no virtual number: {refused}")


def inbox_story(platform: Platform, customer: Actor, therapist: Actor, admin: Actor,
                say: Callable[[str, str], None]) -> None:
    """The platform announces a training; the outbox delivers; what Li Na and Chen Jing find in their inboxes."""
    notice = platform.announcements.send(admin, "新手法培训", "本周六 14:00 线上培训：肩颈放松新手法，请准时参加。",
                                         audience="therapists", kind="training")
    report = platform.notifications.dispatch(Actor.system(), limit=500)
    stats = platform.announcements.stats(admin, notice.id)
    waiting = f"{report.retried} wait for a retry" + (" (e-mail: no SMTP server here; set MASSAGE_SMTP_*)"
                                                      if report.retried else "")
    say("outbox", f"every step above wrote its messages in the same transaction; the dispatcher now delivers "
        f"{report.sent} due ones (in-app inbox, SMS and push sandboxes), {waiting}, {report.dead} dead; the "
        f"training notice reached {stats.delivered} of {stats.targeted} therapist(s)")
    for name, who in (("Li Na", customer), ("Chen Jing", therapist)):
        items = platform.notifications.inbox(who, limit=SHOWN)
        unread = platform.notifications.unread_count(who)
        newest = " | ".join(f"{item.subject}: {item.body}" for item in items)
        say("inbox", f"{name} has {unread} unread; newest: {newest}")
