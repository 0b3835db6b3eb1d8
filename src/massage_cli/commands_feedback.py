"""``massage feedback``: feedback, suggestions and bug reports to the platform -- list and reply (an admin token
with ``feedback.manage``: support or superadmin; decision 0038).  Accounts submit through the embedding app
(``platform.feedback.submit``) and read the replies there."""

from __future__ import annotations

from typing import Any

import click

from massage_cli.context import CliContext
from massage_cli.output import emit, emit_one
from massage_core.domain.feedback import FeedbackState
from massage_core.services.feedback import FeedbackView

COLUMNS = ["id", "kind", "state", "author_id", "submitted_at", "text", "replies", "last_reply"]


def feedback_row(v: FeedbackView) -> dict[str, Any]:
    return {"id": v.id, "kind": v.kind.value, "state": v.state.value, "author_id": v.author_id,
            "submitted_at": v.submitted_at, "text": v.text, "replies": len(v.replies),
            "last_reply": v.replies[-1].text if v.replies else ""}


@click.group()
def feedback() -> None:
    """Feedback and suggestions to the platform: the queue and replies."""


@feedback.command("list")
@click.option("--state", type=click.Choice([s.value for s in FeedbackState]), default=None,
              help="Only items in this state (default: all).")
@click.option("--offset", type=int, default=0)
@click.option("--limit", type=int, default=50)
@click.pass_obj
def list_feedback(obj: CliContext, state: str | None, offset: int, limit: int) -> None:
    """List feedback, oldest first."""
    page = obj.platform().feedback.list(obj.actor(), state, offset=offset, limit=limit)
    emit([feedback_row(v) for v in page.items], COLUMNS, obj.output)


@feedback.command("reply")
@click.argument("feedback_id")
@click.option("--text", "text", required=True, help="The reply the author will read.")
@click.pass_obj
def reply(obj: CliContext, feedback_id: str, text: str) -> None:
    """Reply to a feedback item; it is then answered."""
    view = obj.platform().feedback.reply(obj.actor(), feedback_id, text)
    emit_one(feedback_row(view), obj.output)
