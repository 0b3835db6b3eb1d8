"""``massage announcements``: announcements and training notices to customers and therapists (decision 0044).

Every command needs a token with ``announcements.manage`` (support, superadmin).  ``send`` resolves the
audience at once and writes the messages to the outbox (``massage outbox run`` delivers them); ``stats``
shows how many were targeted, got the in-app message and read it, and with ``--not-read`` who has not read it.
"""

from __future__ import annotations

import click

from massage_cli.context import CliContext
from massage_cli.output import emit, emit_one
from massage_core.domain.announcements import Announcement

COLUMNS = ["id", "kind", "title", "audience", "city", "levels", "targeted", "sent_at", "sent_by"]


def _row(a: Announcement) -> dict[str, object]:
    return {"id": a.id, "kind": a.kind.value, "title": a.title, "audience": a.audience.value, "city": a.city or "",
            "levels": ",".join(sorted(a.levels)), "targeted": a.targeted, "sent_at": a.sent_at,
            "sent_by": a.sent_by}


@click.group()
def announcements() -> None:
    """Announcements and training notices, with read receipts."""


@announcements.command("send")
@click.option("--title", required=True, help="One line, at most 100 characters.")
@click.option("--text", required=True, help="At most 2000 characters.")
@click.option("--audience", type=click.Choice(["customers", "therapists", "both"]), default="both",
              show_default=True)
@click.option("--kind", type=click.Choice(["announcement", "training"]), default="announcement", show_default=True)
@click.option("--city", default=None, help="Only therapists whose service area is centred in this city.")
@click.option("--level", "levels", multiple=True, help="Only therapists of this level (repeatable).")
@click.pass_obj
def send(obj: CliContext, title: str, text: str, audience: str, kind: str, city: str | None,
         levels: tuple[str, ...]) -> None:
    """Send an announcement now (audited); prints it with the number of recipients."""
    sent = obj.platform().announcements.send(obj.actor(), title, text, audience=audience, kind=kind, city=city,
                                             levels=levels or None)
    emit_one({**_row(sent), "text": sent.text}, obj.output)


@announcements.command("list")
@click.option("--offset", type=int, default=0)
@click.option("--limit", type=int, default=50)
@click.pass_obj
def list_announcements(obj: CliContext, offset: int, limit: int) -> None:
    """List announcements, newest first."""
    found = obj.platform().announcements.list(obj.actor(), offset=offset, limit=limit)
    emit([_row(a) for a in found], COLUMNS, obj.output)


@announcements.command("stats")
@click.argument("announcement")
@click.option("--not-read", "not_read", is_flag=True, help="List the recipients who have not read it instead.")
@click.option("--offset", type=int, default=0)
@click.option("--limit", type=int, default=50)
@click.pass_obj
def stats(obj: CliContext, announcement: str, not_read: bool, offset: int, limit: int) -> None:
    """Targeted, delivered (in-app) and read counts of ANNOUNCEMENT, or who has not read it."""
    service, actor = obj.platform().announcements, obj.actor()
    if not_read:
        found = service.not_read(actor, announcement, offset=offset, limit=limit)
        emit([{"account": who} for who in found], ["account"], obj.output)
        return
    counted = service.stats(actor, announcement)
    emit_one({"id": counted.announcement_id, "targeted": counted.targeted, "delivered": counted.delivered,
              "read": counted.read, "unread": counted.unread}, obj.output)
