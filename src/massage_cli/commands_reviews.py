"""``massage reviews``: the moderation queue -- pending, approve, reject, mask (an admin token with
``reviews.moderate``: support or superadmin; decision 0037).

A review, or with ``--reply`` its reply, that the screener flagged waits in the queue; ``approve`` publishes it
(once the double blind lifts), ``reject`` needs a reason the author sees, ``mask`` replaces parts of the text
by ``*`` -- the given ``--span START:END`` character ranges, or what the screener finds -- and approves it.
Every decision is audited.  Errors exit 1 with ``error [code]``; bad options exit 2.
"""

from __future__ import annotations

from typing import Any

import click

from massage_cli.context import CliContext
from massage_cli.output import emit, emit_one
from massage_core.domain.reviews import ModerationState
from massage_core.services.review_views import ReviewView

COLUMNS = ["id", "waiting", "therapist_id", "customer_id", "order_id", "scores", "text", "findings",
           "submitted_at"]
DECISION = ["id", "part", "state", "reason", "text"]


def _waiting(v: ReviewView) -> str:
    parts = []
    if v.state is ModerationState.PENDING:
        parts.append("review")
    if v.reply is not None and v.reply.state is ModerationState.PENDING:
        parts.append("reply")
    return "+".join(parts)


def pending_row(v: ReviewView) -> dict[str, Any]:
    """One queue line: what waits, and the text (and the reply's, when that waits) with its findings."""
    text, findings = v.text, list(v.findings)
    if v.reply is not None and v.reply.state is ModerationState.PENDING:
        text = f"{text} || reply: {v.reply.text}" if v.state is ModerationState.PENDING else v.reply.text
        findings = (findings if v.state is ModerationState.PENDING else []) + list(v.reply.findings)
    return {"id": v.id, "waiting": _waiting(v), "therapist_id": v.therapist_id, "customer_id": v.customer_id or "",
            "order_id": v.order_id or "", "scores": f"{v.attitude}/{v.skill}/{v.pressure}", "text": text,
            "findings": ",".join(findings), "submitted_at": v.submitted_at.to_iso8601_string()}


def decision_row(v: ReviewView, reply: bool) -> dict[str, Any]:
    if reply and v.reply is not None:
        return {"id": v.id, "part": "reply", "state": v.reply.state.value, "reason": v.reply.reason or "",
                "text": v.reply.text}
    return {"id": v.id, "part": "review", "state": v.state.value, "reason": v.reason or "", "text": v.text}


def _span(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> list[tuple[int, int]] | None:
    if not values:
        return None
    spans = []
    for value in values:
        start, sep, end = value.partition(":")
        if not sep or not start.strip().isdigit() or not end.strip().isdigit():
            raise click.BadParameter(f"{value!r} is not START:END (character offsets, END excluded)")
        spans.append((int(start), int(end)))
    return spans


REPLY = click.option("--reply", is_flag=True, help="Act on the therapist's reply instead of the review.")


@click.group()
def reviews() -> None:
    """Review moderation: the queue, approve, reject, mask."""


@reviews.command("pending")
@click.option("--offset", type=int, default=0)
@click.option("--limit", type=int, default=50)
@click.pass_obj
def pending(obj: CliContext, offset: int, limit: int) -> None:
    """List reviews whose text or reply waits for a moderator, oldest first."""
    found = obj.platform().reviews.queue(obj.actor(), offset=offset, limit=limit)
    emit([pending_row(v) for v in found], COLUMNS, obj.output)


@reviews.command("approve")
@click.argument("review_id")
@REPLY
@click.pass_obj
def approve(obj: CliContext, review_id: str, reply: bool) -> None:
    """Approve a pending review (or its reply)."""
    done = obj.platform().reviews.approve(obj.actor(), review_id, reply=reply)
    emit_one(decision_row(done, reply), obj.output)


@reviews.command("reject")
@click.argument("review_id")
@click.option("--reason", required=True, help="Why (the author sees it; kept in the audit log).")
@REPLY
@click.pass_obj
def reject(obj: CliContext, review_id: str, reason: str, reply: bool) -> None:
    """Reject a pending or approved review (or its reply) with a reason."""
    done = obj.platform().reviews.reject(obj.actor(), review_id, reason, reply=reply)
    emit_one(decision_row(done, reply), obj.output)


@reviews.command("mask")
@click.argument("review_id")
@click.option("--span", "spans", multiple=True, callback=_span, metavar="START:END",
              help="Characters to mask (repeatable); without it, what the screener finds.")
@REPLY
@click.pass_obj
def mask(obj: CliContext, review_id: str, spans: list[tuple[int, int]] | None, reply: bool) -> None:
    """Mask parts of a review's (or its reply's) text with '*' and approve it."""
    done = obj.platform().reviews.mask(obj.actor(), review_id, spans, reply=reply)
    emit_one(decision_row(done, reply), obj.output)
